import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { formatSize } from '@backupctl/plugin-api';

/**
 * One stream read once, written to several consumers (sinks) at once: the
 * same Buffers go to every branch, none is copied. Memory stays bounded:
 * the input pauses while a required branch is full, and a non-required
 * branch that falls too far behind or stalls is cut loose, so the others
 * never wait for it. The fan-out must be the input's only reader.
 */

/** A lagging non-required branch is cut loose past this backlog. */
export const DEFAULT_MAX_LAG_BYTES = 32 * 1024 * 1024;
/** A non-required branch that takes nothing for this long is cut loose. */
export const DEFAULT_STALL_MS = 60_000;
/**
 * Each branch's buffer before it pushes back. Bigger than Node's 16 KiB so
 * that sinks taking their input in bursts (an S3 part, then its upload)
 * do not stop each other at every chunk; it costs at most this per branch.
 */
export const DEFAULT_BRANCH_HIGH_WATER_MARK = 1024 * 1024;

export interface FanOutBranchSpec {
  /** Names the branch in reports and errors; unique within a fan-out. */
  name: string;
  /** A required branch paces the input and is never cut loose. */
  required: boolean;
}

export interface FanOutOptions {
  /**
   * Backlog past which a non-required branch is cut loose: bytes read from
   * the input that its consumer has not taken. That is what it holds in
   * memory, and its lag behind the fastest branch to within a high-water
   * mark (the input runs at most that far ahead of the branch pacing it).
   */
  maxLagBytes?: number;
  /** How long a non-required branch may take nothing while bytes wait for it. */
  stallMs?: number;
  /** Each branch stream's highWaterMark (bytes). */
  highWaterMark?: number;
  /** Told when a non-required branch is cut loose (its stream is destroyed with a CutLooseError). */
  onCutLoose?: (name: string, reason: string) => void;
}

/** Where a branch stands. */
export type BranchState =
  | { kind: 'flowing' }
  /** Its consumer read everything to the end. */
  | { kind: 'ended' }
  | { kind: 'cut-loose'; reason: string }
  /** Its consumer destroyed the stream, or the input failed (then `error` is the input's). */
  | { kind: 'failed'; error: Error };

/** One branch: its stream goes to one sink's `write`. */
export interface FanOutBranch {
  readonly name: string;
  readonly required: boolean;
  readonly stream: Readable;
  /** Bytes its consumer has taken off the stream so far. */
  readonly delivered: number;
  readonly state: BranchState;
}

export interface FanOut {
  /** The branches, in the order given. */
  readonly branches: readonly FanOutBranch[];
  /** The branch of that name; throws for an unknown name. */
  branch(name: string): FanOutBranch;
}

/** The error a cut-loose branch's stream is destroyed with, so its sink aborts. */
export class CutLooseError extends Error {
  constructor(
    readonly branch: string,
    readonly reason: string,
  ) {
    super(`${branch} was cut loose from the other copies: it ${reason}`);
    this.name = 'CutLooseError';
  }
}

class Branch implements FanOutBranch {
  readonly name: string;
  readonly required: boolean;
  readonly stream: Readable;
  state: BranchState = { kind: 'flowing' };
  /** Bytes pushed into the stream. */
  pushed = 0;
  /** Set once the branch left: its stream's buffer no longer says anything. */
  private deliveredAtExit: number | undefined;
  /** What the stall check last saw, and when it last saw progress. */
  seen = 0;
  progressAt = performance.now();

  constructor(spec: FanOutBranchSpec, highWaterMark: number, read: (branch: Branch) => void, destroyed: (branch: Branch, error: Error | null) => void) {
    this.name = spec.name;
    this.required = spec.required;
    this.stream = new Readable({
      highWaterMark,
      read: () => read(this),
      destroy: (error, callback) => {
        destroyed(this, error);
        callback(error);
      },
    });
    // The state keeps the error; a sink that has not attached its listeners yet must not crash the process.
    this.stream.on('error', () => undefined);
    this.stream.once('end', () => {
      if (this.state.kind === 'flowing') this.leave({ kind: 'ended' });
    });
  }

  get delivered(): number {
    return this.deliveredAtExit ?? this.pushed - this.stream.readableLength;
  }

  /** Bytes read from the input that its consumer has not taken yet: what it holds in memory. */
  get backlog(): number {
    return this.stream.readableLength;
  }

  get flowing(): boolean {
    return this.state.kind === 'flowing';
  }

  get hasRoom(): boolean {
    return this.stream.readableLength < this.stream.readableHighWaterMark;
  }

  push(chunk: Buffer): void {
    // A stall is counted from when bytes started waiting, not from the last time some were taken.
    if (this.stream.readableLength === 0) this.progressAt = performance.now();
    this.pushed += chunk.length;
    this.stream.push(chunk);
  }

  leave(state: Exclude<BranchState, { kind: 'flowing' }>): void {
    this.deliveredAtExit = this.delivered;
    this.state = state;
  }
}

/**
 * Splits `input` into one stream per branch. Pass each `stream` to its
 * sink's `write`. The input ending ends every branch; the input failing
 * destroys every branch with its error; every branch gone (failed or cut
 * loose) destroys the input.
 */
export function fanOut(input: Readable, specs: readonly FanOutBranchSpec[], options: FanOutOptions = {}): FanOut {
  const maxLag = options.maxLagBytes ?? DEFAULT_MAX_LAG_BYTES;
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  const highWaterMark = options.highWaterMark ?? DEFAULT_BRANCH_HIGH_WATER_MARK;
  if (specs.length === 0) throw new Error('a fan-out needs at least one branch');
  if (new Set(specs.map((spec) => spec.name)).size !== specs.length) throw new Error('fan-out branch names must be unique');
  if (maxLag < highWaterMark) throw new RangeError(`maxLagBytes (${maxLag}) is below the branches' highWaterMark (${highWaterMark})`);

  let inputState: 'open' | 'ended' | 'failed' = 'open';
  const branches = specs.map((spec) => new Branch(spec, highWaterMark, pull, onBranchDestroyed));

  // The input may run only while every required branch has room; with no
  // required branch left, while the fastest one has room (so a slow
  // non-required branch is cut loose rather than pacing everything).
  // `reading` has room whatever its buffer says: Node calls _read before it
  // takes the chunk being read off the buffer, and calls it again only
  // after the next push, so waiting for it to say so would deadlock.
  function canFlow(reading?: Branch): boolean {
    let anyRequired = false;
    let anyRoom = false;
    for (const branch of branches) {
      if (!branch.flowing) continue;
      const room = branch === reading || branch.hasRoom;
      if (branch.required) {
        if (!room) return false;
        anyRequired = true;
      }
      anyRoom ||= room;
    }
    return anyRequired || anyRoom;
  }

  // A branch's consumer wants more: the input may go on if it waited for that one.
  function pull(reading?: Branch): void {
    if (inputState === 'open' && input.isPaused() && canFlow(reading)) input.resume();
  }

  function cutLoose(branch: Branch, reason: string): void {
    branch.leave({ kind: 'cut-loose', reason });
    branch.stream.destroy(new CutLooseError(branch.name, reason));
    options.onCutLoose?.(branch.name, reason);
  }

  function onBranchDestroyed(branch: Branch, error: Error | null): void {
    // Our own destroy (cut loose, input failed) or the end already set the state.
    if (branch.flowing) branch.leave({ kind: 'failed', error: error ?? new Error(`${branch.name} closed its stream before the end`) });
    if (inputState !== 'open') return;
    if (branches.some((other) => other.flowing)) pull();
    else input.destroy(new Error('every branch of the fan-out failed or was cut loose'));
  }

  // 'data' (not read()): read() without a size concatenates what is buffered into a new Buffer.
  input.on('data', (chunk: Buffer) => {
    for (const branch of branches) {
      if (!branch.flowing) continue;
      branch.push(chunk);
      // A backlog only grows here, so this is the one place to measure it.
      if (!branch.required && branch.backlog > maxLag) cutLoose(branch, `fell ${formatSize(maxLag)} behind`);
    }
    if (inputState === 'open' && !canFlow()) input.pause();
  });
  input.once('end', () => {
    inputState = 'ended';
    for (const branch of branches) if (branch.flowing) branch.stream.push(null);
  });
  const failAll = (error: Error): void => {
    if (inputState !== 'open') return;
    inputState = 'failed';
    for (const branch of branches) {
      if (!branch.flowing) continue;
      branch.leave({ kind: 'failed', error });
      branch.stream.destroy(error);
    }
  };
  input.once('error', failAll);
  input.once('close', () => failAll(new Error('the fan-out input closed before its end')));

  // Progress is measured by polling: a consumer that stops reading gives no event to time out on.
  const stallTimer = specs.some((spec) => !spec.required) ? setInterval(checkStalls, Math.max(1, stallMs / 4)) : undefined;
  stallTimer?.unref();

  function checkStalls(): void {
    const now = performance.now();
    let watching = false;
    for (const branch of branches) {
      if (branch.required || !branch.flowing) continue;
      watching = true;
      // Nothing waiting for it (a slow input) is no stall.
      if (branch.delivered !== branch.seen || branch.backlog === 0) {
        branch.seen = branch.delivered;
        branch.progressAt = now;
      } else if (now - branch.progressAt >= stallMs) {
        cutLoose(branch, `stalled for ${formatSeconds(stallMs)}`);
      }
    }
    if (!watching || inputState === 'failed') clearInterval(stallTimer);
  }

  return {
    branches,
    branch(name) {
      const found = branches.find((branch) => branch.name === name);
      if (!found) throw new Error(`no fan-out branch named ${name}`);
      return found;
    },
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
