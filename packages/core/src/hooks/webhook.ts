import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackupctlError, definePlugin, ErrorCodes, formatSize, isBackupctlError, Type, type Logger } from '@backupctl/plugin-api';
import { describeFailure, describePassed } from './verification-text.js';
// A public helper of @backupctl/core (exported from src/index.ts).

/** The webhook hook's options. */
export const webhookSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(https?://.+)?$',
      description: 'Where to POST the JSON summary (a Slack or Discord incoming webhook, or any URL). Empty: the hook does nothing.',
    }),
    on: Type.Array(Type.Union([Type.Literal('error'), Type.Literal('success'), Type.Literal('anomaly')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['error', 'anomaly'],
      description:
        'When to post: error (a failed backup, or a failed verification), anomaly (a backup the anomaly guard flagged), ' +
        'success (every committed backup, and every passed verification outside a run).',
    }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'Time allowed for each attempt.' }),
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'Attempts after the first, on network errors, timeouts, 429 and 5xx.' }),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'Extra request headers, e.g. { Authorization: "Bearer ${TOKEN}" }; masked in logs.' }),
    ),
  },
  { additionalProperties: false },
);

/** What the webhook receives. `text` (Slack) and `content` (Discord) hold the same one line. */
export interface WebhookPayload {
  text: string;
  content: string;
  job: string;
  title: string;
  result: 'succeeded' | 'failed';
  /**
   * What happened: `backup` (committed or failed), `verify-failed` (the backup
   * does not restore as its manifest says), `verified` (a verification
   * outside a run passed), `anomaly` (the guard flagged the backup).
   */
  event: 'backup' | 'verify-failed' | 'verified' | 'anomaly';
  /** When the hook ran (ISO 8601). */
  at: string;
  key?: string;
  bytes?: number;
  sourceBytes?: number;
  sha256?: string;
  durationSeconds?: number;
  error?: { code: string; message: string };
  /** The anomaly guard's reasons (event `anomaly`). */
  reasons?: string[];
  /** Tables that differ after the restore (event `verify-failed`). */
  differences?: { table: string; expected?: number; restored?: number }[];
}

export interface PostOptions {
  timeoutMs: number;
  retries: number;
  headers?: Record<string, string>;
  /** Stops waiting and retrying (the run was cancelled). */
  signal?: AbortSignal;
  /** First wait between attempts, doubled each time up to 8 s (default 1 s). */
  retryDelayMs?: number;
}

// Discord refuses content over 2000 characters; Slack truncates far later.
const MAX_TEXT = 1900;

/**
 * POSTs `payload` as JSON, retrying on network errors, timeouts, 429 and
 * 5xx. Resolves with the number of attempts made; rejects with an Error
 * saying what the last attempt got (never the URL, which may hold a token).
 */
export async function postWebhook(url: string, payload: WebhookPayload, options: PostOptions): Promise<number> {
  const body = JSON.stringify(payload);
  const baseDelay = options.retryDelayMs ?? 1000;
  let problem = '';
  for (let attempt = 1; attempt <= options.retries + 1; attempt += 1) {
    if (attempt > 1) {
      await sleep(Math.min(baseDelay * 2 ** (attempt - 2), 8000), undefined, { signal: options.signal }).catch((error: unknown) => {
        throw new Error(`cancelled after ${problem}`, { cause: error });
      });
    }
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'backupctl', ...options.headers },
        body,
        signal: AbortSignal.any(signals),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return attempt;
      problem = `HTTP ${response.status}`;
      if (response.status !== 429 && response.status < 500) break;
    } catch (error) {
      if (options.signal?.aborted) throw new Error('cancelled', { cause: error });
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, bad port) is in its cause.
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      problem = (error as Error).name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs / 1000} s`
        : cause?.code ?? cause?.message ?? (error as Error).message;
    }
  }
  throw new Error(`${problem} after ${options.retries + 1} attempt${options.retries ? 's' : ''}`);
}

/**
 * `use: webhook`: posts a JSON summary when a backup fails (and, with
 * `on: [error, success]`, when one is committed) — Slack- and
 * Discord-compatible. A webhook that fails or hangs is logged as a warning
 * and never changes the job's result.
 */
export default definePlugin({
  name: 'webhook',
  kind: 'hook',
  description: 'POST a JSON summary (Slack/Discord-compatible) when a backup fails or succeeds.',
  schema: webhookSchema,
  create(options, context) {
    if (!options.url) return {};
    // The URL of an incoming webhook is its credential; so may the headers be.
    context.secrets.add(options.url);
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch (cause) {
      throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'webhook: url is not a valid URL', { plugin: context.use, cause });
    }
    const { pathname, search, origin } = parsed;
    context.secrets.add(`${pathname}${search}`.length > 8 ? `${pathname}${search}` : undefined);
    for (const value of Object.values(options.headers ?? {})) context.secrets.add(value);
    const redact = (text: string) => context.secrets.redact?.(text) ?? text;

    const notify = async (logger: Logger, payload: WebhookPayload, signal: AbortSignal) => {
      try {
        const attempts = await postWebhook(options.url, payload, {
          timeoutMs: options.timeoutSeconds * 1000,
          retries: options.retries,
          headers: options.headers,
          signal,
        });
        logger.debug(`webhook: notified ${origin} (${attempts} attempt${attempts === 1 ? '' : 's'})`, { event: 'webhook' });
      } catch (error) {
        logger.warn(`webhook: could not notify ${origin}: ${(error as Error).message}`, { event: 'webhook-failed' });
      }
    };
    const base = (job: string, title: string | undefined) => ({ job, title: title ?? job, at: new Date().toISOString() });
    const line = (text: string) => redact(text).slice(0, MAX_TEXT);

    return {
      async afterCommit(run) {
        const { artifact } = run;
        if (artifact.anomaly && options.on.includes('anomaly')) {
          const text = line(`${run.title ?? run.job} backup anomaly in ${path.posix.basename(artifact.key)}: ${artifact.anomaly.reasons.join('; ')}`);
          await notify(run.logger, { text, content: text, ...base(run.job, run.title), result: 'succeeded', event: 'anomaly', key: artifact.key, reasons: artifact.anomaly.reasons }, run.signal);
        }
        if (!options.on.includes('success')) return;
        const text = line(`${run.title ?? run.job} backup complete: ${path.posix.basename(artifact.key)} (${formatSize(artifact.size)})`);
        await notify(run.logger, {
          text,
          content: text,
          ...base(run.job, run.title),
          result: 'succeeded',
          event: 'backup',
          key: artifact.key,
          bytes: artifact.size,
          sourceBytes: artifact.sourceSize,
          sha256: artifact.sha256,
          durationSeconds: (artifact.finishedAt.getTime() - artifact.startedAt.getTime()) / 1000,
        }, run.signal);
      },
      async onError(run) {
        if (!options.on.includes('error')) return;
        const message = redact(run.error instanceof Error ? run.error.message : String(run.error));
        const text = line(`${run.title ?? run.job} backup failed: ${message}`);
        await notify(run.logger, {
          text,
          content: text,
          ...base(run.job, run.title),
          result: 'failed',
          event: isBackupctlError(run.error) && run.error.code === ErrorCodes.VERIFY_FAILED ? 'verify-failed' : 'backup',
          error: { code: isBackupctlError(run.error) ? run.error.code : 'INTERNAL', message },
        }, run.signal);
      },
      // Verifications outside a run (`backupctl verify`, serve --verify-schedule).
      async afterVerify(run) {
        const { verification } = run;
        const passed = verification.result === 'passed';
        if (!options.on.includes(passed ? 'success' : 'error')) return;
        const what = passed
          ? `verified: ${path.posix.basename(verification.key)} ${describePassed(verification)}`
          : `verification FAILED for ${path.posix.basename(verification.key)}: ${describeFailure(verification)}`;
        const text = line(`${run.title ?? run.job} ${what}`);
        await notify(run.logger, {
          text,
          content: text,
          ...base(run.job, run.title),
          result: passed ? 'succeeded' : 'failed',
          event: passed ? 'verified' : 'verify-failed',
          key: verification.key,
          durationSeconds: verification.durationMs / 1000,
          ...(verification.error ? { error: { code: verification.error.code, message: redact(verification.error.message) } } : {}),
          ...(passed ? {} : { differences: verification.differences.slice(0, 20) }),
        }, run.signal);
      },
    };
  },
});
