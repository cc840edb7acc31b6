import { formatSize, type Anomaly, type Artifact, type Logger, type Store } from '@backupctl/plugin-api';
import { DEFAULT_ANOMALY } from '../config/pipeline-schema.js';
import type { AnomalySettings } from '../plugins/loaded-job.js';
import { recordAnomaly } from '../catalog/anomaly-records.js';
import type { BackupRecord } from '../catalog/backup-records.js';
import { readManifest, sumRows, type ManifestRecord } from '../catalog/manifest-records.js';

export { DEFAULT_ANOMALY };

/**
 * One side of the comparison: the bytes the source produced (before
 * transforms, so adding compression is no shrink) and, when recorded, the
 * manifest's row counts.
 */
export interface GuardedBackup {
  size: number;
  tables?: Readonly<Record<string, number>>;
}

/**
 * Why `current` looks wrong next to `previous`, one line each: its dump
 * size or its total rows shrank by more than `maxShrinkPercent`, or a table
 * that had rows is empty. Tables dropped since are not flagged (a
 * migration does that); an emptied one is the bug this guard is for.
 */
export function findAnomalies(previous: GuardedBackup, current: GuardedBackup, settings: AnomalySettings): string[] {
  const reasons: string[] = [];
  const shrink = (before: number, after: number) => (before > 0 ? ((before - after) / before) * 100 : 0);
  const sizeShrink = shrink(previous.size, current.size);
  if (sizeShrink > settings.maxShrinkPercent) {
    reasons.push(`dump size shrank by ${Math.round(sizeShrink)}% (${formatSize(previous.size)} -> ${formatSize(current.size)})`);
  }
  if (previous.tables && current.tables) {
    const before = sumRows(previous.tables);
    const after = sumRows(current.tables);
    const rowShrink = shrink(before, after);
    if (rowShrink > settings.maxShrinkPercent) reasons.push(`total rows shrank by ${Math.round(rowShrink)}% (${before} -> ${after})`);
    if (settings.emptiedTables) {
      const ignored = new Set(settings.ignoreTables);
      for (const [table, rows] of Object.entries(previous.tables).sort(([a], [b]) => a.localeCompare(b))) {
        if (rows > 0 && current.tables[table] === 0 && !ignored.has(table)) reasons.push(`${table}: ${rows} rows -> empty`);
      }
    }
  }
  return reasons;
}

export interface GuardPass {
  store: Store;
  artifact: Artifact;
  /** The job's record of its backup before this one (read before this one was recorded). */
  previous: BackupRecord | undefined;
  settings: AnomalySettings;
  job: { name: string; title: string };
  logger: Logger;
  now: Date;
  signal?: AbortSignal;
}

/**
 * The anomaly guard, after a backup was recorded: compares it with the
 * job's previous backup and, when it looks wrong, warns, records the flag
 * (so retention holds older backups until someone accepts it, unless
 * `hold: false`) and returns it for the hooks (notifiers). Nothing to
 * compare with (the first backup, or a previous one without a manifest and
 * of the same size) is no anomaly.
 */
export async function guardBackup(pass: GuardPass): Promise<Anomaly | undefined> {
  const { store, artifact, previous, settings, signal } = pass;
  if (!previous || previous.key === artifact.key) return undefined;
  const before: ManifestRecord | undefined = await readManifest(store, previous.key, signal).catch((error: unknown) => {
    pass.logger.warn(`${pass.job.title}: the manifest of ${previous.key} could not be read (${(error as Error).message}): rows are not compared with it`);
    return undefined;
  });
  const reasons = findAnomalies(
    { size: previous.sourceSize, tables: before?.tables },
    { size: artifact.sourceSize, tables: artifact.manifest?.tables },
    settings,
  );
  if (reasons.length === 0) return undefined;
  const anomaly: Anomaly = { previousKey: previous.key, reasons, held: settings.hold };
  const consequence = settings.hold
    ? `retention keeps it and every older backup until it is accepted: backupctl accept ${pass.job.name} ${artifact.key}`
    : 'accepted by config (anomaly.hold: false)';
  pass.logger.warn(`${pass.job.title}: anomaly in ${artifact.key} against ${previous.key}: ${reasons.join('; ')}; ${consequence}`, {
    event: 'anomaly',
    key: artifact.key,
  });
  await recordAnomaly(
    store,
    { ...anomaly, key: artifact.key, job: pass.job.name, takenAt: artifact.startedAt.toISOString(), flaggedAt: pass.now.toISOString() },
    signal,
  );
  return anomaly;
}
