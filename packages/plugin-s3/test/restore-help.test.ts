import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const KEY = 'backups/clara/clara_20260201_030000.sql.gz';
const SECRET = 'wJalrXUtnFEMI-secret';

function download(options: Record<string, unknown>, variables: Record<string, string> = {}) {
  const context = restoreHelpContext(plugin, { bucket: 'clara-backups', ...options }, { job: 'clara', variables });
  return plugin.restoreHelp!.download({ key: KEY, file: 'clara_20260201_030000.sql.gz' }, context);
}

describe('s3 restoreHelp', () => {
  it('copies with the AWS CLI from the endpoint, the credentials mapped from their variables', () => {
    const step = download(
      { endpoint: 'https://s3.wasabisys.com', accessKeyId: 'AKIAEXAMPLEKEY', secretAccessKey: SECRET },
      { accessKeyId: 'S3_ACCESS_KEY', secretAccessKey: 'S3_SECRET_KEY' },
    );
    expect(step).toEqual({
      text: 'Using the AWS CLI',
      env: { AWS_ACCESS_KEY_ID: 'S3_ACCESS_KEY', AWS_SECRET_ACCESS_KEY: 'S3_SECRET_KEY' },
      commands: [`aws s3 cp s3://clara-backups/${KEY} . \\\n  --endpoint-url=https://s3.wasabisys.com`],
    });
  });

  it('uses the region and the default credential chain without an endpoint or keys', () => {
    expect(download({ region: 'eu-west-1' })).toEqual({
      text: 'Using the AWS CLI',
      commands: [`aws s3 cp s3://clara-backups/${KEY} . \\\n  --region eu-west-1`],
    });
  });

  it('says which variables to set, never the key, when the credentials are written in the file', () => {
    const step = download({ accessKeyId: 'AKIAEXAMPLEKEY', secretAccessKey: SECRET, sessionToken: 'token-secret' }, { accessKeyId: 'S3_ACCESS_KEY' });
    expect(step.env).toBeUndefined();
    expect(step.commands[0]).toBe(
      '# Credentials: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN to the key of jobs.clara.sink (not shown here)',
    );
    expect(JSON.stringify(step)).not.toMatch(/AKIAEXAMPLEKEY|wJalrXUtnFEMI|token-secret/);
  });
});
