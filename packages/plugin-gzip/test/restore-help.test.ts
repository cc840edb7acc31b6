import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

describe('gzip restoreHelp', () => {
  const help = plugin.restoreHelp!;

  it('gunzips name.gz to name', () => {
    expect(help.title).toBe('Decompress');
    expect(help.undo('clara_20260201_030000.sql.gz', restoreHelpContext(plugin))).toEqual({
      commands: ['gunzip clara_20260201_030000.sql.gz'],
      file: 'clara_20260201_030000.sql',
    });
  });

  it('decompresses a file not named .gz beside itself, quoting odd names', () => {
    expect(help.undo("it's.sql", restoreHelpContext(plugin))).toEqual({
      commands: [`gzip -dc 'it'\\''s.sql' > 'it'\\''s.sql.out'`],
      file: "it's.sql.out",
    });
  });
});
