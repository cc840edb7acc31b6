import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CSS, STATUS_JS } from './status-assets.js';
import { renderStatusPage } from './status-page.js';
import type { StatusSource } from './status-view.js';

export interface UiOptions {
  source: StatusSource;
  /** `--ui-public-keys`: object keys and bucket names shown to anyone who can reach the page. */
  publicKeys: boolean;
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
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** `GET /`: the status page, read-only; `/ui/status.css` and `/ui/status.js`. */
export function uiRoutes(options: UiOptions): UiRoutes {
  return {
    async handle(request, response, path) {
      const method = request.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') return false;
      switch (path) {
        case '/': {
          const view = await options.source.view({ kind: 'public' }, options.publicKeys);
          sendPage(response, 200, renderStatusPage(view));
          return true;
        }
        case '/ui/status.css':
          sendAsset(response, 'text/css; charset=utf-8', STATUS_CSS);
          return true;
        case '/ui/status.js':
          sendAsset(response, 'text/javascript; charset=utf-8', STATUS_JS);
          return true;
        default:
          return false;
      }
    },
  };
}

export function sendPage(response: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  response.writeHead(status, { ...PAGE_HEADERS, ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function sendAsset(response: ServerResponse, contentType: string, body: string): void {
  response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'max-age=300', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
