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
import { guardSecret } from '../harness/secret-guard.js';

// `serve`'s status page in a real headless Chromium: a job backed up three
// times by `backupctl run` before serve started and once by serve's
// schedule, beside a job whose database does not exist. UI_TOKEN is set:
// the page is read-only until one logs in with it.

const pg = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const databases = useReferenceDatabases(pg);
const bucket = uniqueName('status-page');
const missingDb = uniqueName('no_such_db');
const UI_TOKEN = `ui-token-${uniqueName('secret')}-0123456789`;

let dir: string | undefined;
let file: string;
let browser: Browser;
let serve: RunningCli;
let url: string;

function env(): Record<string, string> {
  return referenceEnv(pg, databases, bucket, { overrides: { BROKEN_DATABASE_URL: pg.url(missingDb), UI_TOKEN } });
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
  for (const secret of [UI_TOKEN, TEST_PG_PASSWORD, encodeURIComponent(TEST_PG_PASSWORD), s3Info.secretAccessKey, s3Info.accessKeyId, 'postgresql://', s3Info.endpoint]) {
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
  guardSecret('UI_TOKEN', UI_TOKEN);
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
    // Its size and duration dots may overlap; either is the point (force: the other one "intercepts" the pointer).
    await chart.locator('g.pt').last().locator('circle.dot-size').hover({ force: true });
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
    // Contrast: every text's colour against the background it sits on, WCAG AA (4.5:1 for body-size text).
    const contrast = await page.evaluate<{ checked: number; failing: string[] }>(`(() => {
      const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
      const luminance = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
      const background = (element) => {
        for (let at = element; at; at = at.parentElement) {
          const colour = rgb(getComputedStyle(at).backgroundColor);
          if (colour.length === 3 || (colour.length === 4 && colour[3] > 0)) return colour;
        }
        return [255, 255, 255];
      };
      const failing = [];
      let checked = 0;
      for (const element of document.body.querySelectorAll('*')) {
        if (element.closest('svg') || ![...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim())) continue;
        checked += 1;
        const [a, b] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) failing.push(element.tagName + ' ' + ratio.toFixed(2) + ' ' + element.textContent.trim().slice(0, 30));
      }
      return { checked, failing };
    })()`);
    expect(contrast.failing).toEqual([]);
    expect(contrast.checked).toBeGreaterThan(30);
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

  it('token: actions hidden without a login, a wrong token refused, the right one runs a backup and verifies one; POSTs without the CSRF token or from elsewhere refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/`);
    expect(await page.locator('form[action="/actions/run"], form[action="/actions/verify"]').count()).toBe(0);
    expect(await page.locator('details.auth summary').textContent()).toBe('Log in for actions');

    // Not logged in: an action is refused whatever it carries.
    const anonymous = await fetch(`${url}/actions/run`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'job=clara&csrf=x' });
    expect(anonymous.status).toBe(403);

    // A wrong token: 401, no cookie, still no actions.
    await page.goto(`${url}/login`);
    await page.getByLabel('UI token').fill('not-the-token-0123456789');
    const refused = page.waitForResponse((response) => response.url().endsWith('/login') && response.request().method() === 'POST');
    await page.getByRole('button', { name: 'Log in' }).click();
    expect((await refused).status()).toBe(401);
    expect(await page.locator('[role=alert]').textContent()).toBe('That is not the token: nothing changed.');
    expect(await context.cookies()).toEqual([]);

    // The right one: a session cookie (HttpOnly, SameSite=Strict; not Secure over plain http), not the token.
    await page.getByLabel('UI token').fill(UI_TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${url}/`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'backupctl_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie!.value).not.toContain(UI_TOKEN);
    expect(await page.locator('form.auth span').textContent()).toBe('Logged in.');
    const clara = page.locator('section[data-job="clara"]');
    // Logged in, keys are shown.
    const keys = await claraKeys();
    expect(await clara.locator('table.backups tbody tr td code').first().textContent()).toBe([...keys].sort().at(-1));
    expectNoSecret(await page.content());

    // The session's cookie alone is not enough: no CSRF token, a wrong one, or another origin are refused.
    expect((await page.request.post(`${url}/actions/run`, { form: { job: 'clara' } })).status()).toBe(403);
    expect((await page.request.post(`${url}/actions/run`, { form: { job: 'clara', csrf: 'A'.repeat(43) } })).status()).toBe(403);
    const csrf = await clara.locator('form[action="/actions/run"] input[name=csrf]').getAttribute('value');
    const foreign = await page.request.post(`${url}/actions/run`, { form: { job: 'clara', csrf: csrf! }, headers: { Origin: 'http://evil.example' }, maxRedirects: 0 });
    expect(foreign.status()).toBe(403);
    expect(await claraKeys()).toEqual(keys);

    // Back up now: a new backup appears in the store and on the chart.
    await clara.getByRole('button', { name: 'Back up Clara DB now' }).click();
    await page.waitForURL(/notice=run-(started|busy)/);
    expect(await page.locator('.notice').textContent()).toBe('Backup of clara started.');
    await waitUntil(async () => (await claraKeys()).length === keys.length + 1, 'the backup asked for on the page');
    await waitUntil(async () => {
      await page.goto(`${url}/`);
      return (await clara.locator('figure.chart g.pt').count()) === keys.length + 1;
    }, 'the new backup on the chart');
    // The page names the run by the job, and nothing else changed: the broken job was not run.
    expect(await page.locator('section[data-job="broken"] .last-run').textContent()).toMatch(/^failed /);

    // Two asked for at once: the second is refused while the first runs (runs never overlap), and one backup is made.
    const idle = async () => ((await (await fetch(`${url}/health`)).json()) as { running: boolean }).running === false;
    await waitUntil(idle, 'the run to end');
    // Object names carry the second: a run started in the second of the last one would replace its object.
    await sleep(1100);
    const before = (await claraKeys()).length;
    const token = await clara.locator('form[action="/actions/run"] input[name=csrf]').getAttribute('value');
    const twice = await Promise.all(
      [1, 2].map(() => page.request.post(`${url}/actions/run`, { form: { job: 'clara', csrf: token! }, maxRedirects: 0 })),
    );
    expect(twice.map((response) => response.headers().location).sort()).toEqual(['/?notice=run-busy&job=clara', '/?notice=run-started&job=clara']);
    await waitUntil(async () => (await claraKeys()).length === before + 1, 'the one backup');
    await waitUntil(idle, 'the run to end');
    expect(await claraKeys()).toHaveLength(before + 1);

    // Verify the newest backup now: it restores into a scratch database and the row gets its mark.
    const newest = [...(await claraKeys())].sort().at(-1)!;
    await waitUntil(async () => {
      await page.goto(`${url}/`);
      return (await clara.locator('table.backups tbody tr').first().locator('td code').textContent()) === newest;
    }, 'the newest backup in the table');
    await clara.locator('table.backups tbody tr').first().getByRole('button', { name: /^Verify the backup of / }).click();
    await page.waitForURL(/notice=verify-(started|queued)/);
    await waitUntil(() => serve.output().stderr.includes(`Clara DB: verified ${newest}`), 'the verification');
    await waitUntil(async () => {
      await page.goto(`${url}/`);
      return (await clara.locator('table.backups tbody tr').first().locator('.mark-verified').count()) === 1;
    }, 'the verified mark');
    expect(await clara.locator('table.backups tbody tr').first().locator('td code').textContent()).toBe(newest);

    // `npm run docs:screenshot`: the logged-in page, as docs/status-page.md shows it.
    const screenshot = process.env.STATUS_PAGE_SCREENSHOT;
    if (screenshot) {
      await page.setViewportSize({ width: 1100, height: 900 });
      await page.screenshot({ path: path.resolve(screenshot), fullPage: true });
    }

    // Log out: the actions go, and the old cookie no longer works.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/notice=logged-out/);
    expect(await page.locator('form[action="/actions/run"]').count()).toBe(0);
    const replay = await fetch(`${url}/`, { headers: { Cookie: `backupctl_session=${cookie!.value}` } });
    expect(await replay.text()).not.toContain('/actions/run');
    await context.close();
  });

  it('a UI_TOKEN shorter than 16 characters: exit 2, one line, the token not shown', async () => {
    const result = await runCli(['serve', file, '--host', '127.0.0.1', '--port', '0'], { env: { ...env(), UI_TOKEN: 'short-tok' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('Error: UI_TOKEN is too short (9 characters, at least 16) (make one with: openssl rand -hex 32)');
  });

  it('--ui-public-keys: keys and the bucket shown without a login, still no secret, no actions', async () => {
    const { UI_TOKEN: _token, ...withoutToken } = env();
    const other = startCli(['serve', file, '--ui-public-keys', '--host', '127.0.0.1', '--port', '0'], { env: withoutToken, timeoutMs: 60_000 });
    try {
      await other.waitForOutput(/Health server listening on http:\/\/127\.0\.0\.1:\d+/);
      const otherUrl = /Health server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(other.output().stderr)![1]!;
      await waitUntil(async () => (await fetch(`${otherUrl}/ready`)).status === 200, '/ready');
      const body = await (await fetch(`${otherUrl}/`)).text();
      expect(body).toContain(`<code>${[...(await claraKeys())].sort().at(-1)}</code>`);
      expect(body).toContain(`<code>${bucket}</code>`);
      expect(body).not.toContain('/actions/');
      expect(body).not.toContain('action="/login"');
      expectNoSecret(body);
      // No token, no login: the routes are not there.
      expect((await fetch(`${otherUrl}/login`)).status).toBe(404);
      expect((await fetch(`${otherUrl}/actions/run`, { method: 'POST' })).status).toBe(405);
    } finally {
      other.child.kill('SIGTERM');
      await other.result;
    }
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
