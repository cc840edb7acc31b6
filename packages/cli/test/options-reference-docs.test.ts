import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OUT_OF_DATE, referencePath, renderReference } from '../../../scripts/options-reference.js';

// docs/reference.md is rendered from the built plugins' schemas by
// `npm run docs:reference`; a schema changed without regenerating it fails here.
describe('docs/reference.md', () => {
  it('is what npm run docs:reference renders from the plugins and hooks', async () => {
    const committed = await readFile(referencePath, 'utf8').catch(() => '(missing)');
    expect(committed, OUT_OF_DATE).toBe(await renderReference());
  });

  it('documents every built-in plugin and hook and the example plugins', async () => {
    const rendered = await renderReference();
    const headings = [...rendered.matchAll(/^### (.+)$/gm)].map((match) => match[1]);
    expect(headings).toEqual([
      'postgres (source)',
      'mysql (source)',
      'gzip (transform)',
      's3 (sink)',
      'file (sink)',
      'sftp (sink)',
      'azure (sink)',
      'respawn (hook)',
      'retention (hook)',
      'verify (hook)',
      'webhook (hook)',
      'email (hook)',
      'slack (hook)',
      'discord (hook)',
      'teams (hook)',
      'telegram (hook)',
      'ntfy (hook)',
      'ping (hook)',
      'anomaly',
      'age (transform)',
      'zstd (transform)',
    ]);
    expect(rendered).toContain('| `storageClass` | string | - |');
  });
});
