import net from 'node:net';

// A TCP proxy between the CLI's S3 client and the test S3 server that can
// misbehave on demand: refuse connections, slow them down, cut them after
// some bytes, or answer HTTP 500 instead of the server. It reads the HTTP
// requests going through (method and target only), so a test can check
// which S3 operations were made, e.g. that a failed multipart upload was
// aborted and never completed.

/** How the proxy treats traffic from now on. */
export type FaultMode =
  /** Forward everything untouched. */
  | { kind: 'pass' }
  /** Reset every new connection as soon as it is accepted. */
  | { kind: 'refuse' }
  /**
   * Hold each chunk from the server this long before passing it on: slow
   * answers. (Requests go through at once: delaying them too would let an
   * idle keep-alive connection time out at the server mid-request.)
   */
  | { kind: 'delay'; ms: number }
  /**
   * Reset a connection once it has carried `afterBytes` bytes towards the
   * server; only the next `times` connections that get that far (default: all).
   */
  | { kind: 'cut'; afterBytes: number; times?: number }
  /**
   * Answer `status` (default 500) instead of the server to the next `count`
   * requests that `match` (default: every request); forward the rest.
   */
  | { kind: 'status'; status?: number; count: number; match?: (request: Pick<ProxiedRequest, 'method' | 'target'>) => boolean };

/** One HTTP request seen by the proxy. */
export interface ProxiedRequest {
  method: string;
  /** Path and query as sent. */
  target: string;
  /** What the proxy did with it. */
  outcome: 'forwarded' | 'faulted';
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give this to the CLI as the S3 endpoint. */
  url: string;
  port: number;
  /** Changes the behaviour for new connections and requests (default `pass`). */
  setMode(mode: FaultMode): void;
  /** Every request seen so far, in order. */
  readonly requests: readonly ProxiedRequest[];
  /** Connections accepted so far (refused ones included). */
  readonly connections: number;
  /** Stops listening and destroys open connections. */
  close(): Promise<void>;
}

/** The S3 operation an HTTP request is, by method and query (path-style requests). */
export function s3Operation(request: Pick<ProxiedRequest, 'method' | 'target'>): string {
  const query = new URLSearchParams(request.target.split('?')[1] ?? '');
  const { method } = request;
  if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
  if (method === 'PUT' && query.has('uploadId')) return 'UploadPart';
  if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && query.has('uploads')) return 'ListMultipartUploads';
  if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
  if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
  if (method === 'PUT') return 'PutObject';
  if (method === 'GET') return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method} ${request.target}`;
}

/**
 * Starts a fault proxy on 127.0.0.1 (a free port, or `port`) in front of
 * `upstream` (`http://host:port`). Any TCP service works (PostgreSQL too);
 * only the `status` mode and the request log need HTTP.
 */
export async function startFaultProxy(upstream: string, options: { port?: number; http?: boolean } = {}): Promise<FaultProxy> {
  const httpAware = options.http ?? true;
  const target = new URL(upstream);
  let mode: FaultMode = { kind: 'pass' };
  let cutsLeft = Infinity;
  let faultsLeft = 0;
  let connections = 0;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    connections += 1;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode.kind === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const connectionMode = mode;
    const upstreamSocket = net.connect(Number(target.port), target.hostname);
    sockets.add(upstreamSocket);
    const later = (action: () => void): void => {
      if (connectionMode.kind === 'delay') setTimeout(action, connectionMode.ms);
      else action();
    };
    // The server closing is passed on after whatever it sent before (held in delay mode) has gone out.
    upstreamSocket.on('close', (hadError) => {
      sockets.delete(upstreamSocket);
      later(() => {
        if (hadError) client.destroy();
        else if (!client.writableEnded) client.end();
      });
    });
    upstreamSocket.on('error', () => undefined);
    client.on('close', () => upstreamSocket.destroy());
    upstreamSocket.on('data', (chunk: Buffer) => later(() => client.writable && client.write(chunk)));

    let sent = 0;
    let cutting = false;
    const forward = (bytes: Buffer): void => {
      sent += bytes.length;
      if (connectionMode.kind === 'cut' && !cutting && sent > connectionMode.afterBytes && cutsLeft > 0) {
        cutting = true;
        cutsLeft -= 1;
        client.resetAndDestroy();
        upstreamSocket.destroy();
        return;
      }
      if (upstreamSocket.writable) upstreamSocket.write(bytes);
    };
    const answerFault = (): void => {
      if (client.writableEnded) return;
      const status = mode.kind === 'status' ? (mode.status ?? 500) : 500;
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>injected by the fault proxy</Message></Error>`;
      client.end(
        `HTTP/1.1 ${status} Injected Fault\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: close\r\n\r\n${body}`,
      );
      upstreamSocket.destroy();
    };
    const parser = new RequestParser({
      onHead(request, expectsContinue) {
        const faulted = mode.kind === 'status' && faultsLeft > 0 && (mode.match?.(request) ?? true);
        if (faulted) faultsLeft -= 1;
        requests.push({ ...request, outcome: faulted ? 'faulted' : 'forwarded' });
        // A client that waits for "100 Continue" sends no body until answered:
        // answer at once, as a server refusing the request would.
        if (faulted && expectsContinue) answerFault();
        return faulted;
      },
      onBytes(bytes, faulted) {
        if (!faulted) forward(bytes);
      },
      onFaultedRequestEnd: () => answerFault(),
    });
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      if (httpAware) parser.push(chunk);
      else forward(chunk);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setMode(next) {
      mode = next;
      cutsLeft = next.kind === 'cut' ? (next.times ?? Infinity) : Infinity;
      faultsLeft = next.kind === 'status' ? next.count : 0;
    },
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface ParserEvents {
  /** A request head was read; return true to fault the request (its bytes are then swallowed). */
  onHead(request: Omit<ProxiedRequest, 'outcome'>, expectsContinue: boolean): boolean;
  /** Bytes of the current request (head or body), in order. */
  onBytes(bytes: Buffer, faulted: boolean): void;
  /** A faulted request was read to its end. */
  onFaultedRequestEnd(): void;
}

/**
 * Splits the client's byte stream into HTTP/1.1 requests: head, then a body
 * of Content-Length bytes or chunked. Enough for what the AWS SDK sends.
 */
class RequestParser {
  private buffer = Buffer.alloc(0);
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-trailer' = 'head';
  private remaining = 0;
  private faulted = false;

  constructor(private readonly events: ParserEvents) {}

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.state === 'head') {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = this.buffer.subarray(0, end + 4);
        this.buffer = this.buffer.subarray(end + 4);
        const lines = head.toString('latin1').split('\r\n');
        const [method = '', target = ''] = (lines[0] ?? '').split(' ');
        const headers = new Map(
          lines.slice(1).filter(Boolean).map((line) => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
          }),
        );
        this.faulted = this.events.onHead({ method, target }, /100-continue/i.test(headers.get('expect') ?? ''));
        this.events.onBytes(head, this.faulted);
        if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) this.state = 'chunk-size';
        else {
          this.remaining = Number(headers.get('content-length') ?? 0);
          this.state = 'length';
        }
      } else if (this.state === 'length') {
        const take = Math.min(this.remaining, this.buffer.length);
        if (take > 0) this.forward(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
        this.endRequest();
      } else if (this.state === 'chunk-size' || this.state === 'chunk-trailer') {
        const end = this.buffer.indexOf('\r\n');
        if (end === -1) return;
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.forward(end + 2);
        if (this.state === 'chunk-trailer') {
          if (line === '') this.endRequest();
        } else {
          this.remaining = parseInt(line, 16) + 2; // data and its CRLF
          this.state = this.remaining === 2 ? 'chunk-trailer' : 'chunk-data';
        }
      } else {
        const take = Math.min(this.remaining, this.buffer.length);
        if (take > 0) this.forward(take);
        this.remaining -= take;
        if (this.remaining > 0) return;
        this.state = 'chunk-size';
      }
    }
  }

  private forward(length: number): void {
    this.events.onBytes(this.buffer.subarray(0, length), this.faulted);
    this.buffer = this.buffer.subarray(length);
  }

  private endRequest(): void {
    this.state = 'head';
    if (this.faulted) {
      this.faulted = false;
      this.events.onFaultedRequestEnd();
    }
  }
}
