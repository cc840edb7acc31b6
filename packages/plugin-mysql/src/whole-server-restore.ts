import type { RestoreTarget, SourceInstance } from '@backupctl/plugin-api';
import { describeSettings, parseConnectionUrl, urlWithDatabase } from './connection-url.js';
import { requireTool } from './find-tool.js';
import { connectWithRetry } from './connect-with-retry.js';
import { connectClient, endQuietly } from './mysql-client.js';
import { restoreFailed, type RestoreContext } from './mysql-restore.js';
import { writeOptionFile } from './option-file.js';
import { runRestoreProcess } from './restore-process.js';
import { readServerVersion } from './server-queries.js';
import { ErrorCodes } from '@backupctl/plugin-api';

type RestoreCapability = Required<Pick<SourceInstance, 'restore'>>;

/**
 * The restore of one part of a whole-server job. `--target-url` names the
 * target server: a database part restores into the database of its own name
 * there (created with `--create`), the users part onto the server itself,
 * first (CREATE USER IF NOT EXISTS and GRANTs: it may run again). Without a
 * target URL each goes back where it came from; with `exactDatabase`
 * (verify's scratch database) a database part goes into the database the
 * URL names.
 */
export function wholeServerRestore(dump: 'database' | 'users', database: RestoreCapability, source: RestoreContext): Pick<SourceInstance, 'restore'> {
  if (dump === 'database') {
    const mapped = (target: RestoreTarget): RestoreTarget => ({
      ...target,
      url: target.url === undefined || target.exactDatabase ? target.url : urlWithDatabase(target.url, source.settings.database),
    });
    return { restore: (input, target, signal) => database.restore(input, mapped(target), signal) };
  }
  return {
    async restore(input, target, signal) {
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
      const where = describeSettings({ ...settings, database: '' });
      const connection = await connectWithRetry(() => connectClient(settings, signal, ''), {
        attempts: source.retryAttempts,
        delaySeconds: source.retryDelaySeconds,
        target: where,
        code: ErrorCodes.RESTORE_FAILED,
        logger: context.logger,
        signal,
      });
      let client;
      try {
        client = await requireTool('client', await readServerVersion(connection), where, { env: source.env });
      } catch (error) {
        throw restoreFailed(error, 'the client');
      } finally {
        await endQuietly(connection);
      }
      const optionFile = await writeOptionFile(settings);
      try {
        context.logger.info(`Restoring accounts and grants onto ${where} with ${client.name} (existing accounts are kept, grants added)`);
        await runRestoreProcess(input, {
          binary: client.path,
          name: client.name,
          args: [optionFile.argument, '--default-character-set=utf8mb4'],
          env: source.env ?? process.env,
          target: where,
          logger: context.logger,
          signal,
          secrets,
        });
      } finally {
        await optionFile.remove();
      }
      return { target: where, format: `SQL accounts and grants (${client.name})`, replaced: [] };
    },
  };
}
