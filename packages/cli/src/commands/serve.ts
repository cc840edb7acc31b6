import { cliHost, cliVersion } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { loadPipeline, selectJobs } from '@backupctl/core';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { scratchUrlFlag } from '../runtime/backup-flags.js';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_FAILED } from '../render/report-error.js';
import { serverFlags, uiFlags } from '../runtime/server-flags.js';

const MIN_UI_TOKEN = 16;

export default class Serve extends BaseCommand {
  static override summary = 'Serve /health, /ready, /live and /metrics; with --schedule, run the backups on a cron schedule; with --verify-schedule, verify them.';
  static override description =
    'Starts the health server (the reference service\'s --server), loads and validates the pipeline (/ready answers 200 ' +
    'from then on) and, with --schedule, runs every job on that cron schedule (UTC) for hosts without a cron service. ' +
    'A run never overlaps the previous one: a run due while the last is still going is skipped with a warning. ' +
    'Watches how old each job\'s newest backup in the store is (`staleAfterHours` in the pipeline, 26 h by default with ' +
    '--schedule): /health reports the job stale, the metric backupctl_stale says so, and its notifiers get one `stale` ' +
    'event, then `recovered` once a newer backup arrives. ' +
    'With --verify-schedule, verifies the newest backup of every job on that cron schedule (UTC), one job after another, as ' +
    '`backupctl verify` does (the result recorded in the store, the hooks told); a verification never runs at the same time ' +
    'as a backup: each waits for the other. /health and /metrics show each job\'s last verification. ' +
    'GET / is a status page (docs/status-page.md): each job\'s last run, next run, newest backups and a chart of their ' +
    'sizes and durations, read from the store; --no-ui turns it off. With UI_TOKEN set (16 characters or more), logging ' +
    'in on the page shows object keys and buttons to back up a job or verify a backup now. ' +
    'SIGTERM or SIGINT stops the schedules, aborts a running backup (nothing partial is left) or verification and exits. ' +
    'Finds FILE as run does.';
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve --schedule "0 3 * * *"',
    '<%= config.bin %> serve backupctl.yml --schedule "*/30 * * * *" --port 9090 --log-format json',
    '<%= config.bin %> serve --schedule "0 3 * * *" --verify-schedule "0 5 * * 0"',
  ];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    ...serverFlags,
    ...uiFlags,
    schedule: Flags.string({
      description: 'Run the backups on this cron schedule, in UTC ("0 3 * * *" = 03:00 daily; six fields add seconds).',
      env: 'BACKUP_SCHEDULE',
    }),
    'verify-schedule': Flags.string({
      description: 'Verify the newest backup of each job on this cron schedule, in UTC (restore into a scratch database, compare every table).',
      env: 'VERIFY_SCHEDULE',
    }),
    'scratch-url': scratchUrlFlag('the scratch databases of --verify-schedule'),
    job: Flags.string({ char: 'j', multiple: true, description: 'Schedule only this job, its backups and verifications (repeatable).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Serve);
    // Imported here, not at the top: cli.js loads every command, and only serve needs prom-client and croner.
    const { checkSchedulePattern, DEFAULT_STALE_AFTER_HOURS, startBackupService } = await import('../server/index.js');
    if (flags.schedule) checkSchedulePattern(flags.schedule);
    if (flags['verify-schedule']) checkSchedulePattern(flags['verify-schedule'], 'verify');
    this.secrets.add(flags['scratch-url']);
    // Read from the environment only: a token in argv would show in `ps`.
    const uiToken = flags.ui ? readUiToken() : undefined;
    this.secrets.add(uiToken);
    const logger = this.createLogger();
    const cancel = abortOnSignals();
    const service = await startBackupService({
      logger,
      secrets: this.secrets,
      signal: cancel.signal,
      port: flags.port,
      host: flags.host,
      version: cliVersion(),
      ...(flags.ui && { ui: { publicKeys: flags['ui-public-keys'], token: uiToken, scratchUrl: flags['scratch-url'] } }),
    });
    let interrupted;
    try {
      logger.info(`Health server listening on ${service.url}`, { event: 'listening' });
      const pipeline = await loadPipeline({ host: cliHost(), file: args.file });
      logger.debug(`Pipeline: ${pipeline.file}`);
      const jobs = selectJobs(pipeline, flags.job ?? []);
      service.markReady(jobs);
      if (flags.schedule) {
        service.schedule(flags.schedule, jobs, { concurrency: pipeline.concurrency, memoryBudgetMiB: pipeline.memoryBudgetMiB });
        const next = service.state.schedule?.nextRun();
        logger.info(`Backups scheduled: "${flags.schedule}" (UTC), next at ${next?.toISOString() ?? 'never'}`, { event: 'scheduled' });
      }
      const verifySchedule = flags['verify-schedule'];
      if (verifySchedule) {
        service.scheduleVerify(verifySchedule, jobs, { scratchUrl: flags['scratch-url'] });
        const next = service.state.verifySchedule?.nextRun();
        logger.info(`Verifications scheduled: "${verifySchedule}" (UTC), next at ${next?.toISOString() ?? 'never'}`, { event: 'verify-scheduled' });
      }
      // A job's own staleAfterHours, else 26 h when backups are scheduled here; 0 turns it off. Skipped jobs are not configured here.
      const watched = jobs.flatMap((job) => {
        const staleAfterHours = job.staleAfterHours ?? (flags.schedule ? DEFAULT_STALE_AFTER_HOURS : 0);
        return staleAfterHours > 0 && !job.skipReason ? [{ job, staleAfterHours }] : [];
      });
      if (watched.length) {
        service.watchStaleness(watched);
        logger.info(`Staleness watched: ${watched.map(({ job, staleAfterHours }) => `${job.name} after ${staleAfterHours} h`).join(', ')}`, { event: 'staleness-watched' });
      }
      await new Promise<void>((resolve) => {
        if (cancel.signal.aborted) resolve();
        else cancel.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      const reason = cancel.signal.reason instanceof Error ? cancel.signal.reason.message : 'stopping';
      const aborting = service.state.running ? ': aborting the running backup' : service.verifying ? ': aborting the running verification' : '';
      logger.info(`Shutting down (${reason})${aborting}`, { event: 'shutdown' });
    } finally {
      interrupted = await service.stop();
      cancel.dispose();
    }
    if (interrupted && !interrupted.ok) this.exit(EXIT_FAILED);
  }
}

/** UI_TOKEN, when set: long enough that guessing it through the login form is hopeless. */
function readUiToken(): string | undefined {
  const token = process.env.UI_TOKEN;
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_UI_TOKEN) {
    throw new BackupctlError(ErrorCodes.USAGE, `UI_TOKEN is too short (${token.length} characters, at least ${MIN_UI_TOKEN})`, {
      hint: 'make one with: openssl rand -hex 32',
    });
  }
  return token;
}
