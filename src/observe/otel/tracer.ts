import type { TextMapPropagator, Tracer, TracerProvider } from '@opentelemetry/api';
import { otelApi } from './api.js';
import * as check from '../../validate/validate.js';
import { ConfigError } from '../../faults/errors.js';

export interface TracingOptions {
  /**
   * The tracer to use.
   * @defaultValue `tracerProvider.getTracer('faultline')`
   */
  readonly tracer?: Tracer;
  /**
   * Where the tracer comes from.
   * @defaultValue the global provider, i.e. whatever the SDK registered
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * How context goes into and out of job headers.
   * @defaultValue the global propagator
   */
  readonly propagator?: TextMapPropagator;
}

export const INSTRUMENTATION_NAME = 'faultline';

/** Checks the options (unknown keys are refused, naming them) and returns the tracer to use. */
export function resolveTracer(
  what: string,
  options: TracingOptions,
  allowed: readonly string[],
): Tracer {
  check.knownKeys(what, check.plainObject(what, options), [
    'tracer',
    'tracerProvider',
    'propagator',
    ...allowed,
  ]);
  if (options.propagator !== undefined && typeof options.propagator.inject !== 'function') {
    throw new ConfigError('propagator', options.propagator, 'an OpenTelemetry TextMapPropagator');
  }
  if (options.tracer !== undefined) {
    if (typeof options.tracer.startSpan !== 'function')
      throw new ConfigError('tracer', options.tracer, 'an OpenTelemetry Tracer');
    return options.tracer;
  }
  const provider = options.tracerProvider ?? otelApi().trace.getTracerProvider();
  if (typeof provider.getTracer !== 'function')
    throw new ConfigError('tracerProvider', provider, 'an OpenTelemetry TracerProvider');
  return provider.getTracer(INSTRUMENTATION_NAME);
}
