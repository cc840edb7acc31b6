import { BackupctlError, ErrorCodes, isBackupctlError } from '@backupctl/plugin-api';

// SDK errors (RestError, @azure/identity's) are recognised by shape (name,
// code, statusCode) rather than by class, so this module needs no SDK import
// and can be tested on plain objects.

/** The plugin method an error happened in; `write` failures are SINK_FAILED, the rest STORE_FAILED. */
export type AzureOperation = 'write' | 'list' | 'get' | 'delete' | 'readMetadata' | 'writeMetadata' | 'check';

/** Where an error happened, for the message. Holds nothing secret. */
export interface AzureErrorContext {
  operation: AzureOperation;
  container: string;
  /** The blob name, when the operation was about one blob. */
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
  'REQUEST_SEND_ERROR',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);
/** The service could not verify who is asking: a wrong key, a broken or expired SAS. */
const AUTHENTICATION_CODES = new Set(['AuthenticationFailed', 'AuthorizationFailure', 'InvalidAuthenticationInfo', 'NoAuthenticationInformation']);
/** It knows who is asking, who may not do this. */
const PERMISSION_CODES = new Set([
  'AuthorizationPermissionMismatch',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationServiceMismatch',
  'AuthorizationProtocolMismatch',
  'AuthorizationSourceIPMismatch',
  'InsufficientAccountPermissions',
]);
const DEFAULT_CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationError']);
const CREDENTIALS_HINT =
  'Check the credential (accountKey, sasToken or connectionString, e.g. AZURE_STORAGE_KEY): a key of this account, a SAS not expired, a clock in sync.';

interface ErrorShape {
  name: string;
  /** Azure's error code (`AuthenticationFailed`, `BlobNotFound`) or a Node network code. */
  code?: string;
  message: string;
  status?: number;
  networkCode?: string;
}

/** True for any non-null object, so its properties can be read safely. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

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
  const name = typeof error.name === 'string' ? error.name : 'Error';
  const details = isRecord(error.details) ? error.details : undefined;
  const code = typeof error.code === 'string' ? error.code : typeof details?.errorCode === 'string' ? details.errorCode : undefined;
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  const message = typeof error.message === 'string' ? error.message : '';
  const networkCode = findNetworkCode(error);
  return {
    name,
    message: message.split('\n')[0]?.trim() ?? '',
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    ...(networkCode === undefined ? {} : { networkCode }),
  };
}

/**
 * A copy of an SDK error that keeps name, code, status and the message's
 * first line only. A RestError carries the request, whose headers hold the
 * SharedKey signature and whose URL may hold a SAS: none of that belongs in a log.
 */
export function sanitizeCause(error: unknown): Error {
  const shape = shapeOf(error);
  const copy = new Error(shape.message || shape.name);
  copy.name = shape.name;
  return Object.assign(copy, {
    ...(shape.status === undefined ? {} : { statusCode: shape.status }),
    ...(shape.code === undefined ? {} : { code: shape.code }),
  });
}

/** True when the blob does not exist. */
export function isNotFound(error: unknown): boolean {
  const { code, status } = shapeOf(error);
  return code === 'BlobNotFound' || (status === 404 && code !== 'ContainerNotFound');
}

/**
 * True when Azure refused a request with a client error (4xx), which
 * changed nothing. No answer, a 5xx or a cancel may follow a request that
 * took effect: then the blob it would commit may exist.
 */
export function isRefusal(error: unknown): boolean {
  const { status } = shapeOf(error);
  return status !== undefined && status >= 400 && status < 500;
}

function target(context: AzureErrorContext): string {
  return `${context.container}/${context.key ?? ''}`;
}

function explain(shape: ErrorShape, context: AzureErrorContext): { message: string; hint?: string } {
  const { endpoint, container } = context;
  if (shape.name === 'AbortError') return { message: `azure ${context.operation} of ${target(context)} was aborted` };
  if (shape.name === 'IdentityNotInstalled') {
    return {
      message: 'no azure credential is set, and @azure/identity (for the default Azure credential) is not installed',
      hint: 'Set accountKey, sasToken or connectionString, or install @azure/identity beside backupctl (npm install @azure/identity).',
    };
  }
  if (DEFAULT_CREDENTIAL_ERRORS.has(shape.name)) {
    return {
      message: `the default Azure credential found no usable identity for ${endpoint} (${shape.name})`,
      hint: 'Log in (az login), set AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET or a managed identity, or set accountKey, sasToken or connectionString.',
    };
  }
  if (shape.networkCode !== undefined) {
    return {
      message: `cannot reach Azure Blob Storage at ${endpoint} (${shape.networkCode})`,
      hint: 'Check account or endpoint, and that the service is reachable from here.',
    };
  }
  if (shape.name === 'TimeoutError') {
    return { message: `Azure Blob Storage at ${endpoint} did not answer in time`, hint: 'Check endpoint and the network between here and Azure.' };
  }
  if (shape.code === 'ContainerNotFound' || (context.operation === 'check' && shape.status === 404)) {
    return { message: `container ${container} does not exist at ${endpoint}`, hint: 'Check the container name, or create it (az storage container create).' };
  }
  if (shape.code !== undefined && AUTHENTICATION_CODES.has(shape.code)) {
    return { message: `${endpoint} rejected the Azure credential for container ${container} (${shape.code})`, hint: CREDENTIALS_HINT };
  }
  if ((shape.code !== undefined && PERMISSION_CODES.has(shape.code)) || shape.status === 403) {
    return {
      message: `access denied to container ${container} at ${endpoint} (${shape.code ?? 'HTTP 403'})`,
      hint: 'The credential needs read, add, create, write, delete and list on the container (SAS permissions racwdl, or the Storage Blob Data Contributor role).',
    };
  }
  if (shape.code === 'BlobNotFound' || (context.operation === 'get' && shape.status === 404)) {
    return { message: `no blob ${context.key ?? ''} in container ${container}`, hint: 'List what exists with `backupctl ls`.' };
  }
  const label = shape.code ?? shape.name;
  const detail = shape.message && shape.message !== label ? `${label}: ${shape.message}` : label;
  const status = shape.status === undefined ? '' : ` (HTTP ${shape.status})`;
  return { message: `azure ${context.operation} of ${target(context)} at ${endpoint} failed: ${detail}${status}` };
}

/**
 * Turns whatever the SDK threw into one clear line with a hint. Names the
 * container, blob and endpoint (none of them secret), never a credential.
 * A BackupctlError passes through unchanged.
 */
export function toAzureError(error: unknown, context: AzureErrorContext): BackupctlError {
  if (isBackupctlError(error)) return error;
  const shape = shapeOf(error);
  const { message, hint } = explain(shape, context);
  let code: BackupctlError['code'] = context.operation === 'write' ? ErrorCodes.SINK_FAILED : ErrorCodes.STORE_FAILED;
  if (shape.name === 'AbortError') code = ErrorCodes.ABORTED;
  return new BackupctlError(code, message, {
    plugin: 'azure',
    hook: context.operation,
    ...(hint === undefined ? {} : { hint }),
    cause: sanitizeCause(error),
  });
}
