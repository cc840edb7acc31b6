import { formatSize } from '@backupctl/plugin-api';
import type { JobProgress } from '@backupctl/core';

/** One moment of a streaming job, as a progress line shows it. */
export interface ProgressSnapshot {
  /** e.g. `Clara DB`. */
  label: string;
  /** Bytes read from the source (run: pg_dump's output; restore: the stored object). */
  bytesRead: number;
  /** Bytes on the other side (run: stored after transforms; restore: handed to psql). */
  bytesWritten: number;
  /** What `bytesWritten` are called in the line: `stored` by default. */
  writtenAs?: string;
  elapsedMs: number;
  /** The stream settled: the line is cleared, the next log line takes its place. */
  done: boolean;
}

/** `Clara DB: 120.5 MB read, 24.1 MB stored, 40.2 MB/s, 0:03` (the rate is of bytes read). */
export function formatProgress(snapshot: ProgressSnapshot): string {
  const seconds = snapshot.elapsedMs / 1000;
  const rate = seconds > 0 ? snapshot.bytesRead / seconds : 0;
  return (
    `${snapshot.label}: ${formatSize(snapshot.bytesRead)} read, ` +
    `${formatSize(snapshot.bytesWritten)} ${snapshot.writtenAs ?? 'stored'}, ` +
    `${formatSize(rate)}/s, ${formatElapsed(snapshot.elapsedMs)}`
  );
}

/** `0:07`, `12:34`, `1:02:03`. */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const pad = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

/** The engine's progress, as a snapshot for the line. */
export function jobSnapshot(progress: JobProgress): ProgressSnapshot {
  return {
    label: progress.title,
    bytesRead: progress.sourceBytes,
    bytesWritten: progress.storedBytes,
    elapsedMs: progress.elapsedMs,
    done: progress.done,
  };
}

/**
 * Several backups at once (`concurrency`): one line for all in flight,
 * `3 in flight (Main / crm, Main / shop, Main / app): 120.5 MB read, ...`,
 * their bytes summed, the rate of all of them together over the longest's
 * time. The line clears only when the last one settled.
 */
export class InFlightProgress {
  readonly #jobs = new Map<string, JobProgress>();

  update(progress: JobProgress): ProgressSnapshot {
    if (progress.done) this.#jobs.delete(progress.title);
    else this.#jobs.set(progress.title, progress);
    const running = [...this.#jobs.values()];
    if (running.length === 1) return jobSnapshot(running[0]!);
    return {
      label: running.length === 0 ? progress.title : `${running.length} in flight (${running.map((job) => job.title).join(', ')})`,
      bytesRead: running.reduce((sum, job) => sum + job.sourceBytes, 0),
      bytesWritten: running.reduce((sum, job) => sum + job.storedBytes, 0),
      elapsedMs: Math.max(0, ...running.map((job) => job.elapsedMs)),
      done: running.length === 0,
    };
  }
}

export interface ProgressLineOptions {
  /** At most one redraw this often (default 500 ms); the first and the last are drawn at once. */
  intervalMs?: number;
  now?: () => number;
}

const CLEAR_LINE = '\r\u001B[K';

/**
 * A status line at the bottom of a terminal, redrawn in place with `\r`.
 * Log lines go through `writeLine`, which clears the status, prints the
 * line and redraws the status under it, so the two never overwrite each
 * other. Only for a TTY: the CLI does not create one otherwise, so piped
 * output and log files carry no control characters.
 */
export class ProgressLine {
  private status = '';
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number },
    options: ProgressLineOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 500;
    this.now = options.now ?? Date.now;
  }

  update(snapshot: ProgressSnapshot): void {
    if (snapshot.done) {
      this.clear();
      return;
    }
    const now = this.now();
    if (this.status && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.status = this.fit(formatProgress(snapshot));
    this.stream.write(`${CLEAR_LINE}${this.status}`);
  }

  /** Prints a whole line (a log line) above the status. */
  writeLine(line: string): void {
    this.stream.write(this.status ? `${CLEAR_LINE}${line}\n${this.status}` : `${line}\n`);
  }

  /** Removes the status line. */
  clear(): void {
    if (!this.status) return;
    this.status = '';
    this.stream.write(CLEAR_LINE);
  }

  // A line wider than the terminal wraps, and `\r` then redraws only its last part.
  private fit(text: string): string {
    const columns = this.stream.columns;
    return columns && text.length >= columns ? text.slice(0, columns - 1) : text;
  }
}
