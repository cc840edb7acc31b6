import type { NotifyOutcome } from '@backupctl/core';

/** One job's notifiers as `notify-test` found them: what each did, or why none could be made. */
export interface NotifyTestResult {
  job: string;
  outcomes: NotifyOutcome[];
  /** The notifiers could not be created (wrong options); the message says why. */
  error?: string;
}

/** `clara: slack (hooks.slack.com) sent`, one line per notifier, and a last line that counts. */
export function formatNotifyTest(results: readonly NotifyTestResult[]): string {
  const lines: string[] = [];
  for (const { job, outcomes, error } of results) {
    if (error) {
      lines.push(`${job}: could not create its notifiers: ${error}`);
      continue;
    }
    for (const outcome of outcomes) {
      const where = outcome.target ? ` (${outcome.target})` : '';
      lines.push(`${job}: ${outcome.use}${where} ${outcome.status === 'sent' ? 'sent' : `FAILED: ${outcome.error ?? 'no answer'}`}`);
    }
  }
  const all = results.flatMap(({ outcomes }) => outcomes);
  const failed = all.filter((outcome) => outcome.status !== 'sent').length + results.filter(({ error }) => error).length;
  lines.push(failed ? `${failed} of ${all.length + results.filter(({ error }) => error).length} notifiers failed` : `${all.length} notifier${all.length === 1 ? '' : 's'} sent the test message`);
  return lines.join('\n');
}
