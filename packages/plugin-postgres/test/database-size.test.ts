import { describe, expect, it } from 'vitest';
import type { Client } from 'pg';
import { readDatabaseSize } from '../src/database-size.js';

const lines: string[] = [];
const logger = { debug: (line: string) => void lines.push(line), info() {}, warn() {}, error() {} };

function client(answer: () => unknown): Pick<Client, 'query'> {
  return { query: (async () => answer()) as unknown as Client['query'] };
}

describe('readDatabaseSize', () => {
  it('reads pg_database_size, which PostgreSQL returns as a bigint string', async () => {
    await expect(readDatabaseSize(client(() => ({ rows: [{ size: '123456789012' }] })), logger)).resolves.toBe(123456789012);
  });

  it('gives no estimate, and a debug line, when the query fails', async () => {
    lines.length = 0;
    const failing = client(() => {
      throw new Error('permission denied for database clara');
    });
    await expect(readDatabaseSize(failing, logger)).resolves.toBeUndefined();
    expect(lines).toEqual([expect.stringContaining('permission denied for database clara')]);
  });

  it('gives no estimate for an answer that is not a size', async () => {
    await expect(readDatabaseSize(client(() => ({ rows: [] })), logger)).resolves.toBeUndefined();
    await expect(readDatabaseSize(client(() => ({ rows: [{ size: 'lots' }] })), logger)).resolves.toBeUndefined();
  });
});
