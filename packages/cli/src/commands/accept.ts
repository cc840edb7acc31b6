import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import { acceptJobAnomaly, loadPipeline, selectJobs } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';

export default class Accept extends BaseCommand {
  static override summary = 'Accept an anomaly the guard flagged, so retention stops holding older backups for it.';
  static override description =
    'A backup that shrank by more than the job\'s anomaly.maxShrinkPercent against the previous one, or in which a ' +
    'table that had rows is empty, is flagged: retention then keeps it and every older backup. When the change was ' +
    'intended (a table purged on purpose), accept the flag; retention applies its rules again from the next run or ' +
    '`backupctl prune`. `ls` marks flagged backups; `inspect` shows why.';
  static override examples = ['<%= config.bin %> accept clara backups/clara/clara_20260201_030000.sql.gz'];
  static override args = {
    job: Args.string({ required: true, description: 'The job.' }),
    key: Args.string({ required: true, description: "The flagged backup: its key as `ls` prints it, or its name under the job's prefix." }),
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Accept);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: [args.job] });
    const [job] = selectJobs(pipeline, [args.job]);
    const cancel = abortOnSignals();
    try {
      await acceptJobAnomaly(job!, args.key, { logger, secrets: this.secrets, signal: cancel.signal });
    } finally {
      cancel.dispose();
    }
  }
}
