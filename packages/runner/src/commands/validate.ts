import { Args } from '@oclif/core';
import { loadPipeline, type LoadedJob } from '../config/load-pipeline.js';
import { BaseCommand } from '../cli/base-command.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check a pipeline file and every plugin option, without touching any database or bucket.';
  static override description =
    'Reports every problem at once, each with its line and path. Environment variables are filled in as `run` would.';
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate examples/clara-mem0.yml'];
  static override args = {
    file: Args.string({ description: 'Pipeline file (found as `run` finds it when omitted).' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Validate);
    const pipeline = await loadPipeline({ file: args.file });
    this.print(`${pipeline.file}: valid, ${pipeline.jobs.length} job${pipeline.jobs.length === 1 ? '' : 's'}`);
    for (const job of pipeline.jobs) this.print(`  ${job.name}: ${describeJob(job)}`);
  }
}

function describeJob(job: LoadedJob): string {
  if (job.skipReason) return `will be skipped (${job.skipReason})`;
  const stages = [job.source, ...job.transforms, job.sink].map((step) => step?.use ?? '?').join(' -> ');
  const hooks = job.hooks.length ? ` [hooks: ${job.hooks.map((hook) => hook.use).join(', ')}]` : '';
  return `${stages}${hooks}`;
}
