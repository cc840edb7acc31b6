import path from 'node:path';
import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

describe('file restoreHelp', () => {
  const download = (options: Record<string, unknown>, key: string) =>
    plugin.restoreHelp!.download({ key, file: path.posix.basename(key) }, restoreHelpContext(plugin, options));

  it('copies the object from the directory', () => {
    expect(download({ directory: '/srv/backups', prefix: 'clara/' }, 'clara/clara_20260201_030000.dump')).toEqual({
      commands: ['cp /srv/backups/clara/clara_20260201_030000.dump .'],
    });
  });

  it('resolves a relative directory as the store does, and quotes odd paths', () => {
    expect(download({ directory: 'my backups' }, 'a.sql.gz').commands).toEqual([`cp '${path.resolve('my backups')}/a.sql.gz' .`]);
  });
});
