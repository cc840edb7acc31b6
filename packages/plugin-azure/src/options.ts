import { BackupctlError, ErrorCodes, Type, type Static } from '@backupctl/plugin-api';

// This module holds no Azure SDK import: the schema and the option checks load
// instantly (for `validate`, `plugins --schema`), the SDK only when a job runs.

const MiB = 1024 * 1024;

/** Azure's largest block (service versions since 2019-12-12): 4000 MiB. */
export const MAX_BLOCK_SIZE_MIB = 4000;

/**
 * The `with:` options of the azure sink. Empty strings mean "unset": the
 * pipeline file fills options from `${AZURE_STORAGE_KEY:-}` and the like.
 */
export const azureOptionsSchema = Type.Object(
  {
    container: Type.String({
      minLength: 3,
      maxLength: 63,
      pattern: '^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$',
      description: 'Blob container that receives the backups, e.g. `clara-backups` (3 to 63 lowercase letters, digits and single hyphens). It must exist.',
    }),
    prefix: Type.String({
      default: '',
      description: 'Blob name prefix the backups are written under, e.g. `backups/clara/`. Include the trailing slash.',
    }),
    account: Type.String({
      default: '',
      description: 'Storage account name, e.g. `clarabackups`. Needed with `accountKey`, and with `sasToken` or the default credential unless `endpoint` is set.',
    }),
    accountKey: Type.String({
      default: '',
      description: 'Shared key of the storage account (with `account`). Redacted from all output.',
    }),
    sasToken: Type.String({
      default: '',
      description: 'Shared access signature (the query string, with or without its leading `?`) granting read, add, create, write, delete and list on the container. Redacted from all output.',
    }),
    connectionString: Type.String({
      default: '',
      description:
        'A storage connection string (`DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...` or with `SharedAccessSignature=`); instead of the options above. Redacted from all output.',
    }),
    endpoint: Type.String({
      default: '',
      pattern: '^(https?://.+)?$',
      description:
        'Blob service URL, for Azurite (`http://127.0.0.1:10000/devstoreaccount1`) or a sovereign cloud (`https://<account>.blob.core.chinacloudapi.cn`). Empty: `https://<account>.blob.core.windows.net`.',
    }),
    blockSizeMiB: Type.Integer({
      minimum: 1,
      maximum: MAX_BLOCK_SIZE_MIB,
      default: 8,
      description:
        'Smallest block in MiB (Azure allows up to 4000). A blob can have at most 50,000 blocks (8 MiB blocks: ~390 GiB); ' +
        'when the source estimates its size (postgres: the database size), blocks grow so that twice the estimate fits.',
    }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 4,
      description:
        'Blocks uploaded in parallel. An upload holds at most blockSizeMiB × (concurrency + 1) of buffers (40 MiB by default); fewer in parallel, down to 2, when blocks had to grow.',
    }),
    accessTier: Type.Union([Type.Literal(''), Type.Literal('Hot'), Type.Literal('Cool'), Type.Literal('Cold'), Type.Literal('Archive')], {
      default: '',
      description: 'Access tier of the uploaded blobs. Empty: the account default. `Archive` blobs must be rehydrated before restore.',
    }),
  },
  { additionalProperties: false },
);

/** Options of the azure sink, as `create` receives them (validated, defaults filled). */
export type AzureOptions = Static<typeof azureOptionsSchema>;

/** The defaults the schema declares, for callers that build options in code. */
export const azureOptionDefaults = {
  prefix: '',
  account: '',
  accountKey: '',
  sasToken: '',
  connectionString: '',
  endpoint: '',
  blockSizeMiB: 8,
  concurrency: 4,
  accessTier: '',
} as const satisfies Omit<AzureOptions, 'container'>;

/** How the client authenticates: one of the four, chosen by which options are set. */
export type AzureCredentials =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'sharedKey'; account: string; accountKey: string }
  | { kind: 'sas'; sasToken: string }
  | { kind: 'default' };

/** Options turned into what the client and the sink use: empties resolved, units converted. */
export interface ResolvedAzureOptions {
  container: string;
  prefix: string;
  /** The blob service URL; undefined with a connection string, which names its own. */
  endpoint?: string;
  credentials: AzureCredentials;
  /** Bytes. */
  blockSize: number;
  concurrency: number;
  accessTier?: 'Hot' | 'Cool' | 'Cold' | 'Archive';
}

function configError(message: string, hint: string): BackupctlError {
  return new BackupctlError(ErrorCodes.CONFIG_INVALID, message, { plugin: 'azure', hook: 'create', hint });
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The values in a connection string that are secret, to be masked as well as the whole string. */
export function connectionStringSecrets(connectionString: string): string[] {
  const secrets: string[] = [];
  for (const part of connectionString.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const name = part.slice(0, separator).trim().toLowerCase();
    if (name === 'accountkey' || name === 'sharedaccesssignature') secrets.push(part.slice(separator + 1).trim());
  }
  return secrets;
}

/** A setting of a connection string (`AccountName`, `BlobEndpoint`: not the secret ones), for messages; undefined when absent. */
function connectionStringSetting(connectionString: string, setting: 'accountname' | 'blobendpoint'): string | undefined {
  for (const part of connectionString.split(';')) {
    const [name, ...rest] = part.split('=');
    if (name?.trim().toLowerCase() === setting) return nonEmpty(rest.join('='));
  }
  return undefined;
}

function resolveEndpoint(value: string, account: string | undefined): string | undefined {
  const endpoint = nonEmpty(value);
  if (endpoint === undefined) return account === undefined ? undefined : `https://${account}.blob.core.windows.net`;
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw configError(
      `azure endpoint "${endpoint}" is not an http(s) URL`,
      'Set endpoint to the blob service URL, e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite, or leave it empty for Azure.',
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '') {
    // Never echo it back: user:pass@ or a ?sv=...&sig=... query is a secret.
    throw configError(
      'azure endpoint must not contain credentials or a query string',
      'Remove user:password@ and ?... from endpoint; put a shared access signature in sasToken.',
    );
  }
  return endpoint.replace(/\/+$/, '');
}

const CHOOSE_ONE_HINT = 'Set one of connectionString, accountKey (with account) or sasToken, or none of them to use the default Azure credential.';

function resolveCredentials(options: AzureOptions, account: string | undefined, endpoint: string | undefined): AzureCredentials {
  const connectionString = nonEmpty(options.connectionString);
  const accountKey = nonEmpty(options.accountKey);
  const sasToken = nonEmpty(options.sasToken)?.replace(/^\?/, '');
  const given = [connectionString && 'connectionString', accountKey && 'accountKey', sasToken && 'sasToken'].filter(Boolean);
  if (given.length > 1) throw configError(`azure ${given.join(' and ')} are both set; they are alternatives`, CHOOSE_ONE_HINT);
  if (connectionString !== undefined) {
    if (account !== undefined || endpoint !== undefined) {
      throw configError(
        'azure connectionString is set together with account or endpoint',
        'A connection string names its account and endpoint (AccountName=, BlobEndpoint=): leave account and endpoint empty.',
      );
    }
    return { kind: 'connectionString', connectionString };
  }
  if (accountKey !== undefined) {
    if (account === undefined) throw configError('azure accountKey is set but account is empty', 'Set account to the storage account the key belongs to.');
    return { kind: 'sharedKey', account, accountKey };
  }
  if (account === undefined && endpoint === undefined) {
    throw configError('azure needs an account or an endpoint', 'Set account (the storage account name), endpoint, or a connectionString.');
  }
  return sasToken === undefined ? { kind: 'default' } : { kind: 'sas', sasToken };
}

/**
 * Checks what the schema cannot (which credential, the endpoint URL) and
 * resolves "empty means unset". Throws CONFIG_INVALID naming the problem,
 * never a value.
 */
export function resolveAzureOptions(options: AzureOptions): ResolvedAzureOptions {
  const account = nonEmpty(options.account);
  const givenEndpoint = nonEmpty(options.endpoint);
  const credentials = resolveCredentials(options, account, givenEndpoint === undefined ? undefined : givenEndpoint);
  const endpoint = credentials.kind === 'connectionString' ? undefined : resolveEndpoint(options.endpoint, account);
  const accessTier = nonEmpty(options.accessTier) as ResolvedAzureOptions['accessTier'] | undefined;
  return {
    container: options.container,
    prefix: options.prefix,
    ...(endpoint === undefined ? {} : { endpoint }),
    credentials,
    blockSize: options.blockSizeMiB * MiB,
    concurrency: options.concurrency,
    ...(accessTier === undefined ? {} : { accessTier }),
  };
}

/** How messages name the service: the endpoint URL (holds no secret), or the account of a connection string. */
export function describeEndpoint(options: Pick<ResolvedAzureOptions, 'endpoint' | 'credentials'>): string {
  if (options.endpoint !== undefined) return options.endpoint;
  if (options.credentials.kind !== 'connectionString') return 'Azure Blob Storage';
  const { connectionString } = options.credentials;
  const blobEndpoint = connectionStringSetting(connectionString, 'blobendpoint');
  // A BlobEndpoint is a plain URL (a SAS goes in SharedAccessSignature=); drop a query all the same.
  if (blobEndpoint !== undefined) return blobEndpoint.split('?')[0]!.replace(/\/+$/, '');
  const account = connectionStringSetting(connectionString, 'accountname');
  return account === undefined ? 'the blob endpoint of the connection string' : `account ${account} (connection string)`;
}
