import path from 'node:path';
import { formatSize } from '@backupctl/plugin-api';
import { formatUtcTime, type InspectedBackup } from '@backupctl/core';

/**
 * `inspect`'s text: the backup, its manifest's facts, then its tables.
 *
 * ```
 * Backup:    backups/clara/clara_20260201_030000.sql.gz (2.5 MB, taken 2026-02-01 03:00:00 UTC)
 * SHA-256:   9f2c... (recorded by backupctl 0.1.0)
 * Source:    PostgreSQL 15.8, dumped by pg_dump 15.8, database 48.1 MB, plain SQL
 * Rows:      3 tables, 1200 rows (exact: counted in the dump's COPY blocks)
 * Verified:  passed 2026-02-01 03:02:10 UTC against its manifest in host:5432/db (restore 3.2 s)
 * Anomaly:   none
 *
 * table          rows
 * public.users    300
 * ```
 */
export function formatInspected(backup: InspectedBackup): string {
  const { manifest, record, verification, anomaly } = backup;
  const taken = backup.time ? `, taken ${formatUtcTime(backup.time)}` : '';
  const lines = [`Backup:    ${backup.key} (${formatSize(backup.size)}${taken})`];
  lines.push(`SHA-256:   ${record ? `${record.sha256} (recorded by ${record.tool})` : 'none recorded (not written by backupctl?)'}`);
  if (!manifest) {
    lines.push('Manifest:  none (taken before backupctl wrote manifests, or its source gives none): verify compares it with the live database');
  } else {
    const facts = [
      `${manifest.engine}${manifest.serverVersion ? ` ${manifest.serverVersion}` : ''}`,
      ...(manifest.dumpTool ? [`dumped by ${manifest.dumpTool}`] : []),
      ...(manifest.databaseSize !== undefined ? [`database ${formatSize(manifest.databaseSize)}`] : []),
      ...(manifest.format ? [manifest.format] : []),
    ];
    lines.push(`Source:    ${facts.join(', ')}`);
    if (manifest.tables) {
      const how = `${manifest.rowCounts ?? 'exact'}${manifest.countedBy ? `: ${manifest.countedBy}` : ''}`;
      lines.push(`Rows:      ${Object.keys(manifest.tables).length} tables, ${manifest.totalRows ?? 0} rows (${how})`);
    } else {
      lines.push('Rows:      not counted by the source');
    }
  }
  lines.push(`Verified:  ${describeVerification(backup)}`);
  lines.push(`Anomaly:   ${anomaly ? `${anomaly.reasons.join('; ')} (against ${path.posix.basename(anomaly.previousKey)}; ${anomaly.acceptedAt ? `accepted ${formatUtcTime(new Date(anomaly.acceptedAt))}` : anomaly.held ? 'not accepted: retention holds older backups' : 'accepted by config'})` : 'none'}`);
  if (verification?.result === 'failed' && verification.differences.length) {
    lines.push('', 'Differences at the last verification:', ...verification.differences.map((row) => `  ${row.table}: expected ${row.expected ?? '(no table)'}, restored ${row.restored ?? '(no table)'}`));
  }
  if (manifest?.tables && Object.keys(manifest.tables).length) lines.push('', formatTables(manifest.tables));
  return lines.join('\n');
}

function describeVerification(backup: InspectedBackup): string {
  const { verification } = backup;
  if (!verification) return 'never';
  const when = formatUtcTime(new Date(verification.verifiedAt));
  const restore = verification.restoreMs !== undefined ? ` (restore ${(verification.restoreMs / 1000).toFixed(1)} s)` : '';
  const against = verification.against === 'manifest' ? 'its manifest' : 'the live database';
  const why = verification.error ? `: ${verification.error.message}` : verification.result === 'failed' ? `: ${verification.differences.length} of ${verification.tables} tables differ` : '';
  return `${verification.result} ${when} against ${against}${verification.where ? ` in ${verification.where}` : ''}${restore}${why}`;
}

function formatTables(tables: Readonly<Record<string, number>>): string {
  const rows = Object.entries(tables).sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max('table'.length, ...rows.map(([table]) => table.length));
  const countWidth = Math.max('rows'.length, ...rows.map(([, count]) => String(count).length));
  return [`${'table'.padEnd(width)}  ${'rows'.padStart(countWidth)}`, ...rows.map(([table, count]) => `${table.padEnd(width)}  ${String(count).padStart(countWidth)}`)].join('\n');
}

/** `inspect --json`: the records as stored, with the backup's place. */
export function inspectedJson(backup: InspectedBackup) {
  return {
    job: backup.job,
    location: backup.location,
    key: backup.key,
    size: backup.size,
    takenAt: backup.time?.toISOString(),
    checksum: backup.record ?? null,
    manifest: backup.manifest ?? null,
    verification: backup.verification ?? null,
    anomaly: backup.anomaly ?? null,
  };
}
