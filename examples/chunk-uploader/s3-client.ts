import { S3Client } from '@aws-sdk/client-s3';

/**
 * The uploader's S3 client. By default it is the AWS SDK's own: credentials and region come from
 * the SDK's default chains (environment, shared config and credentials files, SSO, container and
 * instance roles), so it points at real S3 — or at MinIO or another S3-compatible service with
 * `endpoint` (and `pathStyle`, which most of them want). The SDK's own retries are off
 * (`maxAttempts: 1`): faultline's retry is the only layer deciding.
 */
export function s3Client(
  options: { readonly endpoint?: string; readonly pathStyle?: boolean } = {},
): S3Client {
  return new S3Client({
    maxAttempts: 1,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.pathStyle ? { forcePathStyle: true } : {}),
  });
}

/**
 * A client for a local s3rver (`--local`, and the tests): its fixed dummy credentials, path-style
 * URLs and us-east-1. Never used unless asked for.
 */
export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 1,
  });
}
