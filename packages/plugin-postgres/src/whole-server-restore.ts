import type { RestoreTarget, SourceInstance } from '@backupctl/plugin-api';
import { parseConnectionUrl } from './connection-url.js';
import type { RestoreContext } from './postgres-restore.js';
import { restoreGlobals } from './restore-globals.js';
import { urlWithDatabase } from './whole-server.js';

type RestoreCapability = Required<Pick<SourceInstance, 'restore'>>;

/**
 * The restore of one part of a whole-server job. `--target-url` names the
 * target server: a database part restores into the database of its own name
 * there (created with `--create`), the globals part into its `postgres`
 * database, first, skipping what already exists (restore-globals.ts).
 * Without a target URL, each goes back where it came from; with
 * `exactDatabase` (verify's scratch database), a database part goes into the
 * database the URL names.
 */
export function wholeServerRestore(
  dump: 'database' | 'globals',
  database: RestoreCapability,
  source: RestoreContext,
): Pick<SourceInstance, 'restore'> {
  if (dump === 'database') {
    const mapped = (target: RestoreTarget): RestoreTarget => ({
      ...target,
      url: target.url === undefined || target.exactDatabase ? target.url : urlWithDatabase(target.url, source.settings.database),
    });
    return { restore: (input, target, signal) => database.restore(input, mapped(target), signal) };
  }
  return { restore: restoreGlobalsPart(source) };
}

function restoreGlobalsPart(source: RestoreContext): NonNullable<SourceInstance['restore']> {
  return async (input, target, signal) => {
    const { context } = source;
    let settings = source.settings;
    const secrets = [...source.settings.secrets];
    if (target.url !== undefined) {
      context.secrets.add(target.url);
      settings = parseConnectionUrl(target.url);
      for (const secret of settings.secrets) {
        context.secrets.add(secret);
        secrets.push(secret);
      }
    }
    return restoreGlobals(input, {
      settings,
      connect: { attempts: source.retryAttempts, delaySeconds: source.retryDelaySeconds, logger: context.logger, signal },
      logger: context.logger,
      signal,
      secrets,
      env: source.env,
      searchRoots: source.searchRoots,
    });
  };
}
