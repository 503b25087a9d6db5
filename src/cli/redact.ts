/**
 * The CLI scrubs everything it prints through the shared credential helpers
 * (src/config/redact.ts), so a Redis URL's password never reaches a terminal or a log.
 */
export { passwordOf, redactCredentials as redact } from '../config/redact.js';
