import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { describeVersion, parseToolVersion, type EngineVersion } from './server-version.js';

/** The two programs the plugin runs: the dump tool, and the client a restore pipes into. */
export type ToolKind = 'dump' | 'client';

/** Program names by engine, the server's own first; Debian's mariadb-client installs both names. */
const NAMES: Record<ToolKind, Record<EngineVersion['flavor'], string[]>> = {
  dump: { MariaDB: ['mariadb-dump', 'mysqldump'], MySQL: ['mysqldump', 'mariadb-dump'] },
  client: { MariaDB: ['mariadb', 'mysql'], MySQL: ['mysql', 'mariadb'] },
};
/** The variable naming a program explicitly. */
export const TOOL_ENV: Record<ToolKind, string> = { dump: 'MYSQLDUMP_PATH', client: 'MYSQL_CLIENT_PATH' };

/** A program found, with what its `--version` said. */
export interface FoundTool {
  path: string;
  /** `mariadb-dump` */
  name: string;
  version?: EngineVersion;
}

export interface FindToolOptions {
  /** The `dumpPath` option: a path that wins over everything else. */
  explicitPath?: string;
  env?: NodeJS.ProcessEnv;
}

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return undefined;
}

/** What `<tool> --version` prints, parsed; undefined when it cannot be run or read. */
export function readToolVersion(file: string): Promise<EngineVersion | undefined> {
  return new Promise((resolve) => {
    execFile(file, ['--no-defaults', '--version'], { timeout: 10_000 }, (error, stdout) => resolve(error ? undefined : parseToolVersion(stdout)));
  });
}

/** Why `tool` cannot serve `server`, or undefined: a MySQL tool for a MariaDB server, or a tool of an older major version. */
export function toolMismatch(tool: EngineVersion | undefined, server: EngineVersion): string | undefined {
  if (!tool) return undefined;
  if (tool.flavor === 'MySQL' && server.flavor === 'MariaDB') return `${describeVersion(tool)}'s tools do not know ${describeVersion(server)}`;
  if (tool.flavor === server.flavor && tool.major < server.major) return `${describeVersion(tool)} is older than the server (${describeVersion(server)})`;
  return undefined;
}

/**
 * The program to run against `server`: the explicit path (option, then
 * MYSQLDUMP_PATH / MYSQL_CLIENT_PATH), else the first of the engine's
 * names on PATH whose version can serve the server (mariadb-dump for
 * MariaDB, mysqldump for MySQL, then the other). A MariaDB tool may dump a
 * MySQL server (a debug line says so); a MySQL tool may not dump MariaDB,
 * nor an older major version its server.
 *
 * @throws BackupctlError SOURCE_FAILED when none is found or fits.
 */
export async function requireTool(kind: ToolKind, server: EngineVersion, target: string, options: FindToolOptions = {}): Promise<FoundTool> {
  const env = options.env ?? process.env;
  const explicit = options.explicitPath || env[TOOL_ENV[kind]];
  const names = NAMES[kind][server.flavor];
  if (explicit) {
    if (!(await executable(explicit))) {
      throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `${explicit} (the ${kind === 'dump' ? 'dump tool' : 'client'} to use for ${target}) is not an executable file`, {
        hint: `fix ${kind === 'dump' ? 'dumpPath or ' : ''}${TOOL_ENV[kind]}, or unset it to use ${names[0]} from PATH`,
      });
    }
    const version = await readToolVersion(explicit);
    const mismatch = toolMismatch(version, server);
    if (mismatch) throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `${explicit} cannot serve ${target}: ${mismatch}`, { hint: `install ${names[0]} of the server's version` });
    return { path: explicit, name: path.basename(explicit), version };
  }
  const refused: string[] = [];
  for (const name of names) {
    const found = await onPath(name, env);
    if (!found) continue;
    const version = await readToolVersion(found);
    const mismatch = toolMismatch(version, server);
    if (!mismatch) return { path: found, name, version };
    refused.push(`${found}: ${mismatch}`);
  }
  throw new BackupctlError(
    ErrorCodes.SOURCE_FAILED,
    refused.length ? `no ${names.join(' or ')} able to serve ${target} (${refused.join('; ')})` : `${names.join(' or ')} not found on PATH (needed for ${target})`,
    { hint: `install the ${server.flavor === 'MariaDB' ? 'mariadb-client' : 'mysql-client'} package, or set ${TOOL_ENV[kind]}` },
  );
}
