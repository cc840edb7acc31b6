import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { childEnv } from './libpq-env.js';
import { parseMajorDirectory, parseToolVersion, type PostgresVersion } from './server-version.js';

/** The PostgreSQL client programs backupctl runs. */
export type PgTool = 'pg_dump' | 'pg_restore' | 'psql' | 'pg_dumpall';

/** Where Debian and Ubuntu (and the PGDG packages) install each major's client programs. */
export const DEFAULT_SEARCH_ROOTS: readonly string[] = ['/usr/lib/postgresql'];

/** A client program found on this machine. */
export interface FoundTool {
  path: string;
  /** Known for programs under a search root (from the directory) and on PATH (from `--version`). */
  version?: PostgresVersion;
  /** How it was found: named by the user, under a versioned directory, or on PATH. */
  origin: 'explicit' | 'versioned' | 'path';
}

export interface FindPgToolOptions {
  /** The oldest major release that may be used: the server's (pg_dump refuses a newer server). */
  minMajor: number;
  /** A path the user named (e.g. the pgDumpPath option); wins over everything when not empty. */
  explicitPath?: string;
  /** Environment for `<TOOL>_PATH` and PATH; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directories holding `<major>/bin/<tool>`; defaults to {@link DEFAULT_SEARCH_ROOTS}. */
  searchRoots?: readonly string[];
  /** Runs `<binary> --version` and returns its output; injectable for tests. */
  readVersion?: (binary: string) => Promise<string | undefined>;
}

export interface ToolSearch {
  /** The program to use, when one qualifies. */
  found?: FoundTool;
  /** Every candidate seen, for the error message when none qualifies. */
  considered: FoundTool[];
}

/** The environment variable that names a program explicitly: PG_DUMP_PATH, PSQL_PATH, ... */
export function toolPathVariable(tool: PgTool): string {
  return `${tool.toUpperCase()}_PATH`;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const execFileAsync = promisify(execFile);

async function probeVersion(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(binary, ['--version'], { timeout: 10_000, env: childEnv({}) });
    return stdout;
  } catch {
    return undefined;
  }
}

// A whole-server job creates one source per database, each looking up the
// same programs: each binary's `--version` runs once per process.
const versionProbes = new Map<string, Promise<string | undefined>>();

function runVersion(binary: string): Promise<string | undefined> {
  const cached = versionProbes.get(binary);
  if (cached !== undefined) return cached;
  const probe = probeVersion(binary);
  versionProbes.set(binary, probe);
  // A failed probe (a timeout on a busy machine, a path fixed meanwhile) is run again next time.
  void probe.then((output) => {
    if (output === undefined && versionProbes.get(binary) === probe) versionProbes.delete(binary);
  });
  return probe;
}

/**
 * The program's full version (`15.18`), for the record of what made a
 * backup: a versioned directory tells only the major release, so the
 * program is asked (once per process).
 */
export async function readToolVersion(tool: FoundTool): Promise<string | undefined> {
  if (tool.origin !== 'versioned' && tool.version !== undefined) return tool.version.text;
  const output = await runVersion(tool.path);
  return (output === undefined ? undefined : parseToolVersion(output)?.text) ?? tool.version?.text;
}

async function versionedCandidates(tool: PgTool, roots: readonly string[]): Promise<FoundTool[]> {
  const candidates: FoundTool[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      names = await readdir(root);
    } catch {
      continue;
    }
    for (const name of names) {
      const major = parseMajorDirectory(name);
      const path = join(root, name, 'bin', tool);
      if (major !== undefined && (await isExecutable(path))) {
        candidates.push({ path, version: { major, text: name }, origin: 'versioned' });
      }
    }
  }
  return candidates.sort((a, b) => a.version!.major - b.version!.major);
}

async function onPath(tool: PgTool, pathVariable: string | undefined): Promise<string | undefined> {
  for (const directory of (pathVariable ?? '').split(delimiter)) {
    if (directory === '') continue;
    const path = join(directory, tool);
    if (await isExecutable(path)) return path;
  }
  return undefined;
}

/**
 * Finds a PostgreSQL client program able to work with a server of
 * `minMajor`: the explicit path (option, then `<TOOL>_PATH`) if set; else the
 * lowest `<root>/<N>/bin/<tool>` with N ≥ minMajor; else the one on PATH if
 * its `--version` is new enough.
 */
export async function findPgTool(tool: PgTool, options: FindPgToolOptions): Promise<ToolSearch> {
  const env = options.env ?? process.env;
  const readVersion = options.readVersion ?? runVersion;
  const explicitPath = options.explicitPath || env[toolPathVariable(tool)] || '';
  if (explicitPath !== '') {
    const output = await readVersion(explicitPath);
    const version = output === undefined ? undefined : parseToolVersion(output);
    const found: FoundTool = { path: explicitPath, version, origin: 'explicit' };
    return { found, considered: [found] };
  }

  const considered = await versionedCandidates(tool, options.searchRoots ?? DEFAULT_SEARCH_ROOTS);
  const versioned = considered.find((candidate) => candidate.version!.major >= options.minMajor);
  if (versioned) return { found: versioned, considered };

  const pathBinary = await onPath(tool, env.PATH);
  if (pathBinary !== undefined) {
    const output = await readVersion(pathBinary);
    const version = output === undefined ? undefined : parseToolVersion(output);
    const candidate: FoundTool = { path: pathBinary, version, origin: 'path' };
    considered.push(candidate);
    if (version !== undefined && version.major >= options.minMajor) return { found: candidate, considered };
  }
  return { considered };
}

function installHint(major: string): string {
  return `apt-get install postgresql-client-${major} from the PGDG apt repository (apt.postgresql.org); elsewhere, the PostgreSQL ${major} client tools`;
}

function describeCandidates(candidates: readonly FoundTool[]): string {
  if (candidates.length === 0) return 'none';
  return candidates
    .map((candidate) => `${candidate.path} (${candidate.version?.text ?? 'version unknown'})`)
    .join(', ');
}

/**
 * {@link findPgTool}, failing with SOURCE_FAILED when nothing qualifies or an
 * explicit path is not an executable file.
 *
 * @param server the server's version; `target` its `host:port/database`.
 */
export async function requirePgTool(
  tool: PgTool,
  server: PostgresVersion,
  target: string,
  options: Omit<FindPgToolOptions, 'minMajor'> = {},
): Promise<FoundTool> {
  const search = await findPgTool(tool, { ...options, minMajor: server.major });
  const variable = toolPathVariable(tool);
  if (search.found?.origin === 'explicit' && !(await isExecutable(search.found.path))) {
    throw new BackupctlError(ErrorCodes.SOURCE_FAILED, `${tool} at ${search.found.path} is not an executable file`, {
      hint: `fix the path given in the options or in ${variable}`,
    });
  }
  const major = String(server.major);
  const explicitVersion = search.found?.origin === 'explicit' ? search.found.version : undefined;
  if (explicitVersion !== undefined && explicitVersion.major < server.major) {
    // Trusted when its version is unknown; refused before the run when known
    // too old, rather than by pg_dump itself ("server version mismatch") mid-run.
    throw new BackupctlError(
      ErrorCodes.SOURCE_FAILED,
      `${tool} at ${search.found!.path} is ${explicitVersion.text}, older than PostgreSQL ${server.text} at ${target}; ` +
        `${tool} ${major} or newer is needed: install postgresql-client-${major} and set ${variable} to its ${tool}, or unset ${variable}`,
      { hint: installHint(major) },
    );
  }
  if (search.found) return search.found;
  throw new BackupctlError(
    ErrorCodes.SOURCE_FAILED,
    // The install step is in the message, not only the hint: a failed job's log line shows the message alone.
    `${tool} ${major} or newer is needed for PostgreSQL ${major} at ${target}; found: ${describeCandidates(search.considered)}; ` +
      `install postgresql-client-${major} or set ${variable}`,
    { hint: installHint(major) },
  );
}
