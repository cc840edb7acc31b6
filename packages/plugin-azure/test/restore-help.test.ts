import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const KEY = 'backups/clara/clara_20260201_030000.sql.gz';
const FILE = 'clara_20260201_030000.sql.gz';
const SECRET = 'c2VjcmV0LWtleS1vZi10aGUtYWNjb3VudA==';

function download(options: Record<string, unknown>, variables: Record<string, string> = {}) {
  const context = restoreHelpContext(plugin, { container: 'clara-backups', ...options }, { job: 'clara', variables });
  return plugin.restoreHelp!.download({ key: KEY, file: FILE }, context);
}

describe('azure restoreHelp', () => {
  it('downloads with the Azure CLI, account and key mapped from their variables', () => {
    expect(download({ account: 'clarabackups', accountKey: SECRET }, { account: 'AZURE_ACCOUNT', accountKey: 'AZURE_KEY' })).toEqual({
      text: 'Using the Azure CLI',
      env: { AZURE_STORAGE_KEY: 'AZURE_KEY', AZURE_STORAGE_ACCOUNT: 'AZURE_ACCOUNT' },
      commands: [`az storage blob download --container-name clara-backups \\\n  --name ${KEY} --file ${FILE}`],
    });
  });

  it('names a literal account, and the endpoint override as --blob-endpoint', () => {
    const step = download(
      { account: 'devstoreaccount1', sasToken: '?sv=1&sig=secret', endpoint: 'http://127.0.0.1:10000/devstoreaccount1' },
      { sasToken: 'AZURE_SAS' },
    );
    expect(step.env).toEqual({ AZURE_STORAGE_SAS_TOKEN: 'AZURE_SAS' });
    expect(step.commands).toEqual([
      `az storage blob download --container-name clara-backups \\\n  --name ${KEY} --file ${FILE} --account-name devstoreaccount1 \\\n  --blob-endpoint http://127.0.0.1:10000/devstoreaccount1`,
    ]);
  });

  it('maps a connection string to AZURE_STORAGE_CONNECTION_STRING', () => {
    const step = download({ connectionString: `AccountName=a;AccountKey=${SECRET}` }, { connectionString: 'AZURE_CONN' });
    expect(step.env).toEqual({ AZURE_STORAGE_CONNECTION_STRING: 'AZURE_CONN' });
  });

  it('without a credential: az login (--auth-mode login)', () => {
    expect(download({ account: 'clarabackups' }).commands).toEqual([
      `az storage blob download --container-name clara-backups \\\n  --name ${KEY} --file ${FILE} --account-name clarabackups --auth-mode login`,
    ]);
  });

  it('says which variable to set, never the secret, when it is written in the file', () => {
    const step = download({ account: 'clarabackups', accountKey: SECRET });
    expect(step.env).toBeUndefined();
    expect(step.commands[0]).toBe('# Credentials: set AZURE_STORAGE_KEY to the credential of jobs.clara.sink (not shown here)');
    const written = download({ connectionString: `AccountName=a;AccountKey=${SECRET}` });
    expect(JSON.stringify([step, written])).not.toContain(SECRET);
  });
});
