import type { Measurement } from './measure.js';

/** One run of one case, as kept in the JSON. */
export interface Sample extends Omit<Measurement, 'stdout'> {
  round: number;
  /** Bytes stored (compressed size), when the case produces any. */
  storedBytes?: number;
  /** Restores: seconds from the command's start to the restoring psql's, and psql's own seconds. */
  toPsqlSeconds?: number;
  psqlSeconds?: number;
}

/** A case of the comparison and its runs. */
export interface CaseResult {
  id: string;
  label: string;
  /** The command as a user would type it. */
  command: string;
  /** Which group the case belongs to: dumps are compared with (b) and (b2), restores with each other. */
  group: 'dump' | 'restore';
  samples: Sample[];
}

export interface CaseSummary {
  id: string;
  secondsMin: number;
  secondsMedian: number;
  /** Raw dump megabytes (10^6) per second, from the fastest and the median run. */
  mbPerSecondMin: number;
  mbPerSecondMedian: number;
  storedBytes?: number;
  /** Stored bytes / raw dump bytes. */
  ratio?: number;
  peakRssBytes: number;
  cpuSecondsMedian: number;
  s3CpuSecondsMedian: number;
  postgresCpuSecondsMedian: number;
  /** Speed relative to a reference case: its seconds / these seconds (above 1 = faster). By reference id, for min and median. */
  speedup: Record<string, { min: number; median: number }>;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(result: CaseResult, rawBytes: number, references: readonly CaseResult[]): CaseSummary {
  const seconds = result.samples.map((sample) => sample.seconds);
  const secondsMin = Math.min(...seconds);
  const secondsMedian = median(seconds);
  const stored = result.samples.map((sample) => sample.storedBytes).filter((bytes): bytes is number => bytes !== undefined);
  const storedBytes = stored.length ? median(stored) : undefined;
  const speedup: CaseSummary['speedup'] = {};
  for (const reference of references) {
    const theirs = reference.samples.map((sample) => sample.seconds);
    speedup[reference.id] = { min: Math.min(...theirs) / secondsMin, median: median(theirs) / secondsMedian };
  }
  return {
    id: result.id,
    secondsMin,
    secondsMedian,
    mbPerSecondMin: rawBytes / 1e6 / secondsMin,
    mbPerSecondMedian: rawBytes / 1e6 / secondsMedian,
    ...(storedBytes === undefined ? {} : { storedBytes, ratio: storedBytes / rawBytes }),
    peakRssBytes: Math.max(...result.samples.map((sample) => sample.peakRssBytes)),
    cpuSecondsMedian: median(result.samples.map((sample) => sample.cpuSeconds)),
    s3CpuSecondsMedian: median(result.samples.map((sample) => sample.s3CpuSeconds)),
    postgresCpuSecondsMedian: median(result.samples.map((sample) => sample.postgresCpuSeconds)),
    speedup,
  };
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const megabytes = (bytes: number): string => `${fixed(bytes / 1e6, 1)} MB`;

/** The results as a Markdown table (the README shows the last one). */
export function markdownTable(
  results: readonly CaseResult[],
  summaries: readonly CaseSummary[],
  references: readonly string[],
  /** The database server's CPU column (the MariaDB bench reads mariadbd's). */
  serverColumn = 'PG backend CPU s',
): string {
  const header = [
    'case',
    'command',
    's (min / median)',
    'MB/s (min / median)',
    'stored',
    'out/raw',
    'peak RSS',
    'CPU s',
    'store server CPU s',
    serverColumn,
    ...references.map((id) => `× (${id}) min / median`),
  ];
  const rows = results.map((result, index) => {
    const summary = summaries[index] as CaseSummary;
    return [
      `(${result.id}) ${result.label}`,
      `\`${result.command.replaceAll('|', '\\|')}\``,
      `${fixed(summary.secondsMin)} / ${fixed(summary.secondsMedian)}`,
      `${fixed(summary.mbPerSecondMin, 0)} / ${fixed(summary.mbPerSecondMedian, 0)}`,
      summary.storedBytes === undefined ? '' : megabytes(summary.storedBytes),
      summary.ratio === undefined ? '' : fixed(summary.ratio, 3),
      `${fixed(summary.peakRssBytes / 2 ** 20, 0)} MiB`,
      fixed(summary.cpuSecondsMedian, 1),
      fixed(summary.s3CpuSecondsMedian, 1),
      fixed(summary.postgresCpuSecondsMedian, 1),
      ...references.map((id) => {
        const speedup = summary.speedup[id];
        return speedup && result.group === 'dump' && result.id !== id ? `${fixed(speedup.min)} / ${fixed(speedup.median)}` : '';
      }),
    ];
  });
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** A target of the issue and whether this run met it. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
}

export function targetLines(checks: readonly TargetCheck[]): string {
  return checks.map((check) => `${check.met ? 'met    ' : 'MISSED '} ${check.target}: ${check.value}`).join('\n');
}
