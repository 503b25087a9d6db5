import type * as OtelApi from '@opentelemetry/api';
import { loadPeer } from '../../peers/optional-peer.js';

let api: typeof OtelApi | undefined;

/**
 * `@opentelemetry/api`, loaded on first use through the one loader of optional peers: importing
 * `faultline/otel` loads nothing, and using it without the package installed throws
 * MissingPeerError naming the package and its `npm install`, as every entry point with a driver
 * does. The rest of `otel/` takes the API's values from here and only its types from the package.
 */
export function otelApi(): typeof OtelApi {
  api ??= loadPeer<typeof OtelApi>('@opentelemetry/api');
  return api;
}
