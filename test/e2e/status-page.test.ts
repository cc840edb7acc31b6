import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  makeTempDir,
  referenceEnv,
  removeTempDir,
  runCli,
  startCli,
  TEST_PG_PASSWORD,
  uniqueName,
  useReferenceDatabases,
  usePostgres,
  useS3,
  type RunningCli,
} from '../harness/index.js';
import { launchBrowser } from '../harness/browser.js';

// `serve`'s status page in a real headless Chromium: a job backed up three
// times by `backupctl run` before serve started and once by serve's
// schedule, beside a job whose database does not exist.

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const databases = useReferenceDatabases(pg);
const bucket = uniqueName('status-page');
const missingDb = uniqueName('no_such_db');

let dir: string | undefined;
let file: string;
let browser: Browser;
let serve: RunningCli;
let url: string;

function env(): Record<string, string> {
  return referenceEnv(pg, databases, bucket, { overrides: { BROKEN_DATABASE_URL: pg.url(missingDb) } });
}

/** Two jobs into one bucket: clara (works) and broken (its database does not exist). */
async function writePipeline(): Promise<string> {
  const sink = (prefix: string) =>
    `    sink: { use: s3, with: { bucket: "\${S3_BUCKET}", endpoint: "\${S3_ENDPOINT_URL}", accessKeyId: "\${S3_ACCESS_KEY}", secretAccessKey: "\${S3_SECRET_KEY}", prefix: ${prefix} } }`;
  const lines = [
    'version: 1',
    'jobs:',
    '  clara:',
    '    title: Clara DB',
    '    source: { use: postgres, with: { url: "${DATABASE_URL}", retryAttempts: 1 } }',
    '    transforms: [{ use: gzip }]',
    sink('backups/clara/'),
    '  broken:',
    '    title: Broken DB',
    '    source: { use: postgres, with: { url: "${BROKEN_DATABASE_URL}", retryAttempts: 1 } }',
    '    transforms: [{ use: gzip }]',
    sink('backups/broken/'),
    '',
  ];
  const pipeline = path.join(dir!, 'backupctl.yml');
  await writeFile(pipeline, lines.join('\n'));
  return pipeline;
}

/** A cron pattern (six fields, UTC) that fires once, `seconds` from now. */
function onceIn(seconds: number): string {
  const at = new Date(Date.now() + seconds * 1000);
  return `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
}

async function claraKeys(): Promise<string[]> {
  return (await s3.listKeys(bucket, 'backups/clara/')).filter((key) => /^backups\/clara\/[^/]+\.sql\.gz$/.test(key));
}

function expectNoSecret(text: string): void {
  for (const secret of [TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), s3Info.secretAccessKey, s3Info.accessKeyId, 'postgresql://', s3Info.endpoint]) {
    expect(text).not.toContain(secret);
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function open(path = '/'): Promise<Page> {
  const page = await browser.newPage();
  const response = await page.goto(`${url}${path}`);
  expect(response?.status()).toBe(200);
  return page;
}

beforeAll(async () => {
  await s3.createBucket(bucket);
  dir = await makeTempDir('backupctl-status-page-');
  file = await writePipeline();
  for (let run = 0; run < 3; run++) {
    // Backups are named to the second: two runs within one second would make one object.
    if (run > 0) await sleep(1100);
    const result = await runCli(['run', file, '--job', 'clara'], { env: env() });
    expect(result.code, result.stderr).toBe(0);
  }
  serve = startCli(['serve', file, '--host', '127.0.0.1', '--port', '0', '--schedule', onceIn(4)], { env: env(), timeoutMs: 240_000 });
  await serve.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
  url = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serve.output().stderr)![1]!;
  await serve.waitForOutput(/Backup failed: 1 of 2 jobs failed \(broken\)/);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (serve) {
    serve.child.kill('SIGTERM');
    const result = await serve.result;
    expectNoSecret(result.stderr);
  }
  await removeTempDir(dir);
});

describe('the status page in headless Chromium', () => {
  it('shows each job: last run, next run, the newest backups from the store, and the failing job\'s error line', async () => {
    const keys = await claraKeys();
    expect(keys).toHaveLength(4);
    const page = await open();
    expect(await page.title()).toBe('backupctl status');
    expect(await page.locator('h1').textContent()).toBe('backupctl status');
    expect(await page.locator('section.job').evaluateAll((sections) => sections.map((section) => section.getAttribute('data-job')))).toEqual(['clara', 'broken']);
    const clara = page.locator('section[data-job="clara"]');
    expect(await clara.locator('h2').textContent()).toBe('Clara DB (clara)');
    expect(await clara.locator('.last-run').textContent()).toMatch(/^succeeded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, \d+\.\d s, \d+(\.\d+)? (B|KB|MB)$/);
    expect(await clara.locator('.next-run').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await clara.locator('.count').textContent()).toBe('4');
    expect(await clara.locator('table.backups caption').textContent()).toBe('Newest backups of Clara DB (4 of 4)');
    expect(await clara.locator('table.backups tbody tr').count()).toBe(4);
    // Newest first; the durations come from each backup's record in the store, also for the three made before serve.
    const rows = await clara.locator('table.backups tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    expect(rows.map((row) => row[0])).toEqual([...rows.map((row) => row[0])].sort().reverse());
    for (const row of rows) expect(row.slice(1, 4)).toEqual([expect.stringMatching(/^\d+(\.\d+)? (B|KB|MB)$/), expect.stringMatching(/^\d+\.\d s$/), 's3']);

    const broken = page.locator('section[data-job="broken"]');
    expect(await broken.locator('.last-run').textContent()).toMatch(/^failed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, \d+\.\d s$/);
    expect(await broken.locator('.error-line').textContent()).toMatch(/^SOURCE_FAILED: .+/);
    expect(await broken.locator('.newest').textContent()).toBe('none in the store');
    expect(await broken.locator('table').count()).toBe(0);
    await page.close();
  });

  it('charts every backup in the store (size and duration), and hovering a point shows that backup', async () => {
    const keys = await claraKeys();
    const page = await open();
    const chart = page.locator('section[data-job="clara"] figure.chart');
    expect(await chart.locator('g.pt').count()).toBe(keys.length);
    expect(await chart.locator('circle.dot-duration').count()).toBe(keys.length);
    expect(await chart.locator('polyline.line-size').getAttribute('points')).toMatch(new RegExp(`^([\\d.]+,[\\d.]+ ){${keys.length - 1}}[\\d.]+,[\\d.]+$`));
    // The points' times are the backups' own (from their names), oldest first.
    const stamps = keys.map((key) => /_(\d{8}_\d{6})\.sql\.gz$/.exec(key)![1]!).sort();
    const times = await chart.locator('g.pt').evaluateAll((points) => points.map((point) => point.getAttribute('data-time')!));
    expect(times.map((time) => time.replace(/[-:]/g, '').replace('T', '_').slice(0, 15))).toEqual(stamps);
    // Hover the newest point: the line under the chart names it as the table's first row does.
    const newestRow = await page.locator('section[data-job="clara"] table.backups tbody tr').first().locator('th').textContent();
    expect(await chart.locator('.chart-tip').textContent()).toBe('Point at a backup to see it.');
    await chart.locator('g.pt').last().locator('circle.dot-size').hover();
    expect(await chart.locator('.chart-tip').textContent()).toMatch(new RegExp(`^${newestRow} UTC: \\d+(\\.\\d+)? (B|KB|MB), \\d+\\.\\d s, copies: s3$`));
    // No chart for a job with no backup.
    expect(await page.locator('section[data-job="broken"] figure.chart').count()).toBe(0);
    await page.close();
  });

  it('shows no key, bucket, URL or secret without a login, and every table and field is labelled', async () => {
    const page = await open();
    const body = await page.content();
    expectNoSecret(body);
    expect(body).not.toContain(bucket);
    expect(body).not.toContain('backups/clara/');
    expect(body).not.toContain(missingDb);
    // Table semantics: a caption, column headers with scope, a row header per row.
    const tables = await page.locator('table').evaluateAll((all) =>
      all.map((table) => ({
        caption: table.querySelector('caption')?.textContent ?? '',
        scopes: [...table.querySelectorAll('th')].map((th) => th.getAttribute('scope')),
      })),
    );
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      expect(table.caption).not.toBe('');
      expect(table.scopes.every((scope) => scope === 'col' || scope === 'row')).toBe(true);
    }
    const unlabelled = await page.locator('input:not([type=hidden])').evaluateAll((inputs) =>
      inputs.filter((input) => !input.id || !input.ownerDocument.querySelector(`label[for="${input.id}"]`)).length,
    );
    expect(unlabelled).toBe(0);
    expect(await page.locator('h1').count()).toBe(1);
    expect(await page.locator('h2').count()).toBe(2);
    await page.close();
  });

  it('is usable at phone width (375 px): nothing wider than the screen, headings and tables visible', async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await page.goto(`${url}/`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    expect(await page.locator('h1').isVisible()).toBe(true);
    const box = await page.locator('section[data-job="clara"] table.backups').boundingBox();
    expect(box).not.toBeNull();
    // The table scrolls inside its box rather than widening the page.
    const wrap = await page.locator('section[data-job="clara"] .table-wrap').boundingBox();
    expect(wrap!.x + wrap!.width).toBeLessThanOrEqual(375);
    await page.close();
  });

  it('--no-ui: GET / is not found, /health still answers', async () => {
    const other = startCli(['serve', file, '--no-ui', '--host', '127.0.0.1', '--port', '0'], { env: env(), timeoutMs: 60_000 });
    try {
      await other.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
      const otherUrl = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(other.output().stderr)![1]!;
      expect((await fetch(`${otherUrl}/`)).status).toBe(404);
      expect((await fetch(`${otherUrl}/ui/status.css`)).status).toBe(404);
      await waitUntil(async () => (await fetch(`${otherUrl}/ready`)).status === 200, '/ready');
      expect((await fetch(`${otherUrl}/health`)).status).toBe(200);
    } finally {
      other.child.kill('SIGTERM');
      await other.result;
    }
  });
});
