import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { runProcess } from './process.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

/**
 * - `starttls`: plain text first, STARTTLS offered (port 587's way);
 * - `tls`: TLS from the first byte (port 465's way);
 * - `none`: plain text only, STARTTLS neither offered nor accepted (a local relay).
 */
export type SmtpSecurity = 'starttls' | 'tls' | 'none';

export interface SmtpServerOptions {
  security?: SmtpSecurity;
  /** Require AUTH (PLAIN or LOGIN) with these credentials; anything else is refused with 535. Without it no AUTH is asked. */
  auth?: { username: string; password: string };
}

/** One message the server accepted, as the envelope said and as mailparser reads it. */
export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The session was encrypted (TLS or STARTTLS) when the message came. */
  secure: boolean;
  /** Who logged in, when AUTH was asked. */
  user?: string;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  /** The test CA (PEM) that signed the server's certificate, and a file holding it; absent with `security: none`. */
  ca?: string;
  caFile?: string;
  /** Every message accepted so far, oldest first. */
  received: ReceivedMail[];
  /** Resolves once `count` messages in all have arrived; rejects after `timeoutMs` (default 10 s). */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Stops listening, drops open sessions, removes the certificates. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A real SMTP server (the nodemailer project's smtp-server) on 127.0.0.1
 * and a free port, recording and parsing every message. Its certificate is
 * made at start by `openssl`, signed by a CA made with it, both valid for
 * two days: a private key committed to the repository would be flagged by
 * secret scanners and its certificate would expire one day, while openssl
 * is one Debian package (.ci/run installs it) and takes well under a
 * second. The leaf names 127.0.0.1 and localhost, so a client that trusts
 * the CA verifies the server exactly as it would a real one.
 */
export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const security = options.security ?? 'starttls';
  const dir = await makeTempDir('backupctl-smtp-');
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  try {
    const certificates = security === 'none' ? undefined : await makeCertificates(dir);
    const server = new SMTPServer({
      secure: security === 'tls',
      ...(certificates ? { key: certificates.key, cert: certificates.cert } : { disabledCommands: ['STARTTLS'] }),
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !options.auth,
      // AUTH over plain text only where no TLS is on offer at all.
      allowInsecureAuth: security === 'none',
      logger: false,
      disableReverseLookup: true,
      onAuth(auth, _session, callback) {
        const { username, password } = options.auth ?? {};
        if (auth.username === username && auth.password === password) return callback(null, { user: username });
        callback(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
      },
      onData(stream, session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            received.push({
              envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map(({ address }) => address) },
              secure: session.secure,
              ...(typeof session.user === 'string' ? { user: session.user } : {}),
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    server.on('error', () => {
      // A client hanging up mid-session (a refused certificate) is the test's business, not a crash.
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.server.address() as AddressInfo;

    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      ...(certificates ? { ca: certificates.ca, caFile: certificates.caFile } : {}),
      received,
      waitForMessages(count, timeoutMs = 10_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            if (received.length < count) return;
            done();
            resolve(received.slice(0, count));
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${received.length}`));
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      },
      stop: () =>
        (stopping ??= (async () => {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await removeTempDir(dir);
        })()),
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

/** A CA, and a server certificate it signed for 127.0.0.1 and localhost, in `dir`. */
async function makeCertificates(dir: string): Promise<{ key: string; cert: string; ca: string; caFile: string }> {
  const file = (name: string) => path.join(dir, name);
  const openssl = async (args: string[]) => {
    const result = await runProcess('openssl', args, { cwd: dir, timeoutMs: 30_000 }).catch((error: Error) => {
      throw new Error(`the SMTP test server needs openssl (apt-get install openssl): ${error.message}`);
    });
    if (result.code !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=backupctl test CA']);
  await openssl(['req', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(file('server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n');
  await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem')]);
  const [key, cert, ca] = await Promise.all(['server.key', 'server.pem', 'ca.pem'].map((name) => readFile(file(name), 'utf8')));
  return { key: key!, cert: cert!, ca: ca!, caFile: file('ca.pem') };
}
