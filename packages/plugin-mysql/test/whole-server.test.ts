import { describe, expect, it } from 'vitest';
import { wholeServerParts } from '../src/whole-server.js';

const URL = 'mysql://root:pw@db:3306/';
const list = async () => ['crm', 'shop'];

describe('whole-server parts', () => {
  it('users first, then one part per database with its own URL', async () => {
    const parts = await wholeServerParts({ url: URL, databases: 'all', users: true, retryAttempts: 1 }, '', list);
    expect(parts).toEqual([
      { name: 'users', options: { url: URL, retryAttempts: 1, dump: 'users' } },
      { name: 'crm', options: { url: 'mysql://root:pw@db:3306/crm', retryAttempts: 1, dump: 'database' } },
      { name: 'shop', options: { url: 'mysql://root:pw@db:3306/shop', retryAttempts: 1, dump: 'database' } },
    ]);
  });

  it('a single database job does not expand; a named database the server lacks is one line', async () => {
    expect(await wholeServerParts({ url: 'mysql://u:p@db/shop' }, 'shop', list)).toBeUndefined();
    await expect(wholeServerParts({ url: URL, databases: ['shop', 'gone'] }, '', list)).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: 'database gone named in databases does not exist on the server (or the account cannot see it)',
    });
  });

  it('restore and ls: the parts found in the store, without asking the server', async () => {
    const never = async (): Promise<string[]> => {
      throw new Error('asked the server');
    };
    const parts = await wholeServerParts({ url: URL, databases: 'all', users: true }, '', never, ['shop', 'users']);
    expect(parts?.map((part) => part.name)).toEqual(['users', 'shop']);
  });
});
