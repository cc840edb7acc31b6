import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@backupctl/plugin-api';
import type { LoadedJob } from '@backupctl/core';
import { STATUS_CSS, STATUS_JS } from './status-assets.js';
import { renderLoginPage, renderStatusPage, type StatusView, type Viewer } from './status-page.js';
import type { StatusSource } from './status-view.js';
import { sameOrigin, sessionCookie, UiSessions } from './ui-session.js';

/** What the page's buttons do: the service's own run and verify paths, with their lock and turns. */
export interface UiActions {
  /** Starts a backup of the job now, unless a run is going ('busy': refused, as a scheduled run due then is skipped). */
  run(job: LoadedJob): 'started' | 'busy';
  /** Verifies one backup of the job; waits its turn behind a running backup ('queued'). */
  verify(job: LoadedJob, key: string): 'started' | 'queued';
}

export interface UiOptions {
  source: StatusSource;
  /** `--ui-public-keys`: object keys and bucket names shown to anyone who can reach the page. */
  publicKeys: boolean;
  /** UI_TOKEN: with it, a login shows keys and the actions; without, the page is read-only. */
  token?: string;
  actions: UiActions;
  logger: Logger;
}

/** The status page's routes, asked first by the health server: true when the request was theirs. */
export interface UiRoutes {
  handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean>;
}

// The page loads its own stylesheet and script only; nothing may frame it or post it elsewhere.
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the page's own POSTs.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** What a redirect after an action may say: fixed texts, so a link cannot make the page say anything else. */
const NOTICES: Record<string, (job: string) => NonNullable<StatusView['notice']>> = {
  'run-started': (job) => ({ kind: 'ok', text: `Backup of ${job} started.` }),
  'run-busy': (job) => ({ kind: 'error', text: `Backup of ${job} not started: a backup run is already going (runs never overlap).` }),
  'verify-started': (job) => ({ kind: 'ok', text: `Verification of a backup of ${job} started.` }),
  'verify-queued': (job) => ({ kind: 'ok', text: `Verification of a backup of ${job} queued: it starts when the running backup ends.` }),
  'logged-out': () => ({ kind: 'ok', text: 'Logged out.' }),
};

const MAX_FORM_BYTES = 8 * 1024;

/**
 * `GET /`: the status page; `/ui/status.css` and `/ui/status.js`. With a
 * token: `GET|POST /login`, `POST /logout`, and the actions `POST
 * /actions/run` and `POST /actions/verify`, each refused (403) without a
 * session, with a CSRF token that does not match it, or from another origin.
 */
export function uiRoutes(options: UiOptions): UiRoutes {
  const sessions = options.token ? new UiSessions(options.token) : undefined;
  const { logger, source } = options;

  const viewerOf = (request: IncomingMessage): { viewer: Viewer; session?: string } => {
    if (!sessions) return { viewer: { kind: 'public' } };
    const session = sessions.read(request);
    return session ? { viewer: { kind: 'operator', csrf: sessions.csrfToken(session) }, session } : { viewer: { kind: 'visitor' } };
  };

  const get = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> => {
    switch (path) {
      case '/': {
        const { viewer } = viewerOf(request);
        const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
        const notice = NOTICES[query.get('notice') ?? '']?.(source.job(query.get('job') ?? '')?.name ?? 'the job');
        const view = await source.view(viewer, options.publicKeys || viewer.kind === 'operator', notice);
        sendPage(response, 200, renderStatusPage(view));
        return true;
      }
      case '/login':
        if (!sessions) return false;
        sendPage(response, 200, renderLoginPage());
        return true;
      case '/ui/status.css':
        sendAsset(response, 'text/css; charset=utf-8', STATUS_CSS);
        return true;
      case '/ui/status.js':
        sendAsset(response, 'text/javascript; charset=utf-8', STATUS_JS);
        return true;
      default:
        return false;
    }
  };

  const post = async (request: IncomingMessage, response: ServerResponse, path: string, logins: UiSessions): Promise<boolean> => {
    if (!['/login', '/logout', '/actions/run', '/actions/verify'].includes(path)) return false;
    if (!sameOrigin(request)) {
      logger.warn(`Status page: refused a POST to ${path} from another origin`, { event: 'ui-refused' });
      sendText(response, 403, 'refused: the request does not come from this page\n');
      return true;
    }
    const form = await readForm(request);
    if (!form) {
      sendText(response, 400, 'send a form (application/x-www-form-urlencoded, at most 8 KiB)\n');
      return true;
    }
    if (path === '/login') {
      if (!logins.checkToken(form.get('token') ?? '')) {
        logger.warn('Status page: login refused (wrong token)', { event: 'ui-login-refused' });
        sendPage(response, 401, renderLoginPage('That is not the token: nothing changed.'));
        return true;
      }
      logger.info('Status page: logged in', { event: 'ui-login' });
      redirect(response, '/', sessionCookie(request, logins.create()));
      return true;
    }
    const session = logins.read(request);
    if (!session || !logins.checkCsrf(session, form.get('csrf'))) {
      logger.warn(`Status page: refused a POST to ${path} (${session ? 'its CSRF token does not match the session' : 'not logged in'})`, { event: 'ui-refused' });
      sendText(response, 403, session ? 'refused: the form is stale or not from this page; reload it\n' : 'refused: log in first (/login)\n');
      return true;
    }
    if (path === '/logout') {
      logins.end(session);
      redirect(response, '/?notice=logged-out', sessionCookie(request, undefined));
      return true;
    }
    const job = source.job(form.get('job') ?? '');
    if (!job || job.skipReason) {
      sendText(response, 400, 'no such job here (or it is skipped here)\n');
      return true;
    }
    if (path === '/actions/run') {
      logger.info(`Status page: backup of ${job.name} asked for`, { job: job.name, event: 'ui-run' });
      const outcome = options.actions.run(job);
      redirect(response, `/?notice=run-${outcome}&job=${encodeURIComponent(job.name)}`);
      return true;
    }
    const key = form.get('key') ?? '';
    if (!key) {
      sendText(response, 400, 'no backup named: send its key\n');
      return true;
    }
    logger.info(`Status page: verification of ${job.name} asked for`, { job: job.name, event: 'ui-verify' });
    const outcome = options.actions.verify(job, key);
    redirect(response, `/?notice=verify-${outcome}&job=${encodeURIComponent(job.name)}`);
    return true;
  };

  return {
    async handle(request, response, path) {
      const method = request.method ?? 'GET';
      if (method === 'GET' || method === 'HEAD') return get(request, response, path);
      if (method === 'POST' && sessions) return post(request, response, path, sessions);
      return false;
    },
  };
}

export function sendPage(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendAsset(response: ServerResponse, contentType: string, body: string): void {
  response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'max-age=300', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/** 303: the browser GETs the page after a POST, so a reload does not post again. */
function redirect(response: ServerResponse, location: string, cookie?: string): void {
  response.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0, ...(cookie && { 'Set-Cookie': cookie }) });
  response.end();
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
