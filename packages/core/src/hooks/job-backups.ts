import type { HookRun } from '@backupctl/plugin-api';
import type { BackupNaming } from '../naming/backup-name-matcher.js';

const DEFAULT_TEMPLATE = '{job}_{timestamp}{ext}';

/** The naming a hook call describes (backupctl always passes the template and extension; tests may not). */
export function namingOf(run: Pick<HookRun, 'job' | 'nameTemplate' | 'extension'>): BackupNaming {
  return { name: run.job, nameTemplate: run.nameTemplate ?? DEFAULT_TEMPLATE, extension: run.extension };
}
