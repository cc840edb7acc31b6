import { formatSize } from '@backupctl/plugin-api';
import { formatUtcTime, type BackupHistoryEntry } from '@backupctl/core';
import { html, type SafeHtml } from './html.js';

// The plot in viewBox units; the SVG scales to its box's width (CSS), so a
// phone gets the same chart, smaller.
const WIDTH = 720;
const HEIGHT = 220;
const LEFT = 62;
const RIGHT = 58;
const TOP = 12;
const BOTTOM = 30;
const PLOT_W = WIDTH - LEFT - RIGHT;
const PLOT_H = HEIGHT - TOP - BOTTOM;
const GRID_LINES = 4;

/**
 * A job's backups as a chart, drawn here as inline SVG: stored size (solid
 * line, left axis) and duration (dashed, right axis) over time, both from
 * zero, so a database that halved or a backup that stopped growing shows.
 * One point per backup (`g.pt`), whose <title> is the browser's tooltip
 * and the line under the chart (status-assets.ts). No library and no
 * script needed; 1,000 backups make about 1,000 small elements.
 */
export function renderBackupChart(title: string, newestFirst: readonly BackupHistoryEntry[]): SafeHtml {
  const backups = [...newestFirst].reverse();
  const first = backups[0]!.time.getTime();
  const last = backups.at(-1)!.time.getTime();
  const maxSize = Math.max(1, ...backups.map((backup) => backup.size));
  const durations = backups.flatMap((backup) => (backup.durationMs === undefined ? [] : [backup.durationMs]));
  const maxDuration = Math.max(1, ...durations);
  const x = (time: Date) => (last === first ? LEFT + PLOT_W / 2 : LEFT + ((time.getTime() - first) / (last - first)) * PLOT_W);
  const ySize = (size: number) => TOP + PLOT_H - (size / (maxSize * 1.05)) * PLOT_H;
  const yDuration = (ms: number) => TOP + PLOT_H - (ms / (maxDuration * 1.05)) * PLOT_H;
  const sizeLine = backups.map((backup) => `${round(x(backup.time))},${round(ySize(backup.size))}`).join(' ');
  const durationLine = backups.flatMap((backup) => (backup.durationMs === undefined ? [] : [`${round(x(backup.time))},${round(yDuration(backup.durationMs))}`])).join(' ');
  const span = `${formatUtcTime(backups[0]!.time)} to ${formatUtcTime(backups.at(-1)!.time)}`;
  const summary = `Stored size and duration of ${backups.length} backups of ${title}, ${span}; newest ${formatSize(backups.at(-1)!.size)}`;
  return html`<figure class="chart" data-points="${backups.length}">
<figcaption>Backups of ${title} over time: <span class="legend-size">— stored size</span> (left axis), <span class="legend-duration">- - duration</span> (right axis).</figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${summary}" xmlns="http://www.w3.org/2000/svg">
${grid(maxSize, durations.length ? maxDuration : undefined)}
<text class="axis" x="${LEFT}" y="${HEIGHT - 8}">${day(backups[0]!.time, last - first)}</text>
${last !== first ? html`<text class="axis" x="${LEFT + PLOT_W}" y="${HEIGHT - 8}" text-anchor="end">${day(backups.at(-1)!.time, last - first)}</text>` : ''}
<polyline class="line-size" points="${sizeLine}"/>
${durations.length > 1 ? html`<polyline class="line-duration" points="${durationLine}"/>` : ''}
${backups.map((backup) => point(backup, x(backup.time), ySize(backup.size), backup.durationMs === undefined ? undefined : yDuration(backup.durationMs)))}
</svg>
<p class="chart-tip" aria-live="polite">Point at a backup to see it.</p>
</figure>`;
}

function grid(maxSize: number, maxDuration: number | undefined): SafeHtml[] {
  const lines: SafeHtml[] = [];
  for (let step = 0; step <= GRID_LINES; step++) {
    const fraction = step / GRID_LINES;
    const y = round(TOP + PLOT_H - fraction * PLOT_H);
    lines.push(html`<line class="grid" x1="${LEFT}" x2="${LEFT + PLOT_W}" y1="${y}" y2="${y}"/>
<text class="axis" x="${LEFT - 6}" y="${y + 4}" text-anchor="end">${formatSize(Math.round(fraction * maxSize * 1.05))}</text>
${maxDuration === undefined ? '' : html`<text class="axis" x="${LEFT + PLOT_W + 6}" y="${y + 4}">${seconds(fraction * maxDuration * 1.05)}</text>`}`);
  }
  return lines;
}

function point(backup: BackupHistoryEntry, x: number, ySize: number, yDuration: number | undefined): SafeHtml {
  const marks = [backup.verified === 'passed' ? 'verified' : '', backup.verified === 'failed' ? 'verify failed' : '', backup.anomaly ? 'anomaly' : ''].filter(Boolean);
  const label =
    `${formatUtcTime(backup.time)}: ${formatSize(backup.size)}` +
    (backup.durationMs === undefined ? '' : `, ${seconds(backup.durationMs)}`) +
    `, copies: ${backup.copies.join(', ')}` +
    (marks.length ? ` (${marks.join(', ')})` : '');
  const flagged = backup.anomaly || backup.verified === 'failed';
  return html`<g class="pt${flagged ? ' flagged' : ''}" data-time="${backup.time.toISOString()}"><title>${label}</title><circle class="dot-size" cx="${round(x)}" cy="${round(ySize)}" r="3.5"/>${yDuration === undefined ? '' : html`<circle class="dot-duration" cx="${round(x)}" cy="${round(yDuration)}" r="2.5"/>`}</g>
`;
}

/** The x axis's ends: the day, and the time too when the backups span less than two days. */
function day(time: Date, spanMs: number): string {
  return spanMs < 2 * 86_400_000 ? `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC` : time.toISOString().slice(0, 10);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
