export type { Classifier, ClassifyContext, Fault, FaultCategory, FaultHint } from './fault.js';
export { FAULT_CATEGORIES, isFaultCategory, isRetryableByDefault } from './fault.js';
export {
  builtinClassifiers,
  classify,
  createClassifier,
  isFault,
  lastResortClassifiers,
} from './classify.js';
export { categoryOfMessage, MESSAGE_PHRASES, messageClassifier } from './classifiers/message.js';
export type { ClassifierOptions, ClassifyFunction } from './classify.js';
export type { CauseJson, FaultJson } from './fault-json.js';
export {
  BrokenCircuitError,
  BulkheadRejectedError,
  ConfigError,
  FaultlineError,
  MissingPeerError,
  RateLimitedError,
  RetriesExhaustedError,
  TimeoutError,
} from './errors.js';
export { parseRetryAfter, retryAfterFromHeaders } from './retry-after.js';
export type { WallTime } from './retry-after.js';
export { quotaExhausted, rateLimitResetFromHeaders } from './rate-limit-reset.js';
export { suggestionsFor } from './suggestions.js';
export { categoryOfStatus } from './classifiers/http.js';
