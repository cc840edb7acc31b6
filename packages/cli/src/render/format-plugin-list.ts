import path from 'node:path';
import type { OptionsSchema } from '@backupctl/plugin-api';
import type { PipelinePlugin, PipelinePlugins } from '@backupctl/core';

/**
 * What `backupctl plugins` prints: one row per plugin, aligned columns.
 *
 * ```
 * examples/encrypted.yml: 4 plugins
 * PLUGIN        KIND       PACKAGE                           LOADED FROM                         DESCRIPTION
 * postgres      source     @backupctl/plugin-postgres 0.1.0  built-in, node_modules/@backupct... Dumps a PostgreSQL ...
 * ./plugin-age  transform  backupctl-plugin-age 0.1.0        plugin-age/dist/index.js            Encrypts the stream ...
 * ```
 *
 * Paths are shown relative to `cwd` when under it. A plugin that did not
 * load shows NOT LOADED and its error, and its hint follows the table.
 */
export function formatPluginList(listing: PipelinePlugins, cwd: string): string {
  const rows = listing.plugins.map((entry) => [
    entry.use,
    kindOf(entry),
    packageOf(entry),
    loadedFrom(entry, cwd),
    entry.error ? `${entry.error.code}: ${entry.error.message}` : (entry.plugin?.description ?? ''),
  ]);
  const table = alignColumns([['PLUGIN', 'KIND', 'PACKAGE', 'LOADED FROM', 'DESCRIPTION'], ...rows]);
  const count = listing.plugins.length;
  const hints = listing.plugins.filter((entry) => entry.error?.hint).map((entry) => `${entry.use}: ${entry.error!.hint}`);
  return [`${listing.file}: ${count} plugin${count === 1 ? '' : 's'}`, ...table, ...hints].join('\n');
}

/** True when every plugin loaded and is used as the kind it declares. */
export function pluginsAreUsable(listing: PipelinePlugins): boolean {
  return listing.plugins.every((entry) => entry.plugin && entry.plugin.kind === entry.kind);
}

/**
 * A plugin's options as a table (`backupctl plugins --schema <name>`):
 * name, type, default, description, from the schema the plugin publishes.
 */
export function formatOptionsTable(use: string, schema: OptionsSchema): string {
  const required = new Set(schema.required ?? []);
  const rows = Object.entries(schema.properties).map(([name, property]) => {
    const option = property as OptionShape & { default?: unknown; description?: string };
    const fallback = option.default !== undefined ? JSON.stringify(option.default) : required.has(name) ? 'required' : '-';
    return [name, typeName(option), fallback, option.description ?? ''];
  });
  if (!rows.length) return `${use}: no options`;
  return [`${use} options (with:)`, ...alignColumns([['OPTION', 'TYPE', 'DEFAULT', 'DESCRIPTION'], ...rows])].join('\n');
}

interface OptionShape {
  type?: unknown;
  const?: unknown;
  enum?: unknown[];
  anyOf?: OptionShape[];
  items?: OptionShape;
}

function typeName(option: OptionShape): string {
  if (option.const !== undefined) return JSON.stringify(option.const);
  if (option.enum) return option.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (option.anyOf) return option.anyOf.map((branch) => typeName(branch)).join(' | ');
  if (option.type === 'array') return `${typeName(option.items ?? {})}[]`;
  return typeof option.type === 'string' ? option.type : 'any';
}

function kindOf(entry: PipelinePlugin): string {
  if (entry.plugin && entry.plugin.kind !== entry.kind) return `${entry.kind} (but is a ${entry.plugin.kind})`;
  return entry.kind;
}

function packageOf(entry: PipelinePlugin): string {
  const found = entry.plugin?.package;
  return found ? `${found.name} ${found.version}` : '-';
}

function loadedFrom(entry: PipelinePlugin, cwd: string): string {
  if (entry.error) return 'NOT LOADED';
  const plugin = entry.plugin!;
  if (!plugin.entry) return 'built-in (part of backupctl)';
  const relative = path.relative(cwd, plugin.entry);
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : plugin.entry;
  return plugin.from === 'builtin' ? `built-in, ${shown}` : shown;
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
