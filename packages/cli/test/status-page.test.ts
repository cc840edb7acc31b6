import { describe, expect, it } from 'vitest';
import type { BackupHistoryEntry } from '@backupctl/core';
import { html, escapeHtml } from '../src/server/status-page/html.js';
import { renderStatusPage, type StatusView } from '../src/server/status-page/status-page.js';

const NOW = new Date('2026-02-01T04:00:00Z');

function backups(count: number): BackupHistoryEntry[] {
  // Newest first, one a day back from NOW, growing by 1 KiB a day.
  return Array.from({ length: count }, (_, index) => ({
    key: `backups/clara/clara_${index}.sql.gz`,
    size: 1_000_000 - index * 1024,
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
