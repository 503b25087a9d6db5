import type { Classifier, FaultCategory, FaultHint } from '../fault.js';
import { isObject } from '../read.js';

/**
 * The last resort: many SDKs throw a plain `Error` whose only clue is its text ("Quota exceeded
 * for quota metric ...", "Request timed out", "socket hang up"). This classifier reads the
 * message for well-known phrases. It runs only after every other classifier, on the error and
 * on its causes, found nothing, so a status, an errno or an AWS name always wins over words.
 * Turn it off with `createClassifier({ messages: false })`.
 */

/** Phrase → category, in order: the first phrase found decides. Lower case; matched on words. */
export const MESSAGE_PHRASES: readonly (readonly [RegExp, FaultCategory])[] = Object.freeze([
  [/\bquota (?:exceeded|exhausted)\b|\bexceeded (?:your |the )?quota\b/, 'rate_limit'],
  [
    /\brate[ -]?limit(?:ed|s)?\b|\btoo many requests\b|\bthrottl(?:ed|ing)\b|\bslow down\b/,
    'rate_limit',
  ],
  [
    /\bunauthori[sz]ed\b|\bauthentication (?:failed|required)\b|\binvalid (?:api[ _-]?key|credentials|token)\b|\b(?:token|credentials) (?:has )?expired\b/,
    'auth',
  ],
  [/\bforbidden\b|\bpermission denied\b|\baccess denied\b/, 'permanent'],
  [/\btimed? ?out\b|\btimeout\b|\bdeadline exceeded\b/, 'timeout'],
  [
    /\bconnection (?:reset|refused|closed|aborted)\b|\bsocket hang up\b|\bnetwork (?:error|is unreachable)\b|\bdns\b|\bname resolution\b/,
    'network',
  ],
  [
    /\bservice unavailable\b|\btemporarily unavailable\b|\bbad gateway\b|\bserver is overloaded\b|\btry again later\b/,
    'unavailable',
  ],
  [/\bnot found\b|\bdoes not exist\b|\bno such\b/, 'permanent'],
  [/\bno space left\b|\bdisk (?:is )?full\b|\bout of memory\b/, 'resource'],
] as const);

/** Messages longer than this are read only up to it (a hostile message must not cost time). */
const MAX_MESSAGE_LENGTH = 2_000;

/** The category of a message by its phrases, or undefined. */
export function categoryOfMessage(message: string): FaultCategory | undefined {
  const text = message.slice(0, MAX_MESSAGE_LENGTH).toLowerCase();
  for (const [phrase, category] of MESSAGE_PHRASES) if (phrase.test(text)) return category;
  return undefined;
}

export const messageClassifier: Classifier = {
  name: 'message',
  classify(error): FaultHint | undefined {
    const message =
      typeof error === 'string'
        ? error
        : isObject(error) && typeof error.message === 'string'
          ? error.message
          : undefined;
    if (message === undefined || message === '') return undefined;
    const category = categoryOfMessage(message);
    if (category === undefined) return undefined;
    const code = isObject(error) && typeof error.code === 'string' ? error.code : undefined;
    return code === undefined ? { category } : { category, code };
  },
};
