import type { RowCounts } from '@backupctl/plugin-api';

/** What a restore's row counts are compared with: the backup's manifest, or the live source database. */
export type ComparedWith = 'manifest' | 'source';

/** One table's expected rows (the manifest's, or the live database's) and its rows after the restore. */
export interface TableComparison {
  /** Qualified name, `public.users`. */
  table: string;
  /** Rows the manifest (or the live database) has; undefined when it does not have the table. */
  expectedRows?: number;
  /** Rows in the restored backup; undefined when the restore has no such table. */
  restoredRows?: number;
  status: 'ok' | 'differs' | 'missing in backup' | 'not in source' | 'not in manifest';
}

/**
 * Every table of either side, by name, with its status; only `ok` rows mean
 * "the same". Against a manifest, a restored table the manifest does not
 * list is fine when empty: a dump may create a table and hold none of its
 * rows (--schema-only, --exclude-table-data).
 */
export function compareRowCounts(expected: RowCounts, restored: RowCounts, against: ComparedWith = 'source'): TableComparison[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(restored)])].sort();
  return tables.map((table) => {
    const expectedRows = Object.hasOwn(expected, table) ? expected[table] : undefined;
    const restoredRows = Object.hasOwn(restored, table) ? restored[table] : undefined;
    return { table, expectedRows, restoredRows, status: statusOf(expectedRows, restoredRows, against) };
  });
}

function statusOf(expected: number | undefined, restored: number | undefined, against: ComparedWith): TableComparison['status'] {
  if (restored === undefined) return 'missing in backup';
  if (expected === undefined) return against === 'source' ? 'not in source' : restored === 0 ? 'ok' : 'not in manifest';
  return expected === restored ? 'ok' : 'differs';
}

/**
 * The comparison as a plain-text table for a terminal:
 *
 * ```
 * table          manifest rows  restored rows  status
 * public.users             300            300  ok
 * ```
 */
export function formatComparison(rows: readonly TableComparison[], against: ComparedWith = 'source'): string {
  const header = ['table', `${against} rows`, 'restored rows', 'status'];
  const cells = rows.map((row) => [row.table, count(row.expectedRows), count(row.restoredRows), describeStatus(row)]);
  const widths = header.map((title, index) => Math.max(title.length, ...cells.map((line) => line[index]!.length)));
  const format = (line: string[]) =>
    line
      .map((cell, index) => (index === 1 || index === 2 ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...cells.map(format)].join('\n');
}

function count(rows: number | undefined): string {
  return rows === undefined ? '-' : String(rows);
}

function describeStatus(row: TableComparison): string {
  if (row.status !== 'differs') return row.status;
  const delta = row.restoredRows! - row.expectedRows!;
  return `differs (${delta > 0 ? '+' : ''}${delta} in backup)`;
}
