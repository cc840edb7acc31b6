import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { inspectBackups, loadPipeline, selectJobs } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { backupChoiceFlags } from '../runtime/backup-flags.js';
import { BaseCommand } from '../runtime/base-command.js';
import { formatInspected, inspectedJson } from '../render/format-inspected.js';

export default class Inspect extends BaseCommand {
  static override summary = 'Show what a backup holds: its manifest, checksum, last verification and anomaly flag.';
  static override description =
    'Reads the records backupctl keeps beside the chosen backup (the newest unless --key or --at says otherwise): ' +
    "the manifest its source wrote while dumping (server and dump tool versions, database size, every table's rows " +
    'as the backup holds them, and whether those counts are exact), the size and SHA-256 recorded at backup time, the ' +
    'last verification and the anomaly flag. Reads the store only; nothing is restored. A whole-server job shows each ' +
    'database part.';
  static override examples = ['<%= config.bin %> inspect clara', '<%= config.bin %> inspect clara --key clara_20260201_030000.sql.gz --json'];
  static override args = {
    job: Args.string({ required: true, description: 'The job whose backup to inspect.' }),
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };
  static override flags = {
    ...backupChoiceFlags('inspect'),
    json: Flags.boolean({ description: 'Print the records as JSON on stdout.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: [args.job] });
    const [job] = selectJobs(pipeline, [args.job]);
    const cancel = abortOnSignals();
    try {
      const inspected = await inspectBackups(job!, { key: flags.key, at: flags.at }, { logger, secrets: this.secrets, signal: cancel.signal });
      if (flags.json) this.printJson(inspected.length === 1 ? inspectedJson(inspected[0]!) : inspected.map(inspectedJson));
      else this.print(inspected.map(formatInspected).join('\n\n'));
    } finally {
      cancel.dispose();
    }
  }
}
