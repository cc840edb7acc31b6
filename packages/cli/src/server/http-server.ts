import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import type { HealthState } from './health-state.js';
import type { UiRoutes } from './status-page/ui-routes.js';

export interface HealthServerOptions {
  state: HealthState;
  metrics: Registry;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** The status page (`GET /`, its assets and actions); absent with --no-ui. */
  ui?: UiRoutes;
}

export interface HealthServer {
  /** e.g. `http://0.0.0.0:8080`, with the port really bound. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends idle keep-alive connections. */
  close(): Promise<void>;
}

/**
 * The endpoints a container platform probes, as the reference service had
 * them, plus Prometheus metrics:
 *
 * - `GET /live`: 200 while the process runs.
 * - `GET /ready`: 200 once the pipeline is loaded and validated, else 503.
 * - `GET /health`: 200 with a JSON report (each job's last success, failure, size, duration).
 * - `GET /metrics`: Prometheus text format.
 * - `GET /`: the status page, unless turned off (status-page/).
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${(error as Error).message}\n`);
      else response.destroy();
    });
  });
  // Probes hold no connection open for long; a stuck client must not keep shutdown waiting.
  server.keepAliveTimeout = 5_000;
  await listen(server, options.port, options.host);
  const { port } = server.address() as AddressInfo;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HealthServerOptions): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
  if (options.ui && (await options.ui.handle(request, response, path))) return;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  const { state, metrics } = options;
  switch (path) {
    case '/live':
      sendJson(response, 200, { status: 'alive' });
      return;
    case '/ready':
      sendJson(response, state.ready ? 200 : 503, { status: state.ready ? 'ready' : 'starting' });
      return;
    case '/health':
      sendJson(response, 200, state.report());
      return;
    case '/metrics':
      send(response, 200, metrics.contentType, await metrics.metrics());
      return;
    default:
      send(response, 404, 'text/plain; charset=utf-8', 'not found: try /health, /ready, /live or /metrics\n');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(
        new BackupctlError(ErrorCodes.USAGE, `health server cannot listen on ${host}:${port}: ${reason}`, {
          hint: 'choose another port with --port or PORT',
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
