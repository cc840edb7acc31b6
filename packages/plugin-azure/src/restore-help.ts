import { shellWord, type RestoreHelpCommands, type SinkRestoreHelp } from '@backupctl/plugin-api';
import type { AzureOptions } from './options.js';

/** The Azure CLI reads its storage credentials from these variables. */
const AZ_VARIABLES = {
  connectionString: 'AZURE_STORAGE_CONNECTION_STRING',
  account: 'AZURE_STORAGE_ACCOUNT',
  accountKey: 'AZURE_STORAGE_KEY',
  sasToken: 'AZURE_STORAGE_SAS_TOKEN',
} as const;

type CredentialOption = keyof typeof AZ_VARIABLES;

const set = (value: unknown): boolean => typeof value === 'string' && value.trim() !== '';

/**
 * restore-help: `az storage blob download` of the blob into the current
 * directory. The credential is mapped from the variable the pipeline reads
 * it from onto the Azure CLI's (`AZURE_STORAGE_KEY="$AZURE_KEY"`); when it
 * is written in the file, a note says which variable to set, never the
 * value. No credential: `--auth-mode login` (az login), as the default
 * Azure credential would use.
 */
export const azureRestoreHelp: SinkRestoreHelp<AzureOptions> = {
  download({ key, file }, context) {
    const { options } = context;
    // The account name is not a secret: written literally it may be shown, else by its variable.
    const credential: CredentialOption[] = set(options.connectionString)
      ? ['connectionString']
      : set(options.accountKey)
        ? ['account', 'accountKey']
        : set(options.sasToken)
          ? ['account', 'sasToken']
          : [];
    const lines = [`az storage blob download --container-name ${shellWord(options.container)} \\`, `  --name ${shellWord(key)} --file ${shellWord(file)}`];
    const account = options.account.trim();
    const accountVariable = context.variable('account');
    const env: Record<string, string> = {};
    const unmapped: string[] = [];
    for (const option of credential) {
      if (option === 'account') continue;
      const variable = context.variable(option);
      if (variable === undefined) unmapped.push(AZ_VARIABLES[option]);
      else env[AZ_VARIABLES[option]] = variable;
    }
    if (account !== '' && credential.length > 0) {
      if (accountVariable !== undefined) env[AZ_VARIABLES.account] = accountVariable;
      else lines[lines.length - 1] += ` --account-name ${shellWord(account)}`;
    }
    if (credential.length === 0) {
      if (account !== '') lines[lines.length - 1] += ` --account-name ${accountVariable === undefined ? shellWord(account) : `"$${accountVariable}"`}`;
      lines[lines.length - 1] += ' --auth-mode login';
    }
    const endpoint = options.endpoint.trim();
    if (endpoint !== '') lines[lines.length - 1] += ` \\\n  --blob-endpoint ${shellWord(endpoint)}`;
    const command = lines.join('\n');
    const help: RestoreHelpCommands = { text: 'Using the Azure CLI', commands: [command] };
    if (unmapped.length > 0) {
      return { ...help, commands: [`# Credentials: set ${unmapped.join(', ')} to the credential of ${context.path} (not shown here)`, command] };
    }
    return Object.keys(env).length > 0 ? { ...help, env } : help;
  },
};
