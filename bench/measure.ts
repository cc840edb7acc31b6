import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../test/harness/process.js';
import { cpuSeconds } from './services.js';

/** GNU time: wall time, CPU and peak RSS of a process and the children it waited for. */
const GNU_TIME = '/usr/bin/time';

/** What one run of one case cost. */
export interface Measurement {
  /** Wall-clock seconds, start-up included. */
  seconds: number;
  /** User + system CPU seconds of the process and its children (pg_dump, gzip, psql...). */
  cpuSeconds: number;
  /** Peak resident memory of the largest process, in bytes (GNU time's %M). */
  peakRssBytes: number;
  /** CPU seconds the S3 server used meanwhile (it shares the cores). */
  s3CpuSeconds: number;
  /** CPU seconds of the PostgreSQL backends that ended meanwhile (the one serving the dump). */
  postgresCpuSeconds: number;
  /** Resident memory of the measured program over time, when sampled: [seconds since start, bytes]. */
  rssTimeline?: [number, number][];
  stdout: string;
}

export interface MeasureOptions {
  /** Sample the measured program's resident memory this often. */
  sampleRssEveryMs?: number;
}

/** The processes whose CPU a measurement also reads. */
export interface Watched {
  /** The store server's process (the S3 server; for other stores, theirs). */
  s3Pid: number;
  /** Also count the store server's reaped children (sshd serves each session in a child it forks). */
  s3Children?: boolean;
  /** Absent when no PostgreSQL runs (the stream bench). */
  postmasterPid?: number;
}

export function checkGnuTime(): void {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} (GNU time) is needed to read peak memory and CPU: apt-get install -y time`);
  }
}

/**
 * Runs `file args` under GNU time (no shell unless `file` is one) and
 * reports what it cost. Rejects when it exits non-zero, with its stderr.
 */
export async function measure(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  watched: Watched,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const directory = await mkdtemp(join(tmpdir(), 'backupctl-bench-time-'));
  const report = join(directory, 'time.txt');
  try {
    const s3Before = await cpuSeconds(watched.s3Pid, watched.s3Children);
    const postgresCpu = () => (watched.postmasterPid === undefined ? Promise.resolve(0) : cpuSeconds(watched.postmasterPid, true));
    const postgresBefore = await postgresCpu();
    const started = performance.now();
    const running = startProcess(GNU_TIME, ['-f', '%e %U %S %M', '-o', report, file, ...args], { env });
    const rssTimeline: [number, number][] = [];
    const sampler =
      options.sampleRssEveryMs === undefined
        ? undefined
        : setInterval(() => {
            const rss = childRss(running.child.pid);
            if (rss !== undefined) rssTimeline.push([(performance.now() - started) / 1000, rss]);
          }, options.sampleRssEveryMs);
    const result = await running.result.finally(() => clearInterval(sampler));
    const seconds = (performance.now() - started) / 1000;
    // The postmaster reaps the backend right after pg_dump disconnects; give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const s3CpuSeconds = (await cpuSeconds(watched.s3Pid, watched.s3Children)) - s3Before;
    const postgresCpuSeconds = (await postgresCpu()) - postgresBefore;
    if (result.code !== 0) {
      throw new Error(`${[file, ...args].join(' ')} failed (exit ${result.code ?? result.signal}):\n${result.stderr.trim()}`);
    }
    const line = (await readFile(report, 'utf8')).trim().split('\n').at(-1) ?? '';
    const [, user = 0, system = 0, maxRssKiB = 0] = line.split(' ').map(Number);
    return {
      seconds,
      cpuSeconds: user + system,
      peakRssBytes: maxRssKiB * 1024,
      s3CpuSeconds,
      postgresCpuSeconds,
      ...(sampler === undefined ? {} : { rssTimeline }),
      stdout: result.stdout,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Resident memory of the program GNU time (pid `timePid`) runs, from /proc; undefined when it is gone. */
function childRss(timePid: number | undefined): number | undefined {
  try {
    const [child] = readFileSync(`/proc/${timePid}/task/${timePid}/children`, 'utf8').trim().split(' ');
    if (!child) return undefined;
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}
