import { BackupctlError, ErrorCodes, isBackupctlError } from '@backupctl/plugin-api';

// SDK errors are recognised by shape (name, $metadata, code) rather than by
// class, so this module needs no SDK import and can be tested on plain objects.

/** The plugin method an error happened in; `write` failures are SINK_FAILED, the rest STORE_FAILED. */
export type S3Operation = 'write' | 'list' | 'get' | 'delete' | 'readMetadata' | 'writeMetadata' | 'check';

/** Where an error happened, for the message. Holds nothing secret. */
export interface S3ErrorContext {
  operation: S3Operation;
  bucket: string;
  /** The object key, when the operation was about one object. */
  key?: string;
  /** The endpoint as users should read it (see describeEndpoint). */
  endpoint: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
]);
const REGION_ERRORS = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const CREDENTIALS_HINT = 'Check accessKeyId and secretAccessKey (S3_ACCESS_KEY, S3_SECRET_KEY).';

interface ErrorShape {
  name: string;
  message: string;
  status?: number;
  networkCode?: string;
}

/** True for any non-null object, so its properties can be read safely. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A Node network error code, also when wrapped (`cause`) or aggregated (Happy Eyeballs' AggregateError). */
function findNetworkCode(error: unknown, depth = 0): string | undefined {
  if (!isRecord(error) || depth > 3) return undefined;
  if (typeof error.code === 'string' && NETWORK_CODES.has(error.code)) return error.code;
  if (Array.isArray(error.errors)) {
    for (const inner of error.errors) {
      const code = findNetworkCode(inner, depth + 1);
      if (code !== undefined) return code;
    }
  }
  return findNetworkCode(error.cause, depth + 1);
}

function shapeOf(error: unknown): ErrorShape {
  if (!isRecord(error)) return { name: 'Error', message: String(error) };
  const metadata = error.$metadata;
  const status = isRecord(metadata) && typeof metadata.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
  const name = typeof error.name === 'string' ? error.name : 'Error';
  const message = typeof error.message === 'string' ? error.message : '';
  const networkCode = findNetworkCode(error);
  return {
    name,
    message: message.split('\n')[0] ?? '',
    ...(status === undefined ? {} : { status }),
    ...(networkCode === undefined ? {} : { networkCode }),
  };
}

/**
 * A copy of an SDK error that keeps name, message, status and network code
 * only. SDK errors carry the raw response and, for SignatureDoesNotMatch,
 * the access key id and string to sign: none of that belongs in a log.
 */
export function sanitizeCause(error: unknown): Error {
  const shape = shapeOf(error);
  const copy = new Error(shape.message || shape.name);
  copy.name = shape.name;
  return Object.assign(copy, {
    ...(shape.status === undefined ? {} : { statusCode: shape.status }),
    ...(shape.networkCode === undefined ? {} : { code: shape.networkCode }),
  });
}

/** True when the SDK says the object does not exist (GetObject's NoSuchKey, HEAD's 404). */
export function isNoSuchKey(error: unknown): boolean {
  const { name, status } = shapeOf(error);
  return name === 'NoSuchKey' || (name === 'NotFound' && status === 404);
}

/**
 * True when S3 refused a request: it answered its one attempt with a client
 * error (4xx: SignatureDoesNotMatch, NoSuchBucket, AccessDenied, ...), so the
 * request changed nothing. Not a refusal: no answer (network error, timeout,
 * cancel), where the request may have taken effect; a 5xx, which says the
 * server failed, not that it did nothing; and an answer to a retry, as an
 * earlier attempt whose answer was lost may have taken effect (a
 * CompleteMultipartUpload retried after it committed answers NoSuchUpload).
 */
export function isRefusal(error: unknown): boolean {
  const metadata = isRecord(error) ? error.$metadata : undefined;
  if (!isRecord(metadata)) return false;
  const { httpStatusCode: status, attempts } = metadata;
  return typeof status === 'number' && status >= 400 && status < 500 && (attempts === undefined || attempts === 1);
}

function target(context: S3ErrorContext): string {
  return `s3://${context.bucket}/${context.key ?? ''}`;
}

function explain(shape: ErrorShape, context: S3ErrorContext): { message: string; hint?: string } {
  const { endpoint, bucket } = context;
  if (shape.name === 'AbortError') {
    return { message: `s3 ${context.operation} of ${target(context)} was aborted` };
  }
  if (shape.networkCode !== undefined) {
    return {
      message: `cannot reach S3 endpoint ${endpoint} (${shape.networkCode})`,
      hint: 'Check endpoint (S3_ENDPOINT_URL) and that the service is up and reachable from here.',
    };
  }
  if (shape.name === 'TimeoutError') {
    return {
      message: `S3 endpoint ${endpoint} did not answer in time`,
      hint: 'Check endpoint (S3_ENDPOINT_URL) and the network between here and the service.',
    };
  }
  if (shape.name === 'NoSuchBucket' || (context.operation === 'check' && shape.status === 404)) {
    return {
      message: `bucket ${bucket} does not exist at ${endpoint}`,
      hint: 'Check the bucket name (S3_BUCKET), or create the bucket.',
    };
  }
  if (CREDENTIAL_ERRORS.has(shape.name)) {
    return { message: `${endpoint} rejected the S3 credentials for bucket ${bucket} (${shape.name})`, hint: CREDENTIALS_HINT };
  }
  if (shape.name === 'CredentialsProviderError') {
    return {
      message: `no S3 credentials found for bucket ${bucket}`,
      hint: 'Set accessKeyId and secretAccessKey (S3_ACCESS_KEY, S3_SECRET_KEY), or give the AWS SDK credentials (AWS_ACCESS_KEY_ID, a profile, an IAM role).',
    };
  }
  if (shape.name === 'AccessDenied' || shape.status === 403) {
    return {
      message: `access denied to bucket ${bucket} at ${endpoint} (${shape.name})`,
      hint: `${CREDENTIALS_HINT} The key needs to list, read, write and delete objects in the bucket.`,
    };
  }
  if (REGION_ERRORS.has(shape.name) || shape.status === 301) {
    return {
      message: `bucket ${bucket} is not in region or at endpoint ${endpoint} (${shape.name})`,
      hint: "Set region (S3_REGION) to the bucket's region, or endpoint to the provider's regional URL.",
    };
  }
  // GetObject says NoSuchKey; a 404 without an error body reads as NotFound.
  if (shape.name === 'NoSuchKey' || (context.operation === 'get' && shape.name === 'NotFound' && shape.status === 404)) {
    return { message: `no object ${context.key ?? ''} in bucket ${bucket}`, hint: 'List what exists with `backupctl ls`.' };
  }
  const detail = shape.message && shape.message !== shape.name ? `${shape.name}: ${shape.message}` : shape.name;
  const status = shape.status === undefined ? '' : ` (HTTP ${shape.status})`;
  return { message: `s3 ${context.operation} of ${target(context)} at ${endpoint} failed: ${detail}${status}` };
}

/**
 * Turns whatever the SDK threw into one clear line with a hint. Names the
 * bucket, key and endpoint (none of them secret), never the credentials.
 * A BackupctlError passes through unchanged.
 */
export function toS3Error(error: unknown, context: S3ErrorContext): BackupctlError {
  if (isBackupctlError(error)) return error;
  const shape = shapeOf(error);
  const { message, hint } = explain(shape, context);
  let code: BackupctlError['code'] = context.operation === 'write' ? ErrorCodes.SINK_FAILED : ErrorCodes.STORE_FAILED;
  if (shape.name === 'AbortError') code = ErrorCodes.ABORTED;
  return new BackupctlError(code, message, {
    plugin: 's3',
    hook: context.operation,
    ...(hint === undefined ? {} : { hint }),
    cause: sanitizeCause(error),
  });
}
