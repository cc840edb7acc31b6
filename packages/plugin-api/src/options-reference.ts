import type { PluginDefinition } from './plugin.js';

/** A group of plugins in the reference, e.g. "Official plugins". */
export interface OptionsReferenceSection {
  /** The section's heading. */
  title: string;
  /** A paragraph under the heading (Markdown). */
  description?: string;
  plugins: readonly PluginDefinition[];
  /** Option groups that are not a plugin's (a job's `anomaly:`), each under a `### name` heading. */
  settings?: readonly { name: string; description?: string; schema: PluginDefinition['schema'] }[];
}

/**
 * The options of plugins as Markdown, from the schemas they publish: per
 * section a `## title`, per plugin a `### name (kind)` heading, its
 * description and a table of its `with:` options (option, type, default,
 * description). An option the schema requires and gives no default is
 * marked required. Pure: the same plugins always give the same text, so a
 * committed reference can be compared with a fresh rendering.
 *
 * @example
 * formatOptionsReference([{ title: 'My plugins', plugins: [myPlugin] }]);
 */
export function formatOptionsReference(sections: readonly OptionsReferenceSection[]): string {
  const blocks: string[] = [];
  for (const section of sections) {
    blocks.push(`## ${oneLine(section.title)}`);
    if (section.description) blocks.push(section.description.trim());
    for (const plugin of section.plugins) blocks.push(...pluginBlocks(plugin));
    for (const group of section.settings ?? []) blocks.push(...optionBlocks(`### ${oneLine(group.name)}`, group.description, group.schema));
  }
  return `${blocks.join('\n\n')}\n`;
}

/** What the reference reads of an option's JSON Schema. */
interface OptionSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: OptionSchema[];
  oneOf?: OptionSchema[];
  items?: OptionSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  errorMessage?: unknown;
  patternProperties?: Record<string, OptionSchema>;
  additionalProperties?: boolean | OptionSchema;
}

function pluginBlocks(plugin: PluginDefinition): string[] {
  return optionBlocks(`### ${oneLine(plugin.name)} (${plugin.kind})`, plugin.description, plugin.schema);
}

function optionBlocks(heading: string, description: string | undefined, schema: PluginDefinition['schema']): string[] {
  const blocks = [heading];
  if (description) blocks.push(oneLine(description));
  const properties = (schema.properties ?? {}) as Record<string, OptionSchema>;
  const required = new Set<string>(schema.required ?? []);
  const names = Object.keys(properties);
  if (!names.length) {
    blocks.push('No options.');
    return blocks;
  }
  const rows = names.map((name) => {
    const option = properties[name]!;
    // TypeBox lists every non-Optional property as required; one with a
    // default is filled in when missing, so only the others must be given.
    const mustBeGiven = required.has(name) && option.default === undefined;
    return [
      code(name),
      plainText(typeOf(option)),
      option.default !== undefined ? code(JSON.stringify(option.default)) : mustBeGiven ? '**required**' : '-',
      plainText(describe(option)),
    ].map(cell);
  });
  blocks.push(
    ['| option | type | default | description |', '|---|---|---|---|', ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n'),
  );
  return blocks;
}

/** `string`, `integer 1-9`, `"plain" | "custom"`, `string[]`, `boolean`, `number > 0`. */
function typeOf(option: OptionSchema): string {
  if (option.const !== undefined) return JSON.stringify(option.const);
  if (option.enum) return option.enum.map((value) => JSON.stringify(value)).join(' | ');
  const branches = option.anyOf ?? option.oneOf;
  if (branches) return branches.map(typeOf).join(' | ');
  const types = Array.isArray(option.type) ? option.type : option.type === undefined ? [] : [option.type];
  if (types.length > 1) return types.join(' | ');
  switch (types[0]) {
    case 'array': {
      const item = option.items ? typeOf(option.items) : 'any';
      return item.includes(' ') ? `(${item})[]` : `${item}[]`;
    }
    case 'integer':
    case 'number':
      return `${types[0]}${range(option)}`;
    case 'string':
      return stringType(option);
    case 'object':
      return objectType(option);
    case undefined:
      return 'any';
    default:
      return types[0];
  }
}

function range(option: OptionSchema): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = option;
  if (minimum !== undefined && maximum !== undefined) {
    return minimum < 0 || maximum < 0 ? ` ${minimum} to ${maximum}` : ` ${minimum}-${maximum}`;
  }
  const bounds = [
    minimum !== undefined ? `>= ${minimum}` : exclusiveMinimum !== undefined ? `> ${exclusiveMinimum}` : '',
    maximum !== undefined ? `<= ${maximum}` : exclusiveMaximum !== undefined ? `< ${exclusiveMaximum}` : '',
  ].filter(Boolean);
  return bounds.length ? ` ${bounds.join(', ')}` : '';
}

function stringType(option: OptionSchema): string {
  const base = option.minLength !== undefined && option.minLength > 0 ? 'non-empty string' : 'string';
  // A schema's errorMessage says in words what its pattern accepts.
  if (typeof option.errorMessage === 'string') return `${base} (${option.errorMessage})`;
  if (option.pattern !== undefined) return `${base} matching ${code(option.pattern)}`;
  return base;
}

function objectType(option: OptionSchema): string {
  const values = Object.values(option.patternProperties ?? {});
  const value = values.length === 1 ? values[0] : typeof option.additionalProperties === 'object' ? option.additionalProperties : undefined;
  return value ? `object of ${typeOf(value)}` : 'object';
}

function describe(option: OptionSchema): string {
  const parts = [option.description ?? ''];
  if (option.examples?.length) {
    const label = option.examples.length === 1 ? 'Example' : 'Examples';
    parts.push(`${label}: ${option.examples.map((example) => code(typeof example === 'string' ? example : JSON.stringify(example))).join(', ')}.`);
  }
  return parts.filter(Boolean).join(' ');
}

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`;
}

/**
 * Descriptions are written for the terminal too (`backupctl plugins
 * --schema`): plain text with `code`. Outside code, what Markdown would take
 * for HTML or emphasis (`<prefix>`, `keep*`) is escaped.
 */
function plainText(text: string): string {
  const escape = (part: string) => part.replace(/[\\<*]/g, (char) => `\\${char}`);
  let out = '';
  let last = 0;
  for (const span of text.matchAll(/(`+)[^`][\s\S]*?\1(?!`)/g)) {
    out += escape(text.slice(last, span.index)) + span[0];
    last = span.index + span[0].length;
  }
  return out + escape(text.slice(last));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A table cell: one line, pipes escaped (GitHub's tables split on them even inside code). */
function cell(text: string): string {
  return oneLine(text).replace(/\|/g, '\\|');
}
