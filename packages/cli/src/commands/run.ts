import { cliHost, cliVersion } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { checkSharedJobs, loadPipeline, runPipeline, selectJobs, workerIndexFromEnvironment, type RunPipelineOptions, type RunSummary } from '@backupctl/core';
import type { BackupService, BackupServiceOptions, RunSettings } from '../server/backup-service.js';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';
import { InFlightProgress } from '../render/progress-line.js';
import { EXIT_FAILED } from '../render/report-error.js';
import { serverFlags } from '../runtime/server-flags.js';

export default class Run extends BaseCommand {
  static override summary = 'Run the backup jobs of a pipeline.';
  static override description =
    'Streams each job from its source through its transforms into its sink. Without FILE, uses backupctl.yml ' +
    '(or .backupctlrc.yml, package.json#backupctl) found from the current directory, else the shipped ' +
    'Clara + Mem0 pipeline configured by DATABASE_URL, MEM0_DATABASE_URL and S3_*. Exits 0 only when every job ' +
    'succeeded or was skipped.';
  static override examples = [
    '<%= config.bin %> run',
    '<%= config.bin %> run backupctl.yml --job clara',
    '<%= config.bin %> run --concurrency 4',
    '<%= config.bin %> run --worker --concurrency 2',
  ];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'Run only this job (repeatable).' }),
    json: Flags.boolean({ description: 'Print a JSON summary of the run on stdout.' }),
    serve: Flags.boolean({ description: 'Keep the health server (/health, /ready, /live, /metrics) up during the run, as the reference service did.' }),
    concurrency: Flags.integer({
      min: 1,
      max: 64,
      description: "Backups streamed at once (jobs, and parts of whole-server jobs); overrides the file's and every job's `concurrency:`.",
    }),
    worker: Flags.boolean({
      description:
        "Share whole-server jobs' databases with the other processes running this pipeline (pods of one Kubernetes Job): each database is backed up once, by whichever worker takes its lock (docs/scale-out.md).",
    }),
    'worker-index': Flags.integer({
      min: 0,
      dependsOn: ['worker'],
      description: "Where this worker starts in the list of databases; default JOB_COMPLETION_INDEX (an Indexed Job's), else a number from the host name.",
    }),
    ...serverFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    const logger = this.createLogger();
    const cancel = abortOnSignals();
    const progress = this.progressLine();
    const inFlight = new InFlightProgress();
    const options: RunPipelineOptions = {
      logger,
      secrets: this.secrets,
      signal: cancel.signal,
      onProgress: progress && ((update) => progress.update(inFlight.update(update))),
    };
    let service: BackupService | undefined;
    let summary: RunSummary | undefined;
    try {
      // Up before the pipeline loads, so a platform sees /live at once and /ready when the file proved valid.
      if (flags.serve) service = await startService({ ...options, port: flags.port, host: flags.host, version: cliVersion() });
      if (service) logger.info(`Health server listening on ${service.url}`, { event: 'listening' });
      // With --job, only those jobs' plugins load: another job's broken plugin does not stop them (validate reports it).
      const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: flags.job });
      logger.debug(`Pipeline: ${pipeline.file}`);
      const jobs = selectJobs(pipeline, flags.job ?? []);
      if (flags.worker) checkSharedJobs(jobs);
      service?.markReady(jobs);
      const settings: RunSettings = {
        concurrency: flags.concurrency ?? pipeline.concurrency,
        overrideJobConcurrency: flags.concurrency !== undefined,
        memoryBudgetMiB: pipeline.memoryBudgetMiB,
        ...(flags.worker ? { worker: { index: flags['worker-index'] ?? workerIndexFromEnvironment() } } : {}),
      };
      summary = service ? await service.run(jobs, settings) : await runPipeline(jobs, { ...options, ...settings });
    } finally {
      progress?.clear();
      await service?.stop();
      cancel.dispose();
    }
    // service.run answers undefined only when another run is going, which cannot be in a one-shot run.
    if (!summary) throw new Error('the run did not start');
    if (flags.json) this.printJson(toJson(summary));
    if (!summary.ok) this.exit(EXIT_FAILED);
  }
}

/** Loaded only with --serve: the server brings prom-client, which a one-shot run need not hold in memory. */
async function startService(options: BackupServiceOptions): Promise<BackupService> {
  const { startBackupService } = await import('../server/backup-service.js');
  return startBackupService(options);
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
      // Several sinks: each copy's outcome.
      copies: result.copies?.map((copy) => ({
        name: copy.name,
        required: copy.required,
        result: copy.status,
        key: copy.key,
        error: copy.error && { code: copy.error.code, message: copy.error.message },
      })),
    })),
  };
}
