import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { checkJob, loadPipeline, type LoadedJob } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_FAILED } from '../render/report-error.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check a pipeline file and every plugin option, without touching any database or bucket (unless --connect).';
  static override description =
    'Reports every problem at once, each with its line and path. Environment variables are filled in as `run` would. ' +
    'With --connect, each job\'s plugins then reach what they need (the database, the bucket, a program), reading and ' +
    'writing nothing; exit 1 when one cannot.';
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate examples/clara-mem0.yml', '<%= config.bin %> validate --connect'];
  static override args = {
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };
  static override flags = {
    connect: Flags.boolean({ description: "Also reach each job's database, bucket and programs (each plugin's check); exit 1 if one cannot be reached." }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
    this.print(`${pipeline.file}: valid, ${pipeline.jobs.length} job${pipeline.jobs.length === 1 ? '' : 's'}`);
    for (const job of pipeline.jobs) this.print(`  ${job.name}: ${describeJob(job)}`);
    if (!flags.connect) return;

    const cancel = abortOnSignals();
    let unreachable = 0;
    try {
      const environment = { logger: this.createLogger(), secrets: this.secrets, signal: cancel.signal };
      for (const job of pipeline.jobs) {
        if (job.skipReason) continue;
        for (const check of await checkJob(job, environment)) {
          if (check.error) unreachable += 1;
          const answer = check.error ? `cannot connect: ${check.error}` : check.checked ? 'reachable' : 'nothing to reach';
          this.print(`  ${job.name} ${check.step.use}: ${answer}`);
        }
      }
    } finally {
      cancel.dispose();
    }
    if (unreachable) this.exit(EXIT_FAILED);
  }
}

function describeJob(job: LoadedJob): string {
  if (job.skipReason) return `will be skipped (${job.skipReason})`;
  const stages = [job.source, ...job.transforms, job.sink].map((step) => step?.use ?? '?').join(' -> ');
  const hooks = job.hooks.length ? ` [hooks: ${job.hooks.map((hook) => hook.use).join(', ')}]` : '';
  const notify = job.notify?.length ? ` [notify: ${job.notify.map((notifier) => notifier.use).join(', ')}]` : '';
  return `${stages}${hooks}${notify}`;
}
