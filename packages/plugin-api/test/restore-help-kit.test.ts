import { describe, expect, it } from 'vitest';
import { BackupctlError, Type, definePlugin, shellWord } from '@backupctl/plugin-api';
import { restoreHelpContext } from '@backupctl/plugin-api/testing';

const sink = definePlugin({
  name: 'tape',
  kind: 'sink',
  schema: Type.Object({ drive: Type.String({ minLength: 1 }), label: Type.String({ default: 'nightly' }) }, { additionalProperties: false }),
  create: () => {
    throw new Error('not in these tests');
  },
  restoreHelp: { download: ({ file }, { options }) => ({ commands: [`tape-get ${shellWord(options.drive)} ${shellWord(file)}`] }) },
});

describe('shellWord', () => {
  it('keeps plain words and single-quotes the rest', () => {
    expect(shellWord('backups/clara_20260201.sql.gz')).toBe('backups/clara_20260201.sql.gz');
    expect(shellWord('https://s3.example.com:9000')).toBe('https://s3.example.com:9000');
    expect(shellWord('/srv/my backups')).toBe("'/srv/my backups'");
    expect(shellWord("it's $HOME")).toBe(`'it'\\''s $HOME'`);
    expect(shellWord('')).toBe("''");
  });
});

describe('restoreHelpContext', () => {
  it('gives the options checked with defaults filled in, and the variables as written', () => {
    const context = restoreHelpContext(sink, { drive: '/dev/st0' }, { job: 'clara', variables: { drive: 'TAPE_DRIVE' } });
    expect(context).toMatchObject({ options: { drive: '/dev/st0', label: 'nightly' }, job: 'clara', use: 'tape', path: 'jobs.clara.sink' });
    expect(context.variable('drive')).toBe('TAPE_DRIVE');
    expect(context.variable('label')).toBeUndefined();
    expect(sink.restoreHelp!.download({ key: 'k/a.gz', file: 'a.gz' }, context)).toEqual({ commands: ['tape-get /dev/st0 a.gz'] });
  });

  it('refuses options that do not fit the schema, as createTestInstance does', () => {
    expect(() => restoreHelpContext(sink, {})).toThrow(BackupctlError);
  });
});
