import type { Client } from 'pg';
import type { Logger } from '@backupctl/plugin-api';

/**
 * The connected database's size on disk (`pg_database_size`), the estimate
 * of the dump's size that sinks plan with (the s3 sink sizes its upload
 * parts from it). A plain dump is usually smaller (indexes are not dumped)
 * but can be larger (TOAST-compressed text, bytea as hex); the sink adds a
 * safety factor. Undefined when it cannot be read: an estimate is never
 * worth failing a backup for.
 */
export async function readDatabaseSize(client: Pick<Client, 'query'>, logger: Logger): Promise<number | undefined> {
  try {
    const result = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    const size = Number(result.rows[0]?.size);
    return Number.isFinite(size) && size >= 0 ? size : undefined;
  } catch (error) {
    logger.debug(`could not read the database size (the upload is planned without it): ${(error as Error).message}`);
    return undefined;
  }
}
