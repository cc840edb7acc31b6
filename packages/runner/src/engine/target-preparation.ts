import type { Readable } from 'node:stream';
import type { Logger } from '@backupctl/plugin-api';
import type { PreparedRestore, RestoreResult, RestoreTarget, SourceInstance } from '@backupctl/plugin-api';

/** How long the preparation runs alone before the restore goes on (see headStart). */
const HEAD_START_MS = 30;

type Settled = { prepared: PreparedRestore; error?: undefined } | { prepared?: undefined; error: unknown };

/**
 * A source's `prepareRestore`, started as soon as the source exists: the
 * target database is created and inspected on the server while this
 * process loads the store's client and reads the backup's metadata, the
 * same ~0.1-0.3 s of waiting that otherwise came one after the other.
 *
 * It owns what was prepared until `restore` hands it the stream: `release`
 * (always called once the restore is over) abandons a preparation nothing
 * restored into, so a missing or damaged backup leaves the target as it was.
 */
export class TargetPreparation {
  private readonly settled: Promise<Settled>;
  /** Stops a preparation still under way (waiting out connection retries) once nothing will restore into it. */
  private readonly unneeded = new AbortController();
  private restoring = false;

  constructor(
    source: Required<Pick<SourceInstance, 'prepareRestore'>>,
    readonly target: RestoreTarget,
    signal: AbortSignal,
  ) {
    // Settled, never rejected: a failure is reported when the restore asks for the target (after the backup was found), or not at all.
    this.settled = source.prepareRestore(target, AbortSignal.any([signal, this.unneeded.signal])).then(
      (prepared) => ({ prepared }),
      (error: unknown) => ({ error }),
    );
  }

  /**
   * Lets the preparation's first round trips (connect, authenticate, send
   * CREATE DATABASE: ~15-25 ms to a local server) go out before the
   * restore's first request to the store loads the store's client, which
   * holds this thread for ~0.1 s (the AWS SDK). Loaded first, it held up the
   * handshake that long, and the server's work on the target then started
   * only after it (strace, 2026-11-27); given this head start, that work
   * overlaps the loading.
   */
  async headStart(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => (timer = setTimeout(resolve, HEAD_START_MS)));
    await Promise.race([this.settled, elapsed]);
    clearTimeout(timer);
  }

  /** Waits for the target; throws what preparing it failed with (the target is then as it was). */
  async ready(): Promise<void> {
    const { error } = await this.settled;
    if (error !== undefined) throw error;
  }

  /** Restores into the prepared target; from here the source's restore answers for the target. */
  async restore(input: Readable, signal: AbortSignal): Promise<RestoreResult> {
    const { prepared, error } = await this.settled;
    if (!prepared) throw error;
    this.restoring = true;
    return prepared.restore(input, signal);
  }

  /** Undoes the preparation unless a restore took it over. */
  async release(logger: Logger): Promise<void> {
    if (this.restoring) return;
    // A source that is still retrying its connection gives up now (and undoes what it did) rather than keeping the error waiting.
    this.unneeded.abort(new Error('the restore did not go ahead'));
    const { prepared } = await this.settled;
    try {
      await prepared?.abandon();
    } catch (error) {
      logger.warn(`Could not undo the preparation of the restore target: ${(error as Error).message}`);
    }
  }
}
