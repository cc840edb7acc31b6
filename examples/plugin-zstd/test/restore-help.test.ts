import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

describe('zstd restoreHelp', () => {
  it('decompresses name.zst to name with zstd -d, or the program of with: path', () => {
    expect(plugin.restoreHelp!.title).toBe('Decompress');
    expect(plugin.restoreHelp!.undo('clara.sql.zst', restoreHelpContext(plugin))).toEqual({ commands: ['zstd -d clara.sql.zst'], file: 'clara.sql' });
    expect(plugin.restoreHelp!.undo('clara.sql', restoreHelpContext(plugin, { path: '/opt/zstd 1.5/zstd' }))).toEqual({
      commands: [`'/opt/zstd 1.5/zstd' -d clara.sql -o clara.sql.out`],
      file: 'clara.sql.out',
    });
  });
});
