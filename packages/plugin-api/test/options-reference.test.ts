import { describe, expect, it } from 'vitest';
import { definePlugin, Type } from '../src/index.js';
import { formatOptionsReference } from '../src/options-reference.js';

const sample = definePlugin({
  name: 'sample',
  kind: 'transform',
  description: 'A plugin with one option of each shape.',
  schema: Type.Object(
    {
      target: Type.String({ minLength: 1, description: 'Where it goes.', examples: ['${TARGET}'] }),
      level: Type.Integer({ minimum: 1, maximum: 9, default: 6, description: 'Level, 1 to 9.' }),
      format: Type.Union([Type.Literal('plain'), Type.Literal('custom')], { default: 'plain', description: 'The format.' }),
      names: Type.Array(Type.String(), { default: [], description: 'Names.' }),
      on: Type.Array(Type.Union([Type.Literal('error'), Type.Literal('success')]), { default: ['error'], description: 'When.' }),
      fast: Type.Optional(Type.Boolean({ description: 'Go fast.' })),
      timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 10, description: 'Seconds.' }),
      mode: Type.Union([Type.Literal('auto'), Type.Boolean()], { default: 'auto', description: 'auto | on | off' }),
      flag: Type.String({ pattern: '^(yes|no)$', errorMessage: 'must be yes or no', default: 'no', description: 'A flag.' }),
      url: Type.String({ pattern: '^(https?://.+)?$', description: 'A URL.' }),
      headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Headers.' })),
      under: Type.Optional(Type.String({ description: 'Under <prefix>/: `a|b <c>` and the keep* rules.' })),
      long: Type.Optional(
        Type.String({
          description:
            'A long description that goes on and on, past any column a terminal would wrap at, ' +
            'and then some more, because the reference keeps every word of it in the one cell.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  create: () => ({ encode: () => undefined as never, decode: () => undefined as never }),
});

const empty = definePlugin({ name: 'bare', kind: 'hook', schema: Type.Object({}), create: () => ({}) });

const rendered = formatOptionsReference([{ title: 'Samples', description: 'Plugins for the test.', plugins: [sample, empty] }]);
const rows = new Map(
  rendered
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => [/^\| `([^`]+)`/.exec(line)![1]!, line]),
);

describe('formatOptionsReference', () => {
  it('renders a section heading, a heading per plugin with its kind, its description and the table header', () => {
    expect(rendered).toContain('## Samples\n\nPlugins for the test.\n\n### sample (transform)\n\nA plugin with one option of each shape.\n\n');
    expect(rendered).toContain('| option | type | default | description |\n|---|---|---|---|\n| `target` |');
    expect(rendered.endsWith('\n')).toBe(true);
  });

  it('gives one row per option, in the schema order', () => {
    expect([...rows.keys()]).toEqual(Object.keys(sample.schema.properties));
  });

  it('marks an option required only when it must be given (required and no default)', () => {
    expect(rows.get('target')).toBe('| `target` | non-empty string | **required** | Where it goes. Example: `${TARGET}`. |');
    expect(rows.get('url')).toBe('| `url` | string matching `^(https?://.+)?$` | **required** | A URL. |');
    // Required in the schema (TypeBox), but the default fills it in.
    expect(rows.get('level')).toBe('| `level` | integer 1-9 | `6` | Level, 1 to 9. |');
    expect(rows.get('fast')).toBe('| `fast` | boolean | - | Go fast. |');
  });

  it('renders types readably, defaults as JSON, and escapes pipes', () => {
    expect(rows.get('format')).toBe('| `format` | "plain" \\| "custom" | `"plain"` | The format. |');
    expect(rows.get('names')).toBe('| `names` | string[] | `[]` | Names. |');
    expect(rows.get('on')).toBe('| `on` | ("error" \\| "success")[] | `["error"]` | When. |');
    expect(rows.get('timeoutSeconds')).toBe('| `timeoutSeconds` | number > 0 | `10` | Seconds. |');
    expect(rows.get('mode')).toBe('| `mode` | "auto" \\| boolean | `"auto"` | auto \\| on \\| off |');
    expect(rows.get('flag')).toBe('| `flag` | string (must be yes or no) | `"no"` | A flag. |');
    expect(rows.get('headers')).toBe('| `headers` | object of string | - | Headers. |');
    // Outside code, what Markdown would read as HTML or emphasis is escaped.
    expect(rows.get('under')).toBe('| `under` | string | - | Under \\<prefix>/: `a\\|b <c>` and the keep\\* rules. |');
  });

  it('keeps a long description whole, on the one line of its row', () => {
    expect(rows.get('long')).toContain('past any column a terminal would wrap at, and then some more, because the reference keeps every word of it in the one cell. |');
  });

  it('says so when a plugin has no options', () => {
    expect(rendered).toContain('### bare (hook)\n\nNo options.\n');
  });

  it('every table row has the four columns', () => {
    for (const row of rows.values()) expect(row.replace(/\\\|/g, '').split('|').length).toBe(6);
  });
});
