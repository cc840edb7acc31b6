import type { RowCounts } from '@backupctl/plugin-api';

/** One table's row counts in the source database and in the restored backup. */
export interface TableComparison {
  /** Qualified name, `public.users`. */
  table: string;
  /** Rows in the source database now; undefined when the table is not there (any more). */
  sourceRows?: number;
  /** Rows in the restored backup; undefined when the backup has no such table. */
  backupRows?: number;
  status: 'ok' | 'differs' | 'missing in backup' | 'not in source';
}

/** Every table of either side, by name, with its status; only `ok` rows mean "the same". */
export function compareRowCounts(source: RowCounts, backup: RowCounts): TableComparison[] {
  const tables = [...new Set([...Object.keys(source), ...Object.keys(backup)])].sort();
  return tables.map((table) => {
    const sourceRows = Object.hasOwn(source, table) ? source[table] : undefined;
    const backupRows = Object.hasOwn(backup, table) ? backup[table] : undefined;
    const status: TableComparison['status'] =
      backupRows === undefined ? 'missing in backup' : sourceRows === undefined ? 'not in source' : sourceRows === backupRows ? 'ok' : 'differs';
    return { table, sourceRows, backupRows, status };
  });
}

/**
 * The comparison as a plain-text table for a terminal:
 *
 * ```
 * table          source rows  backup rows  status
 * public.users           300          300  ok
 * ```
 */
export function formatComparison(rows: readonly TableComparison[]): string {
  const header = ['table', 'source rows', 'backup rows', 'status'];
  const cells = rows.map((row) => [row.table, count(row.sourceRows), count(row.backupRows), describeStatus(row)]);
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
  const delta = row.backupRows! - row.sourceRows!;
  return `differs (${delta > 0 ? '+' : ''}${delta} in backup)`;
}
