import { Type } from '@backupctl/plugin-api';

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

// JSON Schema patterns are ECMAScript regexes without flags, so case is spelled out: [tT][rR][uU][eE].
const anyCase = (word: string) => [...word].map((char) => (/[a-z]/.test(char) ? `[${char}${char.toUpperCase()}]` : char)).join('');

/**
 * A yes/no option that environment variables can fill: true/false, 1/0 or
 * yes/no in any case, as a string or a YAML boolean or number (the config
 * loader turns those into strings). Anything else is a config error naming
 * the option's path. Read the value with {@link parseFlag}.
 */
export function flagSchema(options: { default: boolean; description: string }) {
  return Type.String({
    pattern: `^(${[...TRUE_WORDS, ...FALSE_WORDS].map(anyCase).join('|')})$`,
    default: String(options.default),
    errorMessage: 'must be true/false, 1/0 or yes/no',
    description: `${options.description} true/false, 1/0 or yes/no, in any case.`,
  });
}

/** true for true/1/yes, false for false/0/no (any case, surrounding spaces ignored); throws on anything else. */
export function parseFlag(value: string | boolean | number): boolean {
  const word = String(value).trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  throw new TypeError(`expected true/false, 1/0 or yes/no, got ${JSON.stringify(value)}`);
}
