import { cliHost, cliVersion } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { loadPipeline, selectJobs } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_FAILED } from '../render/report-error.js';
import { serverFlags } from '../runtime/server-flags.js';

export default class Serve extends BaseCommand {
  static override summary = 'Serve /health, /ready, /live and /metrics; with --schedule, run the backups on a cron schedule.';
  static override description =
    'Starts the health server (the reference service\'s --server), loads and validates the pipeline (/ready answers 200 ' +
    'from then on) and, with --schedule, runs every job on that cron schedule (UTC) for hosts without a cron service. ' +
    'A run never overlaps the previous one: a run due while the last is still going is skipped with a warning. ' +
    'SIGTERM or SIGINT stops the schedule, aborts a running backup (nothing partial is left) and exits. ' +
    'Finds FILE as run does.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --schedule "0 3 * * *"',
    '<%= config.bin %> serve backupctl.yml --schedule "*/30 * * * *" --port 9090 --log-format json',
  ];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    ...serverFlags,
    schedule: Flags.string({
      description: 'Run the backups on this cron schedule, in UTC ("0 3 * * *" = 03:00 daily; six fields add seconds).',
      env: 'BACKUP_SCHEDULE',
    }),
    job: Flags.string({ char: 'j', multiple: true, description: 'Schedule only this job (repeatable).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Serve);
    // Imported here, not at the top: cli.js loads every command, and only serve needs prom-client and croner.
    const { checkSchedulePattern, startBackupService } = await import('../server/index.js');
    if (flags.schedule) checkSchedulePattern(flags.schedule);
    const logger = this.createLogger();
    const cancel = abortOnSignals();
    const service = await startBackupService({
      logger,
      secrets: this.secrets,
      signal: cancel.signal,
      port: flags.port,
      host: flags.host,
      version: cliVersion(),
    });
    let interrupted;
    try {
      logger.info(`Health server listening on ${service.url}`, { event: 'listening' });
      const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
      logger.debug(`Pipeline: ${pipeline.file}`);
      const jobs = selectJobs(pipeline, flags.job ?? []);
      service.markReady(jobs);
      if (flags.schedule) {
        service.schedule(flags.schedule, jobs);
        const next = service.state.schedule?.nextRun();
        logger.info(`Backups scheduled: "${flags.schedule}" (UTC), next at ${next?.toISOString() ?? 'never'}`, { event: 'scheduled' });
      }
      await new Promise<void>((resolve) => {
        if (cancel.signal.aborted) resolve();
        else cancel.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const reason = cancel.signal.reason instanceof Error ? cancel.signal.reason.message : 'stopping';
      logger.info(`Shutting down (${reason})${service.state.running ? ': aborting the running backup' : ''}`, { event: 'shutdown' });
    } finally {
      interrupted = await service.stop();
      cancel.dispose();
    }
    if (interrupted && !interrupted.ok) this.exit(EXIT_FAILED);
  }
}
