import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const IDENTITY = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ';

describe('age restoreHelp', () => {
  const undo = (options: Record<string, unknown>, variables: Record<string, string> = {}) =>
    plugin.restoreHelp!.undo('clara.sql.gz.age', restoreHelpContext(plugin, options, { job: 'clara', path: 'jobs.clara.transforms[1]', variables }));

  it('decrypts name.age to name with age -d -i key.txt, saying where the secret key is kept, never the key', () => {
    expect(plugin.restoreHelp!.title).toBe('Decrypt');
    const step = undo({ recipients: 'age1xyz', identities: IDENTITY }, { identities: 'AGE_KEY' });
    expect(step.file).toBe('clara.sql.gz');
    expect(step.commands).toEqual(['age -d -i key.txt -o clara.sql.gz clara.sql.gz.age']);
    expect(step.text).toContain('as in $AGE_KEY');
    expect(JSON.stringify(step)).not.toContain(IDENTITY);
    expect(undo({ recipients: 'age1xyz' }).text).toContain('$AGE_IDENTITY_FILE (a file) or $AGE_IDENTITY');
  });

  it('uses the identity file by its variable, and lets age ask for a passphrase', () => {
    expect(undo({ identityFile: '/keys/age.txt' }, { identityFile: 'AGE_IDENTITY_FILE' }).commands).toEqual([
      'age -d -i "$AGE_IDENTITY_FILE" -o clara.sql.gz clara.sql.gz.age',
    ]);
    const passphrase = undo({ passphrase: 'correct horse' });
    expect(passphrase.commands).toEqual(['age -d -o clara.sql.gz clara.sql.gz.age']);
    expect(passphrase.text).toBe('age asks for the passphrase: the passphrase of jobs.clara.transforms[1]');
    expect(JSON.stringify(passphrase)).not.toContain('correct horse');
  });
});
