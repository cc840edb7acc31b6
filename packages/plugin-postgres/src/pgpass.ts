import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionSettings } from './connection-url.js';

/** Splits one password-file line on unescaped ':' and removes the `\` escapes. */
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!;
    if (char === '\\' && index + 1 < line.length) current += line[++index];
    else if (char === ':') {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

function matches(pattern: string, value: string): boolean {
  return pattern === '*' || pattern === value;
}

/**
 * The password libpq would take from its password file when the URL has
 * none: the `passfile` parameter, else `~/.pgpass` (PGPASSFILE is not read:
 * inherited PG* variables never reach pg_dump either). Like libpq, a file
 * that others can read is ignored. Undefined when nothing matches.
 */
export async function lookUpPassfilePassword(settings: ConnectionSettings): Promise<string | undefined> {
  const file = settings.parameters.passfile ?? join(homedir(), '.pgpass');
  try {
    const info = await stat(file);
    if (!info.isFile() || (process.platform !== 'win32' && (info.mode & 0o077) !== 0)) return undefined;
    const text = await readFile(file, 'utf8');
    const wanted = [settings.host, String(settings.port), settings.database, settings.user];
    for (const line of text.split(/\r?\n/)) {
      if (line === '' || line.startsWith('#')) continue;
      const fields = splitFields(line);
      if (fields.length < 5) continue;
      const [host, port, database, user] = fields;
      const hostMatches = matches(host!, wanted[0]!) || (host === 'localhost' && wanted[0]!.startsWith('/'));
      if (hostMatches && matches(port!, wanted[1]!) && matches(database!, wanted[2]!) && matches(user!, wanted[3]!)) {
        return fields.slice(4).join(':');
      }
    }
  } catch {
    // No password file is the usual case, not an error.
  }
  return undefined;
}
