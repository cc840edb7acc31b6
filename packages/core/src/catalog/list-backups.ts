import type { Store } from '@backupctl/plugin-api';
import { copiesOf, jobForCopy, type LoadedJob } from '../plugins/loaded-job.js';
import { listDatedBackups, newestFirst } from './backup-selection.js';
import { storedJobs } from '../parts/expand-job.js';
import type { InstanceEnvironment } from '../plugins/create-instance.js';
import { jobExtension } from './job-extension.js';
import { withStore } from './open-store.js';
import { readJobVerifications } from './verification-records.js';
import { readOpenAnomalies } from './anomaly-records.js';

/**
 * What `ls` marks each backup with: verified (passed or failed) and flagged.
 * Two reads per job, not one per backup; records that cannot be read mark
 * nothing (with a warning), the listing still stands.
 */
async function readMarks(
  store: Store,
  job: string,
  environment: Pick<InstanceEnvironment, 'logger' | 'signal'>,
): Promise<(key: string) => Pick<BackupEntry, 'verified' | 'anomaly'>> {
  const unreadable = (what: string) => (error: unknown) => {
    environment.logger.warn(`${job}: ${what} could not be read (${(error as Error).message}); ls shows no marks for it`);
    return [];
  };
  const verifications = await readJobVerifications(store, job, environment.signal).catch(unreadable('the recent verifications'));
  const flagged = new Set((await readOpenAnomalies(store, job, environment.signal).catch(unreadable('the anomaly flags'))).map((flag) => flag.key));
  const results = new Map<string, 'passed' | 'failed'>();
  // Newest first: the first entry of a key is its last verification.
  for (const entry of verifications) if (!results.has(entry.key)) results.set(entry.key, entry.result);
  return (key) => ({
    ...(results.has(key) ? { verified: results.get(key) } : {}),
    ...(flagged.has(key) ? { anomaly: true } : {}),
  });
}

/** One backup in a store. */
export interface BackupEntry {
  /** Full key, prefix included: `backups/clara/clara_20260201_030000.sql.gz`. */
  key: string;
  /** Bytes stored. */
  size: number;
  /** When the backup was taken: the UTC timestamp in its name. */
  time: Date;
  /** Its last verification's result, when it was verified (from the job's index of recent verifications). */
  verified?: 'passed' | 'failed';
  /** Set when the anomaly guard flagged it and nobody accepted the flag yet. */
  anomaly?: boolean;
  /** The copies that hold it (the same name under each copy's prefix), by name, in the job's order. */
  copies: string[];
  /** Where each copy holding it keeps it: its key there and the store's place (restore-help fetches from each). */
  places?: Record<string, { key: string; location: string }>;
}

/** A job's backups in its store, newest first. */
export interface JobBackups {
  /** The store's name for its place, e.g. the bucket; jobs with the same location share a header in `ls`. */
  location: string;
  job: string;
  /** e.g. "Clara DB" */
  title: string;
  /** The job's copies, by name: `ls` names the copies holding each backup only when there are several. */
  copies: string[];
  backups: BackupEntry[];
}

/**
 * Lists each job's backups, newest first, from the store behind its sink:
 * the objects under the sink's prefix whose name is the job's name template
 * filled in (others, such as metadata or another job's backups, are left
 * out). A job skipped for want of its database is listed too; a job with no
 * usable sink here is left out. Each store is closed when read. A
 * whole-server job (a source with `databases`) shows one section per part
 * found in its store (`<title> / <db>`), see expand-job.ts.
 */
export async function listBackups(
  jobs: readonly LoadedJob[],
  environment: Omit<InstanceEnvironment, 'artifact'>,
): Promise<JobBackups[]> {
  // Whole servers (expand-job.ts): a job whose source stands for several databases is listed per database.
  return listBackupsOf(await storedJobs(jobs, environment), environment);
}

/** The same for jobs already expanded: each job as it is, one listing of its store each. */
export async function listBackupsOf(
  jobs: readonly LoadedJob[],
  environment: Omit<InstanceEnvironment, 'artifact'>,
): Promise<JobBackups[]> {
  const listing: JobBackups[] = [];
  for (const job of jobs) {
    // A skipped job whose sink options are incomplete here has nothing to
    // list; any other job without a sink is a configuration error to report.
    if (!job.sink && job.skipReason) continue;
    const extension = await jobExtension(job, environment);
    const copies = copiesOf(job);
    // No copy (no sink, not skipped): opening its store reports what is missing.
    if (copies.length === 0) await withStore(job, environment, async () => undefined);
    const byName = new Map<string, BackupEntry>();
    let location: string | undefined;
    let failure: unknown;
    for (const copy of copies) {
      const one = jobForCopy(job, copy);
      try {
        await withStore(one, environment, async (store) => {
          const dated = await listDatedBackups(store, { ...one, extension }, environment.signal);
          const marks = await readMarks(store, job.name, environment);
          location ??= store.location;
          // The same backup has the same name under each copy's prefix: shown once, with the first holder's key and size.
          for (const { key, size, time } of dated) {
            const name = key.slice(store.prefix.length);
            const entry = byName.get(name) ?? { key, size, time, copies: [] };
            const marked = marks(key);
            if (entry.verified === undefined && marked.verified) entry.verified = marked.verified;
            if (marked.anomaly) entry.anomaly = true;
            entry.copies.push(copy.name);
            if (copies.length > 1) entry.places = { ...entry.places, [copy.name]: { key, location: store.location } };
            byName.set(name, entry);
          }
        });
      } catch (error) {
        // One copy out of reach leaves the others' listing standing; a job with one copy fails as before.
        if (copies.length === 1 || environment.signal?.aborted) throw error;
        failure ??= error;
        environment.logger.warn(`${job.title}: copy ${copy.name} could not be listed (${(error as Error).message}); ls shows the other copies`);
      }
    }
    if (location === undefined) throw failure;
    const backups = [...byName.values()].sort(newestFirst);
    listing.push({ location, job: job.name, title: job.title, copies: copies.map((copy) => copy.name), backups });
  }
  return listing;
}
