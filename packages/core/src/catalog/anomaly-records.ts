import type { Anomaly, Store } from '@backupctl/plugin-api';

/**
 * `metadata/anomalies/<key>.json`: why a backup was flagged and, once
 * accepted, when; and `metadata/job-anomalies/<prefix><job>.json`: the
 * job's flags, which retention reads to hold older backups. The list has
 * one writer, the job's backup run (runs of a job never overlap: the
 * source's lock); `accept` writes only the flag's own document, and a flag
 * counts as open while its document says it is not accepted. So an accept
 * and a run at the same moment cannot lose each other's writes.
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

/**
 * Records a flag: its own document, then (when it holds backups) the job's
 * list, rewritten without the flags accepted since. Only a backup run of
 * the job calls it.
 */
export async function recordAnomaly(store: Store, record: AnomalyRecord, signal?: AbortSignal): Promise<void> {
  await store.writeMetadata(anomalyDocument(record.key), record, signal);
  if (!record.held) return;
  const open = (await readOpenAnomalies(store, record.job, signal)).filter((flag) => flag.key !== record.key);
  await store.writeMetadata(jobAnomaliesDocument(store.prefix, record.job), { open: [...open, record] } satisfies JobAnomalies, signal);
}

/**
 * The job's flags nobody accepted yet, oldest first: those on its list
 * whose own document is there and not accepted (a flag whose backup was
 * deleted, with its records, holds nothing). Rejects when the store cannot
 * read them: retention then deletes nothing.
 */
export async function readOpenAnomalies(store: Store, job: string, signal?: AbortSignal): Promise<AnomalyRecord[]> {
  const document = (await store.readMetadata(jobAnomaliesDocument(store.prefix, job), signal)) as Partial<JobAnomalies> | undefined;
  if (!document || !Array.isArray(document.open)) return [];
  const listed = document.open.filter(
    (flag): flag is AnomalyRecord =>
      typeof flag === 'object' && flag !== null && typeof flag.key === 'string' && typeof flag.takenAt === 'string' && !Number.isNaN(Date.parse(flag.takenAt)),
  );
  const open: AnomalyRecord[] = [];
  for (const flag of listed) {
    const own = await readAnomaly(store, flag.key, signal);
    if (own && !own.acceptedAt) open.push(flag);
  }
  return open;
}

/** The flag of one backup, accepted or not. */
export async function readAnomaly(store: Store, key: string, signal?: AbortSignal): Promise<AnomalyRecord | undefined> {
  const document = (await store.readMetadata(anomalyDocument(key), signal)) as Partial<AnomalyRecord> | undefined;
  return document && document.key === key && Array.isArray(document.reasons) ? (document as AnomalyRecord) : undefined;
}

/**
 * Accepts a flag: marks its own document accepted (the job's list is the
 * backup run's to write; the next one drops it), so retention stops holding
 * older backups for it. Resolves with the flag, or undefined when the job
 * has no open flag on that key.
 */
export async function acceptAnomaly(store: Store, job: string, key: string, at: Date, signal?: AbortSignal): Promise<AnomalyRecord | undefined> {
  const flag = (await readOpenAnomalies(store, job, signal)).find((candidate) => candidate.key === key);
  if (!flag) return undefined;
  const accepted = { ...((await readAnomaly(store, key, signal)) ?? flag), acceptedAt: at.toISOString() };
  await store.writeMetadata(anomalyDocument(key), accepted, signal);
  return accepted;
}
