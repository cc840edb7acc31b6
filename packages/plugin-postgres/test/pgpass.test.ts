import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionUrl } from '../src/connection-url.js';
import { lookUpPassfilePassword } from '../src/pgpass.js';

let dir: string;
let passfile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgpass-test-'));
  passfile = join(dir, 'pgpass');
  await writeFile(
    passfile,
    ['# comment', 'other:5432:*:clara:wrong', 'db:5432:clara_main:clara:pa\\:ss\\\\word', '*:*:*:*:fallback', ''].join('\n'),
  );
  await chmod(passfile, 0o600);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const settingsFor = (url: string, file = passfile) =>
  parseConnectionUrl(`${url}${url.includes('?') ? '&' : '?'}passfile=${encodeURIComponent(file)}`);

describe('lookUpPassfilePassword', () => {
  it('takes the first matching line, with escapes removed', async () => {
    expect(await lookUpPassfilePassword(settingsFor('postgresql://clara@db:5432/clara_main'))).toBe('pa:ss\\word');
    expect(await lookUpPassfilePassword(settingsFor('postgresql://mem0@elsewhere/mem0'))).toBe('fallback');
  });

  it('ignores a file others can read, as libpq does', async () => {
    const open = join(dir, 'open');
    await writeFile(open, '*:*:*:*:secret\n');
    await chmod(open, 0o644);
    expect(await lookUpPassfilePassword(settingsFor('postgresql://clara@db/clara', open))).toBeUndefined();
  });

  it('returns undefined without a file', async () => {
    expect(await lookUpPassfilePassword(settingsFor('postgresql://clara@db/clara', join(dir, 'missing')))).toBeUndefined();
  });
});
