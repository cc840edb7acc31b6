import type { Logger, Notification, Secrets } from '@backupctl/plugin-api';
import { copiesOf, type LoadedJob, type LoadedStep } from '../plugins/loaded-job.js';
import { withInstances } from '../plugins/lifecycle.js';
import { notifiersAmong, sendNotification, type Notifier, type NotifyOutcome } from './send-notification.js';
import { testNotification } from './job-notifications.js';

/**
 * The steps that may notify for a job: its `notify:` list, then each copy's
 * hooks (a notifier placed among a sink's hooks, as the webhook long was,
 * hears the job's events too).
 */
export function notifierStepsOf(job: LoadedJob): LoadedStep[] {
  return [...(job.notify ?? []), ...copiesOf(job).flatMap((copy) => copy.hooks)];
}

export interface NotifyEnvironment {
  logger: Logger;
  secrets: Secrets;
  signal: AbortSignal;
}

/**
 * Creates the job's notifiers, hands them to `use`, closes them: for events
 * outside a run (a verification, staleness, a test). A notifier that cannot
 * be created (its options are wrong) fails this call: the caller says so.
 */
export async function withJobNotifiers<T>(job: LoadedJob, environment: NotifyEnvironment, use: (notifiers: Notifier[]) => Promise<T>): Promise<T> {
  const steps = notifierStepsOf(job);
  return withInstances(job, steps, 'hook', environment, (instances) =>
    use(notifiersAmong(instances.map((instance, index) => ({ use: steps[index]!.use, instance })))),
  );
}

/**
 * Sends one event of the job outside a run through every notifier it has.
 * Never throws: a notifier that cannot be created or fails is a warning.
 */
export async function notifyJob(job: LoadedJob, notification: Notification, environment: NotifyEnvironment): Promise<NotifyOutcome[]> {
  const { logger } = environment;
  try {
    return await withJobNotifiers(job, environment, (notifiers) =>
      sendNotification(notifiers, notification, { logger, redact: (text) => environment.secrets.redact(text) }),
    );
  } catch (error) {
    logger.warn(`${job.title}: could not send the ${notification.event} notification: ${(error as Error).message}`);
    return [];
  }
}

/**
 * `backupctl notify-test`: sends the `test` event through every notifier
 * of the job (whatever their `on:`), and says what each did. Rejects when
 * a notifier cannot be created (its options are wrong here).
 */
export async function testJobNotifiers(job: LoadedJob, environment: NotifyEnvironment): Promise<NotifyOutcome[]> {
  return withJobNotifiers(job, environment, (notifiers) =>
    sendNotification(notifiers, testNotification(job), { logger: environment.logger, redact: (text) => environment.secrets.redact(text) }),
  );
}
