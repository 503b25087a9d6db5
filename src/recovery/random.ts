/** A source of numbers in [0, 1). `Math.random` by default; seeded in tests. */
export type RandomSource = () => number;

/**
 * A small, fast, seeded generator (mulberry32). Good enough for jitter and for fault
 * injection in tests; not for anything secret.
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
