import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got, body as text. */
export interface ReceivedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (throws when it is not). */
  json(): unknown;
}

/** How the receiver answers one request; `status: 0` never answers (a timeout). */
export interface ReceiverAnswer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for a notification service (Slack, a
 * webhook, a bot API) in a notifier's tests: it records each request and
 * answers with the next of `answers` (the last one repeats), or with what
 * `answers(request)` returns. Close it after the test.
 *
 *   const service = await startHttpReceiver([{ status: 500 }, { status: 200 }]);
 *   await instance.notify!(notification, AbortSignal.timeout(10_000));
 *   expect(service.requests[1]!.json()).toMatchObject({ text: ... });
 */
export async function startHttpReceiver(answers: readonly ReceiverAnswer[] | ((request: ReceivedRequest) => ReceiverAnswer) = [{ status: 200 }]): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, response) => {
    let body = '';
    incoming.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      const request: ReceivedRequest = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body,
        json: () => JSON.parse(body) as unknown,
      };
      requests.push(request);
      const answer = typeof answers === 'function' ? answers(request) : answers[Math.min(requests.length - 1, answers.length - 1)] ?? { status: 200 };
      if (answer.status) response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // A request left unanswered (status 0) would hold close() open.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
