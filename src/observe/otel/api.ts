import type * as OtelApi from '@opentelemetry/api';
import { loadPeer } from '../../peers/optional-peer.js';

/**
 * `@opentelemetry/api`, loaded when `faultline/otel` is first imported, through the one loader
 * of optional peers: without it the import fails with MissingPeerError naming the package and
 * its `npm install`, as every other entry point with a driver does. The rest of `otel/` takes the
 * API's values from here and only its types from the package.
 */
const api = loadPeer<typeof OtelApi>('@opentelemetry/api');

export const {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} = api;
