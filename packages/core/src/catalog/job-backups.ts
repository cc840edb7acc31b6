import type { Store, StoredObject } from '@backupctl/plugin-api';
import { backupNameMatcher, type BackupName, type BackupNaming } from '../naming/backup-name-matcher.js';
import { readBackupRecord, readJobRecord } from './backup-records.js';
import { parseObjectTimestamp } from '../naming/object-name.js';

/** A job's backup: the object and the time in its name. */
export interface DatedBackup extends StoredObject {
  time: Date;
}

/** A job's backups in a store, and the objects beside them that are not its backups. */
export interface JobBackupScan {
  /** The job's backups (see listJobBackups), with the time from the name; in listing order. */
  backups: DatedBackup[];
  /** Objects directly under the prefix whose names carry no timestamp: never touched. */
  ignored: string[];
  /**
   * Objects named like the job's backups but with an extension backupctl did
   * not write for it (`.sql.gz.bak`, `.sql.gz (1)`): copies made by hand,
   * never touched.
   */
  foreign: string[];
}

/**
 * Lists the objects directly under the store's prefix and sorts them out.
 * The one rule that `ls`, `restore --at`, respawn and retention share: an
 * object is the job's backup when its key is the job's name template filled
 * with its name, a timestamp and an extension the job writes: the one its
 * stages produce now (`naming.extension`), or one that backupctl recorded
 * writing (the object's checksum document, or the extension of the job's
 * last recorded backup), which covers backups made before a change of
 * stages. Anything else of that shape was put there by another hand.
 * Another job's backups sharing the prefix, and anything in a sub-folder
 * the template does not name (with an empty prefix: the `metadata/`
 * documents), are left out silently.
 */
export async function listJobBackups(store: Store, naming: BackupNaming, signal?: AbortSignal): Promise<JobBackupScan> {
  const nameOf = backupNameMatcher(naming, store.prefix);
  const isRecorded = recordedExtensions(store, naming.name, nameOf, signal);
  // A template without {ext} names every backup exactly: a copy with anything added does not match it at all.
  const anyExtension = !naming.nameTemplate.includes('{ext}');
  const scan: JobBackupScan = { backups: [], ignored: [], foreign: [] };
  for await (const object of store.list(store.prefix, signal)) {
    const name = nameOf(object.key);
    if (!name) {
      const beside = object.key.startsWith(store.prefix) && !object.key.slice(store.prefix.length).includes('/');
      if (beside && !parseObjectTimestamp(object.key)) scan.ignored.push(object.key);
    } else if (anyExtension || name.extension === naming.extension || (await isRecorded(object.key, name.extension))) {
      scan.backups.push({ ...object, time: name.time });
    } else {
      scan.foreign.push(object.key);
    }
  }
  return scan;
}

/**
 * Whether backupctl recorded writing a key whose extension is not the
 * pipeline's: the extension of the job's last recorded backup (one read,
 * on the first such key), else the key's own checksum document (one read
 * each: such keys are rare). A record that cannot be read proves nothing.
 */
function recordedExtensions(
  store: Store,
  job: string,
  nameOf: (key: string) => BackupName | undefined,
  signal?: AbortSignal,
): (key: string, extension: string) => Promise<boolean> {
  let lastExtension: Promise<string | undefined> | undefined;
  return async (key, extension) => {
    lastExtension ??= readJobRecord(store, job, signal).then(
      (record) => (record ? nameOf(record.key)?.extension : undefined),
      () => undefined,
    );
    if ((await lastExtension) === extension) return true;
    const record = await readBackupRecord(store, key, signal).catch(() => undefined);
    return record !== undefined;
  };
}
