import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's minor (young-generation) collection as a function, for the engine's
 * buffer reclaimer (engine/buffer-reclaimer.ts), or undefined where this
 * Node does not offer it. `--expose-gc` set at run time exposes `gc` in
 * contexts created afterwards, not in the main one; `{ type: 'minor' }`
 * asks for a scavenge only (Node 20, 22 and 24 measured).
 */
export function youngGenerationCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') return undefined;
    return () => (gc as (options: { type: 'minor' }) => void)({ type: 'minor' });
  } catch {
    return undefined;
  }
}
