import { BackupctlError, ErrorCodes, Type, type Static } from '@backupctl/plugin-api';

// This module holds no AWS SDK import: the schema and the option checks load
// instantly (for `validate`, `plugins --schema`), the SDK only when a job runs.

const MiB = 1024 * 1024;

/** JSON Schema: when `given` is set (not blank), `required` must be set too. Never echoes either value. */
function pairedWith(given: 'accessKeyId' | 'secretAccessKey', required: 'accessKeyId' | 'secretAccessKey') {
  const message = `must be set when ${given} is (both keys or neither)`;
  return {
    if: { properties: { [given]: { pattern: '\\S' } }, required: [given] },
    then: {
      properties: { [required]: { pattern: '\\S', errorMessage: message } },
      required: [required],
      errorMessage: message,
    },
  };
}

/**
 * The `with:` options of the s3 sink. Empty strings mean "unset": the
 * pipeline file fills options from `${S3_ENDPOINT_URL:-}` and the like.
 */
export const s3OptionsSchema = Type.Object(
  {
    bucket: Type.String({ minLength: 1, description: 'Bucket that receives the backups, e.g. `clara-backups`.' }),
    prefix: Type.String({
      default: '',
      description: 'Key prefix the backups are written under, e.g. `backups/clara/`. Include the trailing slash.',
    }),
    endpoint: Type.String({
      default: '',
      pattern: '^(https?://.+)?$',
      description:
        'http(s) URL of an S3-compatible service (Wasabi, MinIO, R2...), e.g. `https://s3.wasabisys.com`. Empty: AWS S3 for `region`.',
    }),
    region: Type.String({ default: 'us-east-1', description: 'Region to sign requests for. Empty: `us-east-1`.' }),
    accessKeyId: Type.String({
      default: '',
      description: 'Access key ID. Empty together with `secretAccessKey`: the AWS SDK default credential chain (env, profile, IAM role).',
    }),
    secretAccessKey: Type.String({
      default: '',
      description: 'Secret access key, set together with `accessKeyId`. Redacted from all output.',
    }),
    sessionToken: Type.Optional(
      Type.String({ description: 'Session token of temporary credentials (STS). Redacted from all output.' }),
    ),
    forcePathStyle: Type.Union([Type.Literal('auto'), Type.Boolean()], {
      default: 'auto',
      description:
        'Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`. `auto`: on when `endpoint` is set, as MinIO and most S3-compatible services need it.',
    }),
    partSizeMiB: Type.Integer({
      minimum: 5,
      maximum: 5 * 1024,
      default: 8,
      description:
        'Smallest multipart upload part in MiB (S3 allows 5 to 5120). A backup can have at most 10,000 parts (8 MiB parts: ~78 GiB); ' +
        'when the source estimates its size (postgres: the database size), parts grow so that twice the estimate fits.',
    }),
    queueSize: Type.Integer({
      minimum: 1,
      default: 4,
      description: 'Parts uploaded in parallel. An upload holds 2 × partSizeMiB while S3 keeps up, at most partSizeMiB × (queueSize + 1) (40 MiB by default); fewer, down to 2, when parts had to grow.',
    }),
    storageClass: Type.Optional(
      Type.String({ description: 'Storage class of the uploaded objects, e.g. `STANDARD_IA`, `GLACIER_IR`. Empty: the bucket default.' }),
    ),
    // AWS SDK releases since 3.729 add CRC32 checksums to every upload by
    // default ("when_supported"); several S3-compatible services reject or
    // mishandle them, so the default only sends checksums that an operation
    // requires, which every provider accepts.
    checksums: Type.Union([Type.Literal('when_required'), Type.Literal('when_supported')], {
      default: 'when_required',
      description:
        'When the SDK adds CRC checksums to requests and validates them on responses. `when_supported` (the SDK default) breaks several S3-compatible services.',
    }),
  },
  {
    additionalProperties: false,
    // Both keys or neither, checked when the file loads (exit 2 with the line);
    // resolveS3Options checks the same for options built in code.
    allOf: [pairedWith('accessKeyId', 'secretAccessKey'), pairedWith('secretAccessKey', 'accessKeyId')],
  },
);

/** Options of the s3 sink, as `create` receives them (validated, defaults filled). */
export type S3Options = Static<typeof s3OptionsSchema>;

/** The defaults the schema declares, for callers that build options in code. */
export const s3OptionDefaults = {
  prefix: '',
  endpoint: '',
  region: 'us-east-1',
  accessKeyId: '',
  secretAccessKey: '',
  forcePathStyle: 'auto',
  partSizeMiB: 8,
  queueSize: 4,
  checksums: 'when_required',
} as const satisfies Omit<S3Options, 'bucket'>;

/** Static credentials; absent means the SDK's default credential chain. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options turned into what the client and the sink use: empties resolved, units converted. */
export interface ResolvedS3Options {
  bucket: string;
  prefix: string;
  /** Custom endpoint URL, or undefined for AWS. */
  endpoint?: string;
  region: string;
  credentials?: S3Credentials;
  forcePathStyle: boolean;
  /** Bytes. */
  partSize: number;
  queueSize: number;
  storageClass?: string;
  checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
}

function configError(message: string, hint: string): BackupctlError {
  return new BackupctlError(ErrorCodes.CONFIG_INVALID, message, { plugin: 's3', hook: 'create', hint });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function resolveEndpoint(value: string): string | undefined {
  const endpoint = nonEmpty(value);
  if (endpoint === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw configError(
      `s3 endpoint "${endpoint}" is not an http(s) URL`,
      'Set endpoint (S3_ENDPOINT_URL) to a URL such as https://s3.wasabisys.com, or leave it empty for AWS S3.',
    );
  }
  if (url.username !== '' || url.password !== '') {
    // Never echo it back: the user part may hold a secret.
    throw configError(
      's3 endpoint must not contain credentials',
      'Remove user:password@ from endpoint and set accessKeyId / secretAccessKey instead.',
    );
  }
  return endpoint;
}

function resolveCredentials(options: S3Options): S3Credentials | undefined {
  const accessKeyId = nonEmpty(options.accessKeyId);
  const secretAccessKey = nonEmpty(options.secretAccessKey);
  const sessionToken = nonEmpty(options.sessionToken);
  if (accessKeyId === undefined && secretAccessKey === undefined) {
    return undefined;
  }
  if (accessKeyId === undefined) {
    throw configError(
      's3 secretAccessKey is set but accessKeyId is empty',
      'Set both accessKeyId and secretAccessKey (S3_ACCESS_KEY, S3_SECRET_KEY), or neither to use the AWS default credential chain.',
    );
  }
  if (secretAccessKey === undefined) {
    throw configError(
      's3 accessKeyId is set but secretAccessKey is empty',
      'Set both accessKeyId and secretAccessKey (S3_ACCESS_KEY, S3_SECRET_KEY), or neither to use the AWS default credential chain.',
    );
  }
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * Checks what the schema cannot (credential pairing, endpoint URL) and
 * resolves "empty means unset". Throws CONFIG_INVALID naming the problem.
 */
export function resolveS3Options(options: S3Options): ResolvedS3Options {
  const endpoint = resolveEndpoint(options.endpoint);
  const credentials = resolveCredentials(options);
  const storageClass = nonEmpty(options.storageClass);
  return {
    bucket: options.bucket,
    prefix: options.prefix,
    ...(endpoint === undefined ? {} : { endpoint }),
    region: nonEmpty(options.region) ?? s3OptionDefaults.region,
    ...(credentials === undefined ? {} : { credentials }),
    forcePathStyle: options.forcePathStyle === 'auto' ? endpoint !== undefined : options.forcePathStyle,
    partSize: options.partSizeMiB * MiB,
    queueSize: options.queueSize,
    ...(storageClass === undefined ? {} : { storageClass }),
    checksums: options.checksums === 'when_supported' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
  };
}

/** How messages name the service: the endpoint URL (not a secret) or AWS and the region. */
export function describeEndpoint(options: Pick<ResolvedS3Options, 'endpoint' | 'region'>): string {
  return options.endpoint ?? `AWS S3 (${options.region})`;
}
