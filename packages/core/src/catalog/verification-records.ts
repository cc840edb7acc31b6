import type { Store, Verification } from '@backupctl/plugin-api';

/**
 * `metadata/verified/<key>.json`: the last verification of one backup, and
 * `metadata/job-verifications/<prefix><job>.json`: the job's recent
 * verifications, newest first, which retention and `ls` read instead of one
 * document per backup.
 */
export function verifiedDocument(key: string): string {
  return `verified/${key}.json`;
}

export function jobVerificationsDocument(prefix: string, job: string): string {
  return `job-verifications/${prefix}${job}.json`;
}

/** One entry of the job's index: enough to mark `ls` and to keep the newest passed backup. */
export interface VerificationEntry {
  key: string;
  result: Verification['result'];
  verifiedAt: string;
}

interface JobVerifications {
  recent: VerificationEntry[];
}

/** How many verifications the job's index keeps (newest first); a passed one is kept as long as there is no newer passed one. */
const KEPT_ENTRIES = 100;

/**
 * Records a verification: its own document, then the job's index. The index
 * is read, updated and written whole, so two verifications of one job at
 * the same moment may lose an entry from it; it is only a summary for `ls`
 * and a sign that the job was ever verified: retention reads each backup's
 * own document to find the newest that passed.
 */
export async function recordVerification(store: Store, verification: Verification, signal?: AbortSignal): Promise<void> {
  await store.writeMetadata(verifiedDocument(verification.key), verification, signal);
  const name = jobVerificationsDocument(store.prefix, verification.job);
  const recent = (await readJobVerifications(store, verification.job, signal)).filter((entry) => entry.key !== verification.key);
  const entry: VerificationEntry = { key: verification.key, result: verification.result, verifiedAt: verification.verifiedAt };
  const kept = [entry, ...recent].slice(0, KEPT_ENTRIES);
  // The newest passed entry must survive the cut: retention keeps its backup.
  const passed = [entry, ...recent].find((candidate) => candidate.result === 'passed');
  if (passed && !kept.includes(passed)) kept[kept.length - 1] = passed;
  await store.writeMetadata(name, { recent: kept } satisfies JobVerifications, signal);
}

/** The job's recent verifications, newest first; none when never verified. Rejects when the store cannot read the index. */
export async function readJobVerifications(store: Store, job: string, signal?: AbortSignal): Promise<VerificationEntry[]> {
  const document = (await store.readMetadata(jobVerificationsDocument(store.prefix, job), signal)) as Partial<JobVerifications> | undefined;
  if (!document || !Array.isArray(document.recent)) return [];
  return document.recent.filter(
    (entry): entry is VerificationEntry =>
      typeof entry === 'object' && entry !== null && typeof entry.key === 'string' && (entry.result === 'passed' || entry.result === 'failed'),
  );
}

/** The last verification of one backup, when there is one. */
export async function readVerification(store: Store, key: string, signal?: AbortSignal): Promise<Verification | undefined> {
  const document = (await store.readMetadata(verifiedDocument(key), signal)) as Partial<Verification> | undefined;
  return document && document.key === key && (document.result === 'passed' || document.result === 'failed') ? (document as Verification) : undefined;
}
