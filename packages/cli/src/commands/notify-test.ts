import { cliHost } from '../host.js';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { loadPipeline, notifierStepsOf, selectJobs, testJobNotifiers } from '@backupctl/core';
import { abortOnSignals } from '../runtime/abort-on-signals.js';
import { BaseCommand } from '../runtime/base-command.js';
import { EXIT_FAILED } from '../render/report-error.js';
import { formatNotifyTest, type NotifyTestResult } from '../render/format-notify-test.js';

export default class NotifyTest extends BaseCommand {
  static override summary = "Send a test message through every notifier of the pipeline's jobs and say which ones worked.";
  static override description =
    "Each notifier under a job's `notify:` (and any among its sinks' hooks) sends the `test` event, whatever its `on:` " +
    'lists, with its own timeout and retries. Prints one line per notifier; exits 1 when any failed. Jobs skipped for ' +
    'want of their variables (requiresEnv) are left out. Finds FILE as run does.';
  static override examples = ['<%= config.bin %> notify-test', '<%= config.bin %> notify-test --job clara --json'];
  static override args = {
    file: Args.string({ description: 'Pipeline file.' }),
  };
  static override flags = {
    job: Flags.string({ char: 'j', multiple: true, description: 'Test only this job\'s notifiers (repeatable).' }),
    json: Flags.boolean({ description: 'Print a JSON array of { job, outcomes: [{ use, target, status, error }] } instead.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NotifyTest);
    const logger = this.createLogger();
    const pipeline = await loadPipeline({ host: cliHost(), file: args.file, jobs: flags.job });
    const jobs = selectJobs(pipeline, flags.job ?? []).filter((job) => !job.skipReason && notifierStepsOf(job).length);
    const cancel = abortOnSignals();
    const results: NotifyTestResult[] = [];
    try {
      for (const job of jobs) {
        try {
          const outcomes = await testJobNotifiers(job, { logger, secrets: this.secrets, signal: cancel.signal });
          // Hooks that are not notifiers (respawn, retention) answer nothing: not listed.
          results.push({ job: job.name, outcomes });
        } catch (error) {
          results.push({ job: job.name, outcomes: [], error: this.secrets.redact((error as Error).message) });
        }
      }
    } finally {
      cancel.dispose();
    }
    const tested = results.filter(({ outcomes, error }) => error || outcomes.length);
    if (!tested.length) {
      throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'no notifiers to test in the selected jobs', {
        hint: 'add a `notify:` list to a job, e.g. notify: [ { use: slack, with: { webhookUrl: "${SLACK_WEBHOOK_URL}" } } ] (docs/notifications.md)',
      });
    }
    if (flags.json) this.printJson(tested);
    else this.print(formatNotifyTest(tested));
    if (tested.some(({ outcomes, error }) => error || outcomes.some((outcome) => outcome.status !== 'sent'))) this.exit(EXIT_FAILED);
  }
}
