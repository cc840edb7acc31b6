import type { ConfigPath } from './source-text.js';

/** One `${VAR}` that could not be filled. */
export interface MissingVariable {
  name: string;
  path: ConfigPath;
}

// ${NAME} or ${NAME:-default}; `$${` is a literal `${`.
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Fills `${VAR}` and `${VAR:-default}` in every string of the value from env.
 * An empty variable counts as unset for `:-` (as in the shell). Values are
 * substituted after YAML parsing, so a password full of YAML punctuation
 * cannot change the document's structure.
 */
export function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: ConfigPath = [],
  missing: MissingVariable[] = [],
): { value: unknown; missing: MissingVariable[] } {
  if (typeof value === 'string') {
    const filled = value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '${';
      const current = env[name];
      if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
      if (current === undefined) {
        missing.push({ name, path });
        return match;
      }
      return current;
    });
    return { value: filled, missing };
  }
  if (Array.isArray(value)) {
    return { value: value.map((item, index) => interpolate(item, env, [...path, index], missing).value), missing };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, env, [...path, key], missing).value;
    return { value: out, missing };
  }
  return { value, missing };
}
