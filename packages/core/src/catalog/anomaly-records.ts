import type { Anomaly, Store } from '@backupctl/plugin-api';

/**
 * `metadata/anomalies/<key>.json`: why a backup was flagged (and, once
 * accepted, when and by whom), and `metadata/job-anomalies/<prefix><job>.json`:
 * the job's flags not accepted yet, which retention reads to hold older
 * backups.
 */
export function anomalyDocument(key: string): string {
  return `anomalies/${key}.json`;
}

export function jobAnomaliesDocument(prefix: string, job: string): string {
  return `job-anomalies/${prefix}${job}.json`;
}

/** A flag as recorded. */
export interface AnomalyRecord extends Anomaly {
  key: string;
  job: string;
  /** When the backup it flags was taken (ISO 8601): retention holds every backup taken at or before it. */
  takenAt: string;
  flaggedAt: string;
  /** Set once someone accepted it (`backupctl accept`). */
  acceptedAt?: string;
}

interface JobAnomalies {
  open: AnomalyRecord[];
}

/** Records a flag: its own document, then (when it holds backups) the job's list of open flags. */
export async function recordAnomaly(store: Store, record: AnomalyRecord, signal?: AbortSignal): Promise<void> {
  await store.writeMetadata(anomalyDocument(record.key), record, signal);
  if (!record.held) return;
  const open = (await readOpenAnomalies(store, record.job, signal)).filter((flag) => flag.key !== record.key);
  await store.writeMetadata(jobAnomaliesDocument(store.prefix, record.job), { open: [...open, record] } satisfies JobAnomalies, signal);
}

/** The job's flags nobody accepted yet, oldest first. Rejects when the store cannot read the list. */
export async function readOpenAnomalies(store: Store, job: string, signal?: AbortSignal): Promise<AnomalyRecord[]> {
  const document = (await store.readMetadata(jobAnomaliesDocument(store.prefix, job), signal)) as Partial<JobAnomalies> | undefined;
  if (!document || !Array.isArray(document.open)) return [];
  return document.open.filter(
    (flag): flag is AnomalyRecord =>
      typeof flag === 'object' && flag !== null && typeof flag.key === 'string' && typeof flag.takenAt === 'string' && !Number.isNaN(Date.parse(flag.takenAt)),
  );
}

/** The flag of one backup, accepted or not. */
export async function readAnomaly(store: Store, key: string, signal?: AbortSignal): Promise<AnomalyRecord | undefined> {
  const document = (await store.readMetadata(anomalyDocument(key), signal)) as Partial<AnomalyRecord> | undefined;
  return document && document.key === key && Array.isArray(document.reasons) ? (document as AnomalyRecord) : undefined;
}

/**
 * Accepts a flag: marks its document accepted and takes it off the job's
 * open list, so retention stops holding older backups for it. Resolves with
 * the flag, or undefined when the job has no open flag on that key.
 */
export async function acceptAnomaly(store: Store, job: string, key: string, at: Date, signal?: AbortSignal): Promise<AnomalyRecord | undefined> {
  const open = await readOpenAnomalies(store, job, signal);
  const flag = open.find((candidate) => candidate.key === key);
  if (!flag) return undefined;
  const accepted = { ...((await readAnomaly(store, key, signal)) ?? flag), acceptedAt: at.toISOString() };
  await store.writeMetadata(anomalyDocument(key), accepted, signal);
  await store.writeMetadata(jobAnomaliesDocument(store.prefix, job), { open: open.filter((candidate) => candidate !== flag) } satisfies JobAnomalies, signal);
  return accepted;
}
