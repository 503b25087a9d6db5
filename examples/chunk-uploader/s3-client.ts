import { S3Client } from '@aws-sdk/client-s3';

/**
 * An S3 client for a local S3-compatible endpoint: path-style URLs, dummy credentials, and the
 * SDK's own retries off (`maxAttempts: 1`), so faultline's retry is the only one deciding.
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
