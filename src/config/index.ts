export {
  ENV_VARIABLES,
  EnvConfigError,
  fromEnv,
  LOG_LEVELS,
  parseStoreLocation,
  redactUrl,
} from './env.js';
export type {
  EnvProblem,
  EnvVariable,
  EnvVariableKind,
  FromEnvOptions,
  FaultlineEnv,
  LogLevel,
  StoreLocation,
} from './env.js';
