import { formatSize } from '@backupctl/plugin-api';
import { formatUtcTime, type BackupHistoryEntry } from '@backupctl/core';
import type { HealthReport, JobHealth } from '../health-state.js';
import { renderBackupChart } from './backup-chart.js';
import { html, type SafeHtml } from './html.js';

/** How many of a job's newest backups the table lists; the chart shows them all. */
export const NEWEST_SHOWN = 10;

/** Who is looking: no token configured, a visitor, or someone logged in with the token (the only one shown actions). */
export type Viewer = { kind: 'public' } | { kind: 'visitor' } | { kind: 'operator'; csrf: string };

/** One section of a job: the job itself, or one database of a whole-server job. */
export interface SectionView {
  job: string;
  title: string;
  /** The store's place (bucket, directory): only when keys may be shown. */
  location?: string;
  copies: string[];
  /** Newest first. */
  backups: BackupHistoryEntry[];
  /** This section's runs in this process. */
  health?: JobHealth;
}

/** A configured job as the page shows it. */
export interface JobView {
  name: string;
  title: string;
  /** Why `run` skips it here (a database URL not set). */
  skipReason?: string;
  sections: SectionView[];
  /** The store could not be read: the error's code only (the message goes to the log: it may name hosts). */
  storeError?: string;
}

/** Everything the page shows; holds nothing secret (see status-view.ts, which builds it). */
export interface StatusView {
  version: string;
  now: Date;
  status: HealthReport['status'];
  running: boolean;
  schedule?: { pattern: string; nextRun: Date | null };
  verifySchedule?: { pattern: string; nextRun: Date | null };
  /** Object keys and store places shown (logged in, or --ui-public-keys). */
  showKeys: boolean;
  viewer: Viewer;
  /** A line about the last action, shown once above the jobs. */
  notice?: { kind: 'ok' | 'error'; text: string };
  jobs: JobView[];
}

/**
 * The status page: server-rendered HTML, every value escaped (html.ts),
 * a chart per job drawn as inline SVG (backup-chart.ts).
 * Plain HTML and CSS; the script (status-assets.ts) only adds the chart's
 * hover line, so the page reads the same without it.
 */
export function renderStatusPage(view: StatusView): string {
  return page('backupctl status', [
    html`<header class="top">
  <h1>backupctl status</h1>
  <p class="overall status-${view.status}">Overall: <strong>${view.status}</strong>${view.running ? ' · a backup is running' : ''}</p>
  <p class="schedule">${scheduleLine('Backups', view.schedule)} · ${scheduleLine('Verifications', view.verifySchedule)}</p>
  ${authBox(view.viewer)}
</header>
<main>
${view.notice ? html`<p class="notice notice-${view.notice.kind}" role="status">${view.notice.text}</p>` : ''}
${view.jobs.length ? view.jobs.map((job) => jobSection(job, view)) : html`<p>No job loaded yet.</p>`}
</main>
<footer><p>backupctl ${view.version} · page made ${formatUtcTime(view.now)} · <a href="/health">/health</a> · <a href="/metrics">/metrics</a></p></footer>`,
  ]);
}

/** The login form alone, for GET /login and a refused login. */
export function renderLoginPage(message?: string): string {
  return page('backupctl: log in', [
    html`<header class="top"><h1>backupctl status: log in</h1></header>
<main>
${message ? html`<p class="notice notice-error" role="alert">${message}</p>` : ''}
${loginForm()}
<p><a href="/">Back to the status page</a></p>
</main>`,
  ]);
}

function page(title: string, body: SafeHtml[]): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="stylesheet" href="/ui/status.css">
<script src="/ui/status.js" defer></script>
</head>
<body>
${body}
</body>
</html>
`.text;
}

function scheduleLine(what: string, schedule: StatusView['schedule']): SafeHtml {
  if (!schedule) return html`${what}: not scheduled here`;
  return html`${what}: <code>${schedule.pattern}</code> (UTC), next ${schedule.nextRun ? formatUtcTime(schedule.nextRun) : 'never'}`;
}

function authBox(viewer: Viewer): SafeHtml | string {
  if (viewer.kind === 'public') return '';
  if (viewer.kind === 'visitor') return html`<details class="auth"><summary>Log in for actions</summary>${loginForm()}</details>`;
  return html`<form class="auth" method="post" action="/logout"><input type="hidden" name="csrf" value="${viewer.csrf}"><span>Logged in.</span> <button type="submit">Log out</button></form>`;
}

function loginForm(): SafeHtml {
  return html`<form class="login" method="post" action="/login">
<label for="ui-token">UI token</label>
<input id="ui-token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>`;
}

function jobSection(job: JobView, view: StatusView): SafeHtml {
  const id = `job-${job.name}`;
  return html`<section class="job" id="${id}" data-job="${job.name}" aria-labelledby="${id}-title">
<h2 id="${id}-title">${job.title} <span class="job-name">(${job.name})</span></h2>
${job.skipReason ? html`<p class="skip">Skipped here: ${job.skipReason}</p>` : ''}
${job.storeError ? html`<p class="error-line" role="alert">The store could not be read (${job.storeError}); the log says why.</p>` : ''}
${runAction(job, view)}
${job.sections.map((section) => sectionBlock(job, section, view))}
</section>`;
}

function runAction(job: JobView, view: StatusView): SafeHtml | string {
  if (view.viewer.kind !== 'operator' || job.skipReason) return '';
  return html`<form class="action" method="post" action="/actions/run">
<input type="hidden" name="csrf" value="${view.viewer.csrf}"><input type="hidden" name="job" value="${job.name}">
<button type="submit">Back up ${job.title} now</button>
</form>`;
}

function sectionBlock(job: JobView, section: SectionView, view: StatusView): SafeHtml {
  const part = section.job !== job.name;
  return html`<div class="section" data-section="${section.job}">
${part ? html`<h3>${section.title}</h3>` : ''}
${facts(section, view)}
${section.backups.length ? renderBackupChart(section.title, section.backups) : ''}
${backupTable(job, section, view)}
</div>`;
}

function facts(section: SectionView, view: StatusView): SafeHtml {
  const health = section.health;
  const newest = section.backups[0];
  return html`<dl class="facts">
<dt>Last run</dt><dd class="last-run">${lastRun(health)}</dd>
${health?.lastFailure && health.lastRun?.result === 'failed' ? html`<dt>Error</dt><dd class="error-line">${failure(health.lastFailure)}</dd>` : ''}
<dt>Next run</dt><dd class="next-run">${view.schedule?.nextRun ? formatUtcTime(view.schedule.nextRun) : 'not scheduled here'}</dd>
<dt>Newest backup</dt><dd class="newest">${newest ? html`${formatUtcTime(newest.time)}, ${formatSize(newest.size)}` : 'none in the store'}</dd>
<dt>Backups stored</dt><dd class="count">${section.backups.length}${view.showKeys && section.location ? html` in <code>${section.location}</code>` : ''}</dd>
${health?.lastVerification ? html`<dt>Last verification</dt><dd class="last-verification result-${health.lastVerification.result}">${health.lastVerification.result}, ${formatUtcTime(health.lastVerification.at)}</dd>` : ''}
${health?.freshness?.stale ? html`<dt>Staleness</dt><dd class="result-failed">stale: no backup for over ${health.freshness.staleAfterHours} h</dd>` : ''}
</dl>`;
}

function lastRun(health: JobHealth | undefined): SafeHtml | string {
  const run = health?.lastRun;
  if (!run) return 'none since serve started';
  const size = run.result === 'succeeded' && health.lastSuccess ? html`, ${formatSize(health.lastSuccess.sizeBytes)}` : '';
  return html`<span class="result-${run.result}">${run.result}</span> ${formatUtcTime(run.at)}, ${seconds(run.durationSeconds * 1000)}${size}`;
}

function failure(lastFailure: NonNullable<JobHealth['lastFailure']>): SafeHtml {
  return html`<code>${lastFailure.code}</code>${lastFailure.hint ? html`: ${lastFailure.hint}` : ''}`;
}

function backupTable(job: JobView, section: SectionView, view: StatusView): SafeHtml | string {
  if (section.backups.length === 0) return '';
  const shown = section.backups.slice(0, NEWEST_SHOWN);
  // A whole-server job's database is verified with the whole job (`backupctl verify`), not by one part's key.
  const verify = view.viewer.kind === 'operator' && !job.skipReason && section.job === job.name ? view.viewer.csrf : undefined;
  return html`<div class="table-wrap"><table class="backups">
<caption>Newest backups of ${section.title} (${shown.length} of ${section.backups.length})</caption>
<thead><tr><th scope="col">Taken (UTC)</th><th scope="col">Size</th><th scope="col">Duration</th><th scope="col">Copies</th><th scope="col">Marks</th>${view.showKeys ? html`<th scope="col">Key</th>` : ''}${verify ? html`<th scope="col">Action</th>` : ''}</tr></thead>
<tbody>
${shown.map(
  (backup) => html`<tr>
<th scope="row">${formatUtcTime(backup.time).replace(' UTC', '')}</th><td>${formatSize(backup.size)}</td><td>${backup.durationMs === undefined ? '–' : seconds(backup.durationMs)}</td><td>${backup.copies.join(', ')}</td><td>${marks(backup)}</td>${view.showKeys ? html`<td><code>${backup.key}</code></td>` : ''}${verify ? html`<td>${verifyAction(job, backup, verify)}</td>` : ''}
</tr>`,
)}
</tbody>
</table></div>`;
}

function marks(backup: BackupHistoryEntry): SafeHtml | string {
  const shown = [
    backup.verified === 'passed' ? html`<span class="mark mark-verified">verified</span>` : '',
    backup.verified === 'failed' ? html`<span class="mark mark-failed">verify failed</span>` : '',
    backup.anomaly ? html`<span class="mark mark-anomaly">anomaly</span>` : '',
  ].filter(Boolean);
  return shown.length ? html`${shown}` : '–';
}

function verifyAction(job: JobView, backup: BackupHistoryEntry, csrf: string): SafeHtml {
  return html`<form method="post" action="/actions/verify">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="job" value="${job.name}"><input type="hidden" name="key" value="${backup.key}">
<button type="submit" aria-label="Verify the backup of ${formatUtcTime(backup.time)}">Verify</button>
</form>`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
