import { join } from 'node:path';
import { CLI_ENTRY, cliEnvironment } from '../test/harness/cli.js';
import { measure, type Watched } from './measure.js';
import { REPO_ROOT, type BenchS3 } from './services.js';
import { BUCKET } from './comparison.js';

const STREAM_PIPELINE = join(REPO_ROOT, 'bench', 'stream.yml');

/** One generated stream through the default gzip into S3. */
export interface StreamResult {
  gigabytes: number;
  seconds: number;
  mbPerSecond: number;
  storedBytes: number;
  peakRssBytes: number;
  /** Resident memory at 10%, 50% and 90% of the run: flat means the same at every point. */
  rssAtBytes: { at10: number; at50: number; at90: number };
  cpuSeconds: number;
  s3CpuSeconds: number;
}

/**
 * `--stream-gb 1,10`: `backupctl run` of bench/stream.yml (generated rows,
 * default gzip, S3) for each size, sampling its resident memory four
 * times a second. No PostgreSQL: the source is a plugin in bench/.
 */
export async function runStreams(s3: BenchS3, sizesGb: readonly number[], node: string, log: (line: string) => void): Promise<StreamResult[]> {
  const watched: Watched = { s3Pid: s3.pid };
  const results: StreamResult[] = [];
  for (const gigabytes of sizesGb) {
    const bytes = Math.round(gigabytes * 1e9);
    const env = cliEnvironment({
      STREAM_BYTES: String(bytes),
      S3_BUCKET: BUCKET,
      S3_ENDPOINT_URL: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKeyId,
      S3_SECRET_KEY: s3.secretAccessKey,
    });
    log(`stream ${gigabytes} GB: backupctl run bench/stream.yml ...`);
    const measured = await measure(node, [CLI_ENTRY, 'run', STREAM_PIPELINE, '--json'], env, watched, { sampleRssEveryMs: 250 });
    const [job] = (JSON.parse(measured.stdout) as { jobs: { bytes?: number; sourceBytes?: number }[] }).jobs;
    if (job?.sourceBytes !== bytes) throw new Error(`the stream job stored ${job?.sourceBytes ?? 'nothing'} of ${bytes} bytes`);
    const timeline = measured.rssTimeline ?? [];
    // The sample taken nearest to that point of the run.
    const rssAt = (fraction: number) =>
      timeline.reduce<[number, number]>(
        (best, [seconds, rss]) => (Math.abs(seconds / measured.seconds - fraction) < Math.abs(best[0] / measured.seconds - fraction) ? [seconds, rss] : best),
        [Number.POSITIVE_INFINITY, 0],
      )[1];
    const result: StreamResult = {
      gigabytes,
      seconds: measured.seconds,
      mbPerSecond: bytes / 1e6 / measured.seconds,
      storedBytes: job.bytes ?? 0,
      peakRssBytes: measured.peakRssBytes,
      rssAtBytes: { at10: rssAt(0.1), at50: rssAt(0.5), at90: rssAt(0.9) },
      cpuSeconds: measured.cpuSeconds,
      s3CpuSeconds: measured.s3CpuSeconds,
    };
    results.push(result);
    const mib = (value: number) => `${(value / 2 ** 20).toFixed(0)} MiB`;
    log(
      `stream ${gigabytes} GB: ${result.seconds.toFixed(1)} s (${result.mbPerSecond.toFixed(0)} MB/s), stored ${(result.storedBytes / 1e6).toFixed(0)} MB, ` +
        `peak RSS ${mib(result.peakRssBytes)} (at 10/50/90%: ${mib(result.rssAtBytes.at10)} / ${mib(result.rssAtBytes.at50)} / ${mib(result.rssAtBytes.at90)})`,
    );
  }
  return results;
}
