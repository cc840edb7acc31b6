import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './services.js';

/** What a result is only comparable with: the machine and the software versions. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  /** The database server: PostgreSQL's version, or `MariaDB <version>` in the MariaDB bench. */
  postgres: string;
  gzip: string;
  clientS3: string;
  s3rver: string;
  /** 1, 5 and 15 minute load averages when the bench started (anything else running skews it). */
  loadAverage: number[];
}

/** `node`: the binary backupctl runs under, whose version is reported. */
export function describeMachine(postgresVersion: string, node = process.execPath): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: /^PRETTY_NAME="?(.*?)"?$/m.exec(readIfExists('/etc/os-release'))?.[1] ?? process.platform,
    kernel: release(),
    node: node === process.execPath ? process.version : (spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout ?? 'unknown').trim(),
    postgres: postgresVersion,
    gzip: (spawnSync('gzip', ['--version'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0] ?? 'unknown',
    clientS3: packageVersion('@aws-sdk/client-s3'),
    s3rver: packageVersion('s3rver'),
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(join(REPO_ROOT, 'package.json'));
    return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineLine(machine: Machine): string {
  return (
    `${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, ${machine.os}, ${machine.postgres.startsWith('MariaDB') ? '' : 'PostgreSQL '}${machine.postgres}, ` +
    `Node ${machine.node}, ${machine.gzip}, @aws-sdk/client-s3 ${machine.clientS3}, s3rver ${machine.s3rver} on the same cores; ` +
    `load average at start ${machine.loadAverage.join(' / ')}`
  );
}
