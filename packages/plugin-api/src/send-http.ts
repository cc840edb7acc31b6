import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpRequest {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  /** A string is sent as is (set content-type in headers); an object as JSON. */
  body?: string | object;
}

export interface SendOptions {
  /** Time allowed for each attempt. */
  timeoutMs: number;
  /** Attempts after the first, on network errors, timeouts, 429 and 5xx. */
  retries: number;
  /** Stops waiting and retrying (the run was cancelled). */
  signal?: AbortSignal;
  /** First wait between attempts, doubled each time up to 8 s (default 1 s). */
  retryDelayMs?: number;
}

export interface HttpAnswer {
  status: number;
  attempts: number;
  /** The answer's body as text (a notifier may need it, e.g. Telegram's `ok`). */
  body: string;
}

/**
 * What sendHttp rejects with once it gives up: the message says what the
 * last attempt got; a refused request's status and answer are kept apart,
 * for a notifier that can say why its service refused (Telegram's
 * `description`). The answer is the service's text: mask it before showing it.
 */
export class HttpError extends Error {
  override name = 'HttpError';

  constructor(
    message: string,
    /** The last attempt's status; absent when it got no answer. */
    readonly status?: number,
    /** The last attempt's body, as text. */
    readonly answer?: string,
  ) {
    super(message);
  }
}

/**
 * Sends one HTTP request for a notifier, retrying on network errors,
 * timeouts, 429 and 5xx. Resolves with the answer once one is 2xx; rejects
 * with an HttpError saying what the last attempt got, which never holds the
 * URL (a webhook's URL is its credential).
 */
export async function sendHttp(url: string, request: HttpRequest, options: SendOptions): Promise<HttpAnswer> {
  const json = typeof request.body === 'object';
  const body = json ? JSON.stringify(request.body) : (request.body as string | undefined);
  const headers = { 'user-agent': 'backupctl', ...(json ? { 'content-type': 'application/json' } : {}), ...request.headers };
  const baseDelay = options.retryDelayMs ?? 1000;
  let problem = '';
  let attempts = 0;
  let refused: { status: number; answer: string } | undefined;
  for (let attempt = 1; attempt <= options.retries + 1; attempt += 1) {
    if (attempt > 1) {
      await sleep(Math.min(baseDelay * 2 ** (attempt - 2), 8000), undefined, { signal: options.signal }).catch((error: unknown) => {
        throw new Error(`cancelled after ${problem}`, { cause: error });
      });
    }
    attempts = attempt;
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
    try {
      const response = await fetch(url, { method: request.method ?? 'POST', headers, body, signal: AbortSignal.any(signals) });
      const text = await response.text().catch(() => '');
      if (response.ok) return { status: response.status, attempts: attempt, body: text };
      problem = `HTTP ${response.status}`;
      refused = { status: response.status, answer: text };
      if (response.status !== 429 && response.status < 500) break;
    } catch (error) {
      if (options.signal?.aborted) throw new Error('cancelled', { cause: error });
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, bad port) is in its cause.
      const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
      refused = undefined;
      problem = (error as Error).name === 'TimeoutError'
        ? `no answer within ${options.timeoutMs / 1000} s`
        : cause?.code ?? cause?.message ?? (error as Error).message;
    }
  }
  throw new HttpError(`${problem} after ${attempts} attempt${attempts === 1 ? '' : 's'}`, refused?.status, refused?.answer);
}
