import type { Classifier, FaultCategory, FaultHint } from '../fault.js';
import { isObject } from '../read.js';
import { retryAfterFromHeaders } from '../retry-after.js';
import { categoryOfStatus } from './http.js';

const NAMES: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ...(
    [
      'Throttling',
      'ThrottlingException',
      'ThrottledException',
      'TooManyRequestsException',
      'RequestLimitExceeded',
      'RequestThrottled',
      'RequestThrottledException',
      'SlowDown',
      'ProvisionedThroughputExceededException',
      'BandwidthLimitExceeded',
      'LimitExceededException',
      'TransactionInProgressException',
    ] as const
  ).map((n) => [n, 'rate_limit'] as const),
  ...(
    [
      'ExpiredToken',
      'ExpiredTokenException',
      'InvalidAccessKeyId',
      'SignatureDoesNotMatch',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'InvalidToken',
      'AccessDeniedException',
      'CredentialsProviderError',
    ] as const
  ).map((n) => [n, 'auth'] as const),
  ...(
    [
      'NoSuchKey',
      'NoSuchBucket',
      'NoSuchUpload',
      'NotFound',
      'ResourceNotFoundException',
      'AccessDenied',
    ] as const
  ).map((n) => [n, 'permanent'] as const),
  ...(
    [
      'ValidationException',
      'InvalidParameterValue',
      'MalformedXML',
      'EntityTooLarge',
      'InvalidRequest',
    ] as const
  ).map((n) => [n, 'validation'] as const),
  ...(['RequestTimeout', 'RequestTimeoutException', 'TimeoutError'] as const).map(
    (n) => [n, 'timeout'] as const,
  ),
  ...(
    [
      'InternalError',
      'InternalFailure',
      'ServiceUnavailable',
      'ServiceUnavailableException',
      'InternalServerError',
    ] as const
  ).map((n) => [n, 'unavailable'] as const),
  ['ConditionalCheckFailedException', 'conflict'],
  ['OperationAborted', 'conflict'],
]);

/**
 * AWS SDK v3 service exceptions: a `name`, `$fault` ('client' | 'server'), `$metadata` with
 * the HTTP status, and `$retryable` (with `throttling`) when the SDK deems it retryable.
 */
export const awsClassifier: Classifier = {
  name: 'aws',
  classify(error, context): FaultHint | undefined {
    if (!isObject(error)) return undefined;
    const metadata = error.$metadata;
    if (!isObject(metadata) && error.$fault === undefined) return undefined;
    const name = typeof error.name === 'string' ? error.name : undefined;
    const code = isObject(metadata) ? metadata.httpStatusCode : undefined;
    const status =
      typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599
        ? code
        : undefined;
    const retryable = error.$retryable;
    let category = name === undefined ? undefined : NAMES.get(name);
    if (category === undefined && isObject(retryable))
      category = retryable.throttling === true ? 'rate_limit' : 'unavailable';
    if (category === undefined && status !== undefined) category = categoryOfStatus(status);
    if (category === undefined && error.$fault === 'server') category = 'unavailable';
    if (category === undefined) return undefined;
    const response = error.$response;
    const retryAfterMs = isObject(response)
      ? retryAfterFromHeaders(response.headers, context)
      : undefined;
    return {
      category,
      ...(name === undefined ? {} : { code: name }),
      ...(status === undefined ? {} : { status }),
      ...(isObject(retryable) ? { retryable: true } : {}),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  },
};
