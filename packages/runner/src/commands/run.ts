import { Args, Flags } from '@oclif/core';
import { loadPipeline, selectJobs } from '../config/load-pipeline.js';
import { runPipeline, type RunSummary } from '../engine/run-pipeline.js';
import { abortOnSignals } from '../cli/abort-on-signals.js';
import { BaseCommand } from '../cli/base-command.js';
import { EXIT_FAILED } from '../cli/report-error.js';

export default class Run extends BaseCommand {
  static override summary = 'Run the backup jobs of a pipeline.';
  static override description =
    'Streams each job from its source through its transforms into its sink. Without FILE, uses backupctl.yml ' +
    '(or .backupctlrc.yml, package.json#backupctl) found from the current directory, else the shipped ' +
    'Clara + Mem0 pipeline configured by DATABASE_URL, MEM0_DATABASE_URL and S3_*. Exits 0 only when every job ' +
    'succeeded or was skipped.';
  static override examples = ['<%= config.bin %> run', '<%= config.bin %> run backupctl.yml --job clara'];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'Run only this job (repeatable).' }),
    json: Flags.boolean({ description: 'Print a JSON summary of the run on stdout.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ file: args.file });
    logger.debug(`Pipeline: ${pipeline.file}`);
    const jobs = selectJobs(pipeline, flags.job ?? []);
    const cancel = abortOnSignals();
    let summary: RunSummary;
    try {
      summary = await runPipeline(jobs, { logger, secrets: this.secrets, signal: cancel.signal });
    } finally {
      cancel.dispose();
    }
    if (flags.json) this.print(JSON.stringify(toJson(summary), null, 2));
    if (!summary.ok) this.exit(EXIT_FAILED);
  }
}

function toJson(summary: RunSummary) {
  return {
    ok: summary.ok,
    jobs: summary.results.map((result) => ({
      job: result.job,
      result: result.status,
      key: result.artifact?.key,
      bytes: result.artifact?.size,
      sourceBytes: result.artifact?.sourceSize,
      sha256: result.artifact?.sha256,
      durationSeconds: result.durationMs / 1000,
      reason: result.reason,
      error: result.error && { code: result.error.code, message: result.error.message },
    })),
  };
}
