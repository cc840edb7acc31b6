import type { HookInstance, Logger, Notification } from '@backupctl/plugin-api';

/** A hook instance that notifies, with the `use:` it was created from. */
export interface Notifier {
  use: string;
  instance: HookInstance;
}

/** What one notifier did with one notification (`notify-test` prints these). */
export interface NotifyOutcome {
  use: string;
  target?: string;
  /** `ignored`: its `on:` leaves the event out. */
  status: 'sent' | 'ignored' | 'failed';
  error?: string;
}

/** How long backupctl waits for one notifier, whatever its own timeout and retries say. */
export const NOTIFY_LIMIT_MS = 60_000;

/**
 * Hands one notification to every notifier at once, masked. A notifier
 * that fails or outlasts its limit is a warning in the log and a `failed`
 * outcome: it never fails the caller, and a slow one does not delay the
 * others.
 */
export async function sendNotification(
  notifiers: readonly Notifier[],
  notification: Notification,
  environment: { logger: Logger; redact?: (text: string) => string; limitMs?: number },
): Promise<NotifyOutcome[]> {
  const { logger } = environment;
  const masked = environment.redact ? maskStrings(notification, environment.redact) : notification;
  const limitMs = environment.limitMs ?? NOTIFY_LIMIT_MS;
  return Promise.all(
    notifiers.map(async ({ use, instance }): Promise<NotifyOutcome> => {
      const target = instance.target;
      const signal = AbortSignal.timeout(limitMs);
      try {
        const sent = await withinLimit(instance.notify!(masked, signal), signal, limitMs);
        if (!sent) return { use, target, status: 'ignored' };
        logger.debug(`${use}: notified ${target ?? use} (${masked.event})`, { event: 'notified', notifier: use });
        return { use, target, status: 'sent' };
      } catch (error) {
        const message = environment.redact ? environment.redact((error as Error).message) : (error as Error).message;
        logger.warn(`${use}: could not send ${masked.event} to ${target ?? use}: ${message}`, { event: 'notify-failed', notifier: use });
        return { use, target, status: 'failed', error: message };
      }
    }),
  );
}

/** The hook instances that notify, paired with their steps' `use:`. */
export function notifiersAmong(hooks: readonly { use: string; instance: HookInstance }[]): Notifier[] {
  return hooks.filter(({ instance }) => typeof instance.notify === 'function');
}

function withinLimit<T>(work: Promise<T>, signal: AbortSignal, limitMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error(`no answer within ${limitMs / 1000} s`));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Every string in the notification masked (error messages and log lines may quote a URL with its password). */
function maskStrings<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => maskStrings(item, redact)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, redact)])) as T;
  }
  return value;
}
