import type { Readable } from 'node:stream';
import type { Logger } from '../api/context.js';
import type { PreparedRestore, RestoreResult, RestoreTarget, SourceInstance } from '../api/plugin.js';

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
