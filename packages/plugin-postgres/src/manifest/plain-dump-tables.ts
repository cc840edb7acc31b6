import type { RowCounts } from '@backupctl/plugin-api';
import { tableKey, type TableName } from '../row-counts.js';
import type { DataLoad, PlainDumpContents } from './dump-script-reader.js';

/** The tables a plain dump holds and their rows, or why they cannot be told. */
export type PlainDumpTables = { tables: RowCounts } | { unknown: string };

// pg_dump's comment lines replace line breaks in names with spaces.
function commentText(name: string): string {
  return name.replace(/[\r\n]/g, ' ');
}

/** How pg_dump heads the data entry of `table` (up to the owner, which does not matter here). */
function dataEntryHead(table: TableName): string {
  return `-- Data for Name: ${commentText(table.name)}; Type: TABLE DATA; Schema: ${commentText(table.schema)}; Owner: `;
}

/**
 * The table whose entry a load belongs to. Normally the table it loads; but
 * a partition's rows may be loaded through its partition root (the option
 * --load-via-partition-root, or forced by pg_dump for hash partitioning on
 * an enum), and countRows counts partitions: the entry's heading names the
 * partition, which is then found among the tables the dump creates.
 */
function tableOfLoad(load: DataLoad & { into: TableName }, contents: PlainDumpContents): TableName | undefined {
  if (load.entry === undefined || load.entry.startsWith(dataEntryHead(load.into))) return load.into;
  const candidates = [...contents.created.values()].filter(
    ({ table, partitioned }) => !partitioned && load.entry!.startsWith(dataEntryHead(table)),
  );
  return candidates.length === 1 ? candidates[0]!.table : undefined;
}

/**
 * Every table the dump holds, keyed as countRows keys them, with the rows
 * the dump loads into it: each ordinary table it creates (0 when it loads
 * none: an empty table, --schema-only, --exclude-table-data), and each
 * table it loads rows into without creating it (an extension's
 * configuration table, or --data-only). Partitioned tables (which hold no
 * rows themselves), foreign tables and `excluded` ones (the tables of
 * extensions) are left out, as countRows leaves them out.
 */
export function plainDumpTables(contents: PlainDumpContents, excluded: ReadonlySet<string> = new Set()): PlainDumpTables {
  const tables: RowCounts = {};
  for (const [key, { partitioned }] of contents.created) {
    if (!partitioned && !excluded.has(key)) tables[key] = 0;
  }
  for (const load of contents.loads) {
    if (load.into === undefined) return { unknown: 'a COPY or INSERT statement in the dump names its table in a way not understood' };
    if (contents.foreign.has(tableKey(load.into)) || excluded.has(tableKey(load.into))) continue;
    const table = tableOfLoad({ ...load, into: load.into }, contents);
    if (table === undefined) {
      return { unknown: `rows loaded through ${tableKey(load.into)} could not be told apart by partition (${load.entry})` };
    }
    const key = tableKey(table);
    tables[key] = (tables[key] ?? 0) + load.rows;
  }
  return { tables };
}
