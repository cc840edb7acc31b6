import type { Artifact } from '../api/plugin.js';
import type { Store } from '../api/store.js';
import { runnerVersion } from '../package-info.js';

/** `metadata/last_backup.json`: the newest committed backup of each job sharing the store. */
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

export function toRecord(artifact: Artifact): BackupRecord {
  return {
    key: artifact.key,
    size: artifact.size,
    sourceSize: artifact.sourceSize,
    sha256: artifact.sha256,
    startedAt: artifact.startedAt.toISOString(),
    finishedAt: artifact.finishedAt.toISOString(),
    tool: `backupctl ${runnerVersion()}`,
  };
}

/**
 * Records a committed backup: its checksum document (read by restore and
 * verify, deleted by retention with the object) and the job's entry in
 * last_backup.json (read by respawn protection). Runs only after the
 * object is committed, so the records never point at a missing backup.
 */
export async function recordBackup(store: Store, artifact: Artifact, signal?: AbortSignal): Promise<void> {
  const record = toRecord(artifact);
  await store.writeMetadata(checksumDocument(artifact.key), record, signal);
  const current = await readLastBackups(store, signal);
  const document: LastBackupDocument = { updatedAt: record.finishedAt, jobs: { ...current, [artifact.job]: record } };
  await store.writeMetadata(LAST_BACKUP, document, signal);
}

/** The jobs' entries in last_backup.json (empty when there is none or it is not ours). */
export async function readLastBackups(store: Store, signal?: AbortSignal): Promise<Record<string, BackupRecord>> {
  const document = (await store.readMetadata(LAST_BACKUP, signal)) as Partial<LastBackupDocument> | undefined;
  return document && typeof document.jobs === 'object' && document.jobs !== null ? document.jobs : {};
}

/** The recorded checksum of one object, if it was written by backupctl. */
export async function readBackupRecord(store: Store, key: string, signal?: AbortSignal): Promise<BackupRecord | undefined> {
  const record = (await store.readMetadata(checksumDocument(key), signal)) as BackupRecord | undefined;
  return record && typeof record.sha256 === 'string' ? record : undefined;
}
