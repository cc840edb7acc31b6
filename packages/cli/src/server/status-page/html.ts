/** Markup already escaped (or written here): the only thing `html` inserts as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for an element's content and for a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

type Value = SafeHtml | string | number | undefined | null | false | readonly Value[];

/**
 * A template whose every inserted value is escaped, unless it is SafeHtml
 * (the result of another `html` template): a value from a store, a log or
 * the pipeline can never add markup. Arrays are joined; undefined, null and
 * false insert nothing.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  for (let index = 0; index < values.length; index++) out += insert(values[index]) + strings[index + 1]!;
  return new SafeHtml(out);
}

function insert(value: Value): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(insert).join('');
  return escapeHtml(String(value));
}
