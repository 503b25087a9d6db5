import { type ChildProcess, spawn } from 'node:child_process';
import { ConfigError } from '../../src/faults/errors.js';

/**
 * What the screen shows. The default prints each line. With a player command (the system runs
 * `ffplay -fs -loop 1 <API_FAIL_IMAGE_PATH>`), entering failure mode starts the player on the
 * fallback image and leaving it stops the player; the lines are still printed.
 */
export interface Display {
  line(text: string): void;
  /** Failure mode began: show the fallback image. */
  showFallback(): void;
  /** Failure mode ended: take the fallback image down. */
  hideFallback(): void;
  close(): Promise<void>;
}

export function printDisplay(write: (line: string) => void = (line) => console.log(line)): Display {
  return { line: write, showFallback() {}, hideFallback() {}, close: async () => {} };
}

/**
 * Splits a command template into arguments, honouring single and double quotes, and puts the
 * image path in place of `{image}`. The command is run without a shell: a path with spaces or
 * shell characters stays one argument and is never interpreted.
 */
export function playerArgs(template: string, imagePath: string): string[] {
  const args: string[] = [];
  let current = '';
  let quote: '"' | "'" | undefined;
  let started = false;
  for (const char of template) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      started = true;
    } else if (/\s/.test(char)) {
      if (started || current !== '') args.push(current);
      current = '';
      started = false;
    } else {
      current += char;
    }
  }
  if (quote !== undefined)
    throw new ConfigError('--player', template, 'a command with balanced quotes');
  if (started || current !== '') args.push(current);
  if (args.length === 0)
    throw new ConfigError('--player', template, 'a command, e.g. "ffplay -fs -loop 1 {image}"');
  if (!args.some((a) => a.includes('{image}')))
    throw new ConfigError(
      '--player',
      template,
      'a command naming {image}, where the fallback image goes',
    );
  return args.map((a) => a.replaceAll('{image}', imagePath));
}

export function playerDisplay(
  template: string,
  imagePath: string | undefined,
  write: (line: string) => void = (line) => console.log(line),
): Display {
  if (imagePath === undefined)
    throw new ConfigError(
      'API_FAIL_IMAGE_PATH',
      imagePath,
      'the fallback image path the player shows (required with --player)',
    );
  const [command, ...args] = playerArgs(template, imagePath);
  let player: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = () => {
    const running = player;
    player = undefined;
    if (running !== undefined && running.exitCode === null && running.signalCode === null)
      running.kill('SIGTERM');
    return exited;
  };
  return {
    line: write,
    showFallback() {
      if (player !== undefined) return;
      write(`▶ ${[command, ...args].join(' ')}`);
      const child = spawn(command!, args, { stdio: 'ignore' });
      child.on('error', (error) => write(`! player could not start: ${error.message}`));
      exited = new Promise((resolve) => child.once('close', () => resolve()));
      player = child;
    },
    hideFallback() {
      if (player !== undefined) write('■ fallback image taken down');
      void stop();
    },
    close: stop,
  };
}
