import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { closedPort } from './closed-port.js';
import { startProcess, type RunningProcess } from './process.js';

/** Azurite's well-known development account and key (public, in Microsoft's docs); anything else is refused with 403. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const BLOB_MAIN = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');

/** A running Azurite blob service on 127.0.0.1. */
export interface Azurite {
  port: number;
  /** The blob service URL, path-style: `http://127.0.0.1:<port>/devstoreaccount1`. */
  endpoint: string;
  account: string;
  accountKey: string;
  /** A connection string for the dev account at this endpoint. */
  connectionString: string;
  /** A client for `name`, authenticated with the dev key. */
  container(name: string): ContainerClient;
  /** Creates the container `name`. */
  createContainer(name: string): Promise<void>;
  /** The names of the committed blobs under `prefix`, sorted. */
  listBlobNames(container: string, prefix?: string): Promise<string[]>;
  /** The blob's bytes. */
  download(container: string, name: string): Promise<Buffer>;
  /** The child process, for tests that check it is gone after stop(). */
  child: ChildProcess;
  /** Stops Azurite (SIGTERM, SIGKILL after 5 s) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopProcess(running: RunningProcess): Promise<void> {
  const { child } = running;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = running.result.then(
    () => undefined,
    () => undefined,
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts Azurite's blob service on a free 127.0.0.1 port, storing in a new
 * temp dir. It runs as `node .../blob/main.js` (not through npx, whose
 * child would outlive a killed npx), with `--skipApiVersionCheck`: the
 * client this repo pins (12.29.1) speaks an API version Azurite 3.35 knows,
 * the flag keeps a newer client working too. If the worker exits without
 * stop(), the child is killed with it.
 */
export async function startAzurite(): Promise<Azurite> {
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-azurite-'));
  let running: RunningProcess | undefined;
  let port = 0;
  for (let attempt = 1; running === undefined; attempt += 1) {
    port = await closedPort();
    const started = startProcess(
      process.execPath,
      [BLOB_MAIN, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', directory, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
      { env: { PATH: process.env.PATH ?? '', HOME: directory } },
    );
    const ended = started.result.then(
      () => 'ended' as const,
      () => 'ended' as const,
    );
    const deadline = Date.now() + 20_000;
    let state: 'up' | 'ended' | 'waiting' = 'waiting';
    while (state === 'waiting' && Date.now() < deadline) {
      state = await Promise.race([ended, sleep(100).then(async () => ((await accepts(port)) ? ('up' as const) : ('waiting' as const)))]);
    }
    if (state === 'up') {
      running = started;
      break;
    }
    await stopProcess(started);
    // A busy port (another test took it in between) ends it at once: try another.
    if (attempt >= 3 || state === 'waiting') {
      await rm(directory, { recursive: true, force: true });
      const { stdout, stderr } = started.output();
      throw new Error(`Azurite did not start on port ${port}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
    }
  }
  const child = running.child;
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY));
  const container = (name: string): ContainerClient => service.getContainerClient(name);
  let stopping: Promise<void> | undefined;
  const process_ = running;
  return {
    port,
    endpoint,
    account: AZURITE_ACCOUNT,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${endpoint};`,
    container,
    async createContainer(name) {
      await container(name).create();
    },
    async listBlobNames(name, prefix = '') {
      const names: string[] = [];
      for await (const blob of container(name).listBlobsFlat({ prefix })) names.push(blob.name);
      return names.sort();
    },
    async download(name, blob) {
      return container(name).getBlobClient(blob).downloadToBuffer();
    },
    child,
    stop: () =>
      (stopping ??= (async () => {
        process.off('exit', killOnExit);
        await stopProcess(process_);
        await rm(directory, { recursive: true, force: true });
      })()),
  };
}
