import type { Artifact, Logger, Store } from '@backupctl/plugin-api';
import { anomalyDocument } from './anomaly-records.js';
import { manifestDocument, toManifestRecord } from './manifest-records.js';
import { coreVersion } from './package-info.js';
import { verifiedDocument } from './verification-records.js';

/**
 * `metadata/last_backup.json`: the newest committed backup of each job
 * sharing the store, as the reference service kept it. Written for its
 * readers only, and never read by backupctl: every job and every process
 * would read-modify-write the one document, so it can lose an entry or be
 * read half-written. The job records below are the source of truth.
 */
export const LAST_BACKUP = 'last_backup.json';

/** What is recorded of a committed backup. */
export interface BackupRecord {
  key: string;
  /** Bytes stored. */
  size: number;
  /** Bytes the source produced, before transforms. */
  sourceSize: number;
  /** SHA-256 of the stored bytes (hex). */
  sha256: string;
  startedAt: string;
  finishedAt: string;
  /** `backupctl <version>` that wrote it. */
  tool: string;
}

interface LastBackupDocument {
  updatedAt: string;
  jobs: Record<string, BackupRecord>;
}

/** Name of the metadata document holding one object's checksum: `checksums/<key>.json`. */
export function checksumDocument(key: string): string {
  return `checksums/${key}.json`;
}

/** Every metadata document about one object, deleted with it: checksum, manifest, verification, anomaly flag. */
export function backupDocuments(key: string): string[] {
  return [checksumDocument(key), manifestDocument(key), verifiedDocument(key), anomalyDocument(key)];
}

/**
 * Name of the job's own record of its last backup: `jobs/<prefix><job>.json`
 * (`metadata/jobs/backups/clara/clara.json`). Only that job writes it, whole.
 */
export function jobRecordDocument(prefix: string, job: string): string {
  return `jobs/${prefix}${job}.json`;
}

export function toRecord(artifact: Artifact): BackupRecord {
  return {
    key: artifact.key,
    size: artifact.size,
    sourceSize: artifact.sourceSize,
    sha256: artifact.sha256,
    startedAt: artifact.startedAt.toISOString(),
    finishedAt: artifact.finishedAt.toISOString(),
    tool: `backupctl ${coreVersion()}`,
  };
}

/**
 * Records a committed backup: its checksum document (read by restore and
 * verify, deleted by retention with the object), its manifest when the
 * source gave one (read by verify, inspect and the anomaly guard), and the
 * job's record (read by respawn protection), each written whole; then, for the reference
 * service's readers, the job's entry in last_backup.json, which may only
 * warn. Runs only after the object is committed, so the records never
 * point at a missing backup.
 */
export async function recordBackup(store: Store, artifact: Artifact, logger: Logger, signal?: AbortSignal): Promise<void> {
  const record = toRecord(artifact);
  await store.writeMetadata(checksumDocument(artifact.key), record, signal);
  if (artifact.manifest) await store.writeMetadata(manifestDocument(artifact.key), toManifestRecord({ ...artifact, manifest: artifact.manifest }), signal);
  await store.writeMetadata(jobRecordDocument(store.prefix, artifact.job), record, signal);
  await updateLastBackupJson(store, artifact.job, record, logger, signal);
}

/** Adds the job's entry to last_backup.json; a document that cannot be read is rewritten, a failure is a warning. */
async function updateLastBackupJson(store: Store, job: string, record: BackupRecord, logger: Logger, signal?: AbortSignal): Promise<void> {
  let jobs: Record<string, BackupRecord> = {};
  try {
    const document = (await store.readMetadata(LAST_BACKUP, signal)) as Partial<LastBackupDocument> | undefined;
    if (document && typeof document.jobs === 'object' && document.jobs !== null) jobs = document.jobs;
  } catch (error) {
    logger.warn(`metadata/${LAST_BACKUP} could not be read (${(error as Error).message}): rewriting it with ${job}'s entry`);
  }
  try {
    await store.writeMetadata(LAST_BACKUP, { updatedAt: record.finishedAt, jobs: { ...jobs, [job]: record } } satisfies LastBackupDocument, signal);
  } catch (error) {
    logger.warn(`metadata/${LAST_BACKUP} could not be written (${(error as Error).message}); backupctl does not read it, the backup stands`);
  }
}

/**
 * The job's record of its last backup, when there is one written by
 * backupctl (a document of another shape counts as none). Rejects when the
 * store cannot read it or it is not JSON.
 */
export async function readJobRecord(store: Store, job: string, signal?: AbortSignal): Promise<BackupRecord | undefined> {
  const record = (await store.readMetadata(jobRecordDocument(store.prefix, job), signal)) as Partial<BackupRecord> | undefined;
  return isRecord(record) ? record : undefined;
}

/** The recorded checksum of one object, if it was written by backupctl. */
export async function readBackupRecord(store: Store, key: string, signal?: AbortSignal): Promise<BackupRecord | undefined> {
  const record = (await store.readMetadata(checksumDocument(key), signal)) as BackupRecord | undefined;
  return record && typeof record.sha256 === 'string' ? record : undefined;
}

// Read from JSON another version (or a hand) may have written: trust no field unchecked.
function isRecord(value: Partial<BackupRecord> | undefined): value is BackupRecord {
  return typeof value === 'object' && value !== null && typeof value.key === 'string' && typeof value.sha256 === 'string';
}
