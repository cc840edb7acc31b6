import { execFile as execFileCallback, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { closedPort } from './closed-port.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const execFile = promisify(execFileCallback);

// Debian's OpenSSH sshd (`openssh-server`, installed by .ci/run) on a free
// 127.0.0.1 port, with a host key and an authorized client key of its own,
// for one test user with a password. One per test file. The recipe and its
// pitfalls: sshd wants an absolute path and /run/sshd, reads the authorized
// keys file as the user (so 0644), refuses a locked account, and with
// StrictModes would refuse keys under /tmp (1777).

const SSHD = '/usr/sbin/sshd';
/** The test user, made when missing (as root); its home holds each file's directory. */
export const SFTP_TEST_USER = 'backupctl-sftp';
export const SFTP_TEST_PASSWORD = 'Sftp test pw 1';

/** A running sshd and what a client needs to log in. */
export interface SshdServer {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  /** The user's home (its SFTP login directory). */
  home: string;
  /** Path of the client's private key (ed25519, no passphrase), authorized for the user. */
  clientKeyFile: string;
  /** `SHA256:...` of the host key, as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** The listening sshd's PID (its reaped session children's CPU is in its /proc stat). */
  pid: number | undefined;
  /** PIDs of the sshd processes serving open connections (the listener's children and theirs). */
  sessionPids(): Promise<number[]>;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
}

/** Why the sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the sshd harness runs as root (it creates the test user and runs sshd); run the tests as root, as .ci/run does';
  if (!existsSync(SSHD)) return `${SSHD} is missing: install openssh-server (.ci/run does)`;
  return undefined;
}

async function ensureUser(): Promise<string> {
  const exists = await execFile('id', [SFTP_TEST_USER]).then(() => true, () => false);
  if (!exists) await execFile('useradd', ['-m', '-s', '/bin/bash', SFTP_TEST_USER]);
  const chpasswd = spawn('chpasswd', { stdio: ['pipe', 'ignore', 'pipe'] });
  chpasswd.stdin.end(`${SFTP_TEST_USER}:${SFTP_TEST_PASSWORD}\n`);
  const code = await new Promise<number | null>((resolve) => chpasswd.on('close', resolve));
  if (code !== 0) throw new Error(`chpasswd for ${SFTP_TEST_USER} exited ${code}`);
  const { stdout } = await execFile('getent', ['passwd', SFTP_TEST_USER]);
  return stdout.trim().split(':')[5] ?? `/home/${SFTP_TEST_USER}`;
}

/** The SHA256 fingerprint of an OpenSSH public key line. */
export function publicKeyFingerprint(line: string): string {
  const blob = Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

async function listening(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    await delay(50);
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}`);
}

/** Every process whose parent is `pid`, and theirs (from /proc). */
async function descendants(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  const deeper = await Promise.all(children.map(descendants));
  return [...children, ...deeper.flat()];
}

export async function startSshd(): Promise<SshdServer> {
  const home = await ensureUser();
  const dir = await makeTempDir('sshd-test-');
  await chmod(dir, 0o755);
  await mkdir('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client');
  await execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await execFile('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  const authorized = path.join(dir, 'authorized_keys');
  await copyFile(`${clientKey}.pub`, authorized);
  await chmod(authorized, 0o644);
  const port = await closedPort();
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'StrictModes no',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin no',
      `AllowUsers ${SFTP_TEST_USER}`,
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  await execFile(SSHD, ['-t', '-f', config]);
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([listening(port, Date.now() + 10_000), exited.then(() => Promise.reject(new Error(`sshd exited: ${log}`)))]);
  } catch (error) {
    child.kill('SIGKILL');
    await removeTempDir(dir);
    throw error;
  }
  const hostKeyFingerprint = publicKeyFingerprint(await readFile(`${hostKey}.pub`, 'utf8'));
  return {
    host: '127.0.0.1',
    port,
    user: SFTP_TEST_USER,
    password: SFTP_TEST_PASSWORD,
    home,
    clientKeyFile: clientKey,
    hostKeyFingerprint,
    pid: child.pid,
    sessionPids: () => (child.pid === undefined ? Promise.resolve([]) : descendants(child.pid)),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, delay(3000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      await removeTempDir(dir);
    },
  };
}
