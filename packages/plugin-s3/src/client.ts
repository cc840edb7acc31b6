import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { ResolvedS3Options } from './options.js';
import { s3Sdk } from './sdk.js';

/** The S3Client configuration for resolved options; separate from the client so it can be checked without one. */
export function s3ClientConfig(options: ResolvedS3Options): S3ClientConfig {
  return {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: options.checksums,
    responseChecksumValidation: options.checksums,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // Absent: the SDK default chain (env, shared config, container or instance role).
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
}

/** Builds the client a sink instance uses for all its requests; `close()` destroys it. */
export function createS3Client(options: ResolvedS3Options): S3Client {
  return new (s3Sdk().S3Client)(s3ClientConfig(options));
}
