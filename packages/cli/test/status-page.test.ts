import { describe, expect, it } from 'vitest';
import type { BackupHistoryEntry } from '@backupctl/core';
import { formatSize } from '@backupctl/plugin-api';
import { html, escapeHtml } from '../src/server/status-page/html.js';
import { renderBackupChart } from '../src/server/status-page/backup-chart.js';
import { renderStatusPage, type StatusView } from '../src/server/status-page/status-page.js';

const NOW = new Date('2026-02-01T04:00:00Z');

function backups(count: number): BackupHistoryEntry[] {
  // Newest first, one a day back from NOW, growing by 1 KiB a day.
  return Array.from({ length: count }, (_, index) => ({
    key: `backups/clara/clara_${index}.sql.gz`,
    size: 2_000_000 - index * 1024,
    time: new Date(NOW.getTime() - (index + 1) * 86_400_000),
    copies: ['s3'],
    durationMs: 2_000 + index,
  }));
}

function view(overrides: Partial<StatusView> = {}): StatusView {
  return {
    version: '0.1.0',
    now: NOW,
    status: 'ok',
    running: false,
    showKeys: false,
    viewer: { kind: 'public' },
    jobs: [{ name: 'clara', title: 'Clara DB', sections: [{ job: 'clara', title: 'Clara DB', copies: ['s3'], backups: backups(3) }] }],
    ...overrides,
  };
}

describe('html', () => {
  it('escapes every inserted value and keeps nested templates as they are', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'"onmouseover="x'}">${inner}${['<', 1]}${undefined}${false}</p>`.text).toBe(
      '<p title="&quot;onmouseover=&quot;x"><b>&lt;i&gt;</b>&lt;1</p>',
    );
  });
});

describe('renderStatusPage', () => {
  it('escapes what comes from the pipeline, the store and errors', () => {
    const page = renderStatusPage(
      view({
        jobs: [
          {
            name: 'x<script>',
            title: '<img src=x onerror=alert(1)>',
            skipReason: 'DATABASE_URL "<b>" not set',
            sections: [
              {
                job: 'x<script>',
                title: '<img src=x onerror=alert(1)>',
                copies: ['<s3>'],
                backups: backups(1),
                health: {
                  runs: { succeeded: 0, skipped: 0, failed: 1 },
                  lastRun: { result: 'failed', at: NOW, durationSeconds: 1.5 },
                  lastFailure: { at: NOW, code: 'SOURCE_FAILED', durationSeconds: 1.5, hint: 'check "<host>" & port' },
                  verifications: { passed: 0, failed: 0 },
                  anomalies: 0,
                },
              },
            ],
          },
        ],
      }),
    );
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<s3>');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('<code>SOURCE_FAILED</code>: check &quot;&lt;host&gt;&quot; &amp; port');
  });

  it('shows keys only when asked to, and the newest ten backups in the table', () => {
    const many = view({ jobs: [{ name: 'clara', title: 'Clara DB', sections: [{ job: 'clara', title: 'Clara DB', copies: ['s3'], backups: backups(25) }] }] });
    const hidden = renderStatusPage(many);
    expect(hidden).not.toContain('backups/clara/');
    expect(hidden).toContain('<caption>Newest backups of Clara DB (10 of 25)</caption>');
    expect(hidden.match(/<tr>\n<th scope="row">/g)).toHaveLength(10);
    expect(renderStatusPage({ ...many, showKeys: true })).toContain('<code>backups/clara/clara_0.sql.gz</code>');
  });
});

describe('renderBackupChart', () => {
  it('draws 1,000 backups as 1,000 points in time order, inside the plot, each titled with its backup', () => {
    const entries = backups(1000);
    entries[10]!.anomaly = true;
    delete entries[20]!.durationMs;
    const svg = renderBackupChart('Clara DB', entries).text;
    const points = [...svg.matchAll(/<g class="pt( flagged)?" data-time="([^"]+)"><title>([^<]+)<\/title><circle class="dot-size" cx="([\d.]+)" cy="([\d.]+)"/g)];
    expect(points).toHaveLength(1000);
    // Oldest first, left to right; the newest (entries[0]) last, at the right edge.
    expect(points[0]![2]).toBe(entries[999]!.time.toISOString());
    expect(points[999]![2]).toBe(entries[0]!.time.toISOString());
    const xs = points.map((match) => Number(match[4]));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(xs[0]).toBe(62);
    expect(xs[999]).toBe(662);
    for (const match of points) {
      const cy = Number(match[5]);
      expect(cy).toBeGreaterThanOrEqual(12);
      expect(cy).toBeLessThanOrEqual(190);
    }
    // Sizes grow towards the newest: its point is the highest (smallest y).
    expect(Math.min(...points.map((match) => Number(match[5])))).toBe(Number(points[999]![5]));
    expect(points[999]![3]).toBe(`2026-01-31 04:00:00 UTC: ${formatSize(2_000_000)}, 2.0 s, copies: s3`);
    expect(points.filter((match) => match[1]).map((match) => match[2])).toEqual([entries[10]!.time.toISOString()]);
    expect(points[989]![3]).toContain('(anomaly)');
    expect(svg.match(/class="dot-duration"/g)).toHaveLength(999);
    expect(svg).not.toContain('NaN');
    expect(svg).toContain('data-points="1000"');
  });

  it('puts a single backup in the middle', () => {
    const svg = renderBackupChart('Clara DB', backups(1)).text;
    expect(svg).toMatch(/<circle class="dot-size" cx="362" /);
  });
});
