import type { Jitter } from '../recovery/backoff.js';

/**
 * Every `FAULTLINE_*` variable `fromEnv()` reads, declared once (name, default, meaning);
 * `.env.example` and docs/configuration.md list the same table, and a test keeps them in step.
 */

/** How a variable's text is read. */
export type EnvVariableKind =
  | 'count'
  | 'positiveCount'
  | 'ms'
  | 'positiveMs'
  | 'jitter'
  | 'store'
  | 'logLevel'
  | 'queue'
  | 'secret';

export interface EnvVariable {
  readonly name: string;
  /** The default as written in `.env.example`; `undefined` = unset means "no limit". */
  readonly default: string | undefined;
  readonly kind: EnvVariableKind;
  readonly description: string;
}

export const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every variable `fromEnv()` reads, in the order of `.env.example`. */
export const ENV_VARIABLES: readonly EnvVariable[] = [
  {
    name: 'FAULTLINE_RETRY_MAX_ATTEMPTS',
    default: '5',
    kind: 'positiveCount',
    description: "Attempts in all, the first included (retry() and the worker's plan).",
  },
  {
    name: 'FAULTLINE_RETRY_BASE_DELAY_MS',
    default: '1000',
    kind: 'ms',
    description: 'First retry delay before jitter; doubles per retry.',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_DELAY_MS',
    default: '30000',
    kind: 'ms',
    description: 'Cap of one retry delay.',
  },
  {
    name: 'FAULTLINE_RETRY_JITTER',
    default: 'full',
    kind: 'jitter',
    description: 'none, full, equal or decorrelated.',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_ELAPSED_MS',
    default: undefined,
    kind: 'positiveMs',
    description:
      'Give up once this much time has passed since the first attempt (unset: no limit).',
  },
  {
    name: 'FAULTLINE_RETRY_MAX_RETRY_AFTER_MS',
    default: '300000',
    kind: 'ms',
    description: "Give up rather than wait longer than this for a server's Retry-After.",
  },
  {
    name: 'FAULTLINE_BREAKER_FAILURE_THRESHOLD',
    default: '5',
    kind: 'positiveCount',
    description: 'Consecutive failures that open the circuit.',
  },
  {
    name: 'FAULTLINE_BREAKER_OPEN_MS',
    default: '30000',
    kind: 'positiveMs',
    description: 'How long the circuit stays open before a half-open probe.',
  },
  {
    name: 'FAULTLINE_BREAKER_HALF_OPEN_PROBES',
    default: '1',
    kind: 'positiveCount',
    description: 'Calls let through at once while half-open.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILURE_THRESHOLD',
    default: '3',
    kind: 'positiveCount',
    description: 'Consecutive failed checks that enter failing mode.',
  },
  {
    name: 'FAULTLINE_HEALTH_STABILITY_THRESHOLD',
    default: '5',
    kind: 'positiveCount',
    description: 'Consecutive good checks that leave failing mode.',
  },
  {
    name: 'FAULTLINE_HEALTH_INTERVAL_MS',
    default: '10000',
    kind: 'positiveMs',
    description: 'Check interval while healthy.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILING_BACKOFF_MS',
    default: '10000',
    kind: 'positiveMs',
    description: 'First check delay while failing; doubles per check.',
  },
  {
    name: 'FAULTLINE_HEALTH_FAILING_MAX_MS',
    default: '300000',
    kind: 'positiveMs',
    description: 'Cap of the check delay while failing.',
  },
  {
    name: 'FAULTLINE_WORKER_CONCURRENCY',
    default: '10',
    kind: 'positiveCount',
    description: 'Jobs a worker runs at once.',
  },
  {
    name: 'FAULTLINE_WORKER_LEASE_MS',
    default: '4000',
    kind: 'positiveMs',
    description: "Lease of a claimed job; a dead worker's jobs return after it.",
  },
  {
    name: 'FAULTLINE_WORKER_STOP_DEADLINE_MS',
    default: '10000',
    kind: 'ms',
    description: 'How long stop() waits for running jobs before aborting them.',
  },
  {
    name: 'FAULTLINE_STORE',
    default: 'sqlite:./faultline.db',
    kind: 'store',
    description:
      'sqlite:PATH, redis://[user:password@]host:port[/db], postgres://[user:password@]host:port/database or memory.',
  },
  {
    name: 'FAULTLINE_QUEUE',
    default: 'default',
    kind: 'queue',
    description: 'Queue name used when none is given.',
  },
  {
    name: 'FAULTLINE_LOG_LEVEL',
    default: 'info',
    kind: 'logLevel',
    description: 'trace, debug, info, warn, error, fatal or silent.',
  },
  {
    name: 'FAULTLINE_DASHBOARD_TOKEN',
    default: undefined,
    kind: 'secret',
    description:
      'Access token of `faultline dashboard` (16+ characters); needed to listen beyond 127.0.0.1. Never printed.',
  },
];

/** Where durable state lives, parsed from `sqlite:PATH`, `redis://...` or `memory`. */
