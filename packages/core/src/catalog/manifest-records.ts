import type { Artifact, SourceManifest, Store } from '@backupctl/plugin-api';
import { coreVersion } from './package-info.js';

/** `metadata/manifests/<key>.json`: what one backup holds, written once after its commit. */
export interface ManifestRecord extends SourceManifest {
  key: string;
  job: string;
  /** SHA-256 of the stored bytes (hex), as in the checksum record. */
  sha256: string;
  /** Bytes stored. */
  size: number;
  /** Bytes the source produced. */
  sourceSize: number;
  startedAt: string;
  finishedAt: string;
  /** Rows of every table together (when the source counted them). */
  totalRows?: number;
  /** `backupctl <version>` that wrote it. */
  tool: string;
}

/** Name of the metadata document holding one backup's manifest. */
export function manifestDocument(key: string): string {
  return `manifests/${key}.json`;
}

export function toManifestRecord(artifact: Artifact & { manifest: SourceManifest }): ManifestRecord {
  const { manifest } = artifact;
  return {
    key: artifact.key,
    job: artifact.job,
    sha256: artifact.sha256,
    size: artifact.size,
    sourceSize: artifact.sourceSize,
    startedAt: artifact.startedAt.toISOString(),
    finishedAt: artifact.finishedAt.toISOString(),
    ...manifest,
    ...(manifest.tables ? { totalRows: sumRows(manifest.tables) } : {}),
    tool: `backupctl ${coreVersion()}`,
  };
}

/** The manifest of one backup, when backupctl wrote one (a document of another shape counts as none). Rejects when the store cannot read it. */
export async function readManifest(store: Store, key: string, signal?: AbortSignal): Promise<ManifestRecord | undefined> {
  const record = (await store.readMetadata(manifestDocument(key), signal)) as Partial<ManifestRecord> | undefined;
  if (typeof record !== 'object' || record === null || record.key !== key || typeof record.engine !== 'string') return undefined;
  // Read from JSON a hand may have edited: keep only counts that are counts.
  const tables = isRowCounts(record.tables) ? record.tables : undefined;
  return { ...(record as ManifestRecord), tables };
}

export function sumRows(tables: Readonly<Record<string, number>>): number {
  return Object.values(tables).reduce((sum, rows) => sum + rows, 0);
}

function isRowCounts(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((rows) => Number.isSafeInteger(rows) && (rows as number) >= 0);
}
