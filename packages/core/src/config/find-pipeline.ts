import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';
import { parsePipelineText, plainPipelineSource, type PipelineSource } from './source-text.js';

/** Where cosmiconfig looks, in order, from the working directory up to the project root. */
export const SEARCH_PLACES = [
  'backupctl.yml',
  'backupctl.yaml',
  '.backupctlrc',
  '.backupctlrc.yml',
  '.backupctlrc.yaml',
  '.config/backupctlrc.yml',
  'package.json',
];

/**
 * The pipeline to run: the file given, else the first of SEARCH_PLACES found
 * from cwd up, else the host's default. `origin` says which, for the log;
 * `dir` is the file's directory, against which relative plugin paths resolve.
 */
export async function findPipeline(
  file: string | undefined,
  cwd: string,
  defaultPipeline?: { file: string; shown: string },
): Promise<{ source: PipelineSource; origin: 'argument' | 'search' | 'default'; dir: string }> {
  if (file !== undefined) {
    const absolute = path.resolve(cwd, file);
    return { source: await readPipelineFile(absolute, file), origin: 'argument', dir: path.dirname(absolute) };
  }

  // cosmiconfig finds the file; we parse it ourselves to keep line numbers.
  // Loaded only to search: a run given its file (a cron job, a restore) skips its ~15 ms.
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('backupctl', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'project',
    loaders: { '.yml': keepText, '.yaml': keepText, noExt: keepText },
  });
  const found = await explorer.search(cwd);
  if (found && !found.isEmpty) {
    const relative = path.relative(cwd, found.filepath) || found.filepath;
    const source =
      path.basename(found.filepath) === 'package.json'
        ? plainPipelineSource(`${relative}#backupctl`, found.config)
        : parsePipelineText(relative, (found.config as { text: string }).text);
    return { source, origin: 'search', dir: path.dirname(found.filepath) };
  }
  if (!defaultPipeline) {
    throw new BackupctlError(ErrorCodes.CONFIG_NOT_FOUND, `no pipeline file found from ${cwd} up`, {
      hint: `name one, or create backupctl.yml (looked for ${SEARCH_PLACES.join(', ')})`,
    });
  }
  return { source: await readPipelineFile(defaultPipeline.file, defaultPipeline.shown), origin: 'default', dir: path.dirname(defaultPipeline.file) };
}

function keepText(_file: string, text: string): { text: string } {
  return { text };
}

async function readPipelineFile(absolute: string, shown: string): Promise<PipelineSource> {
  const info = await stat(absolute).catch(() => undefined);
  if (!info) {
    throw new BackupctlError(ErrorCodes.CONFIG_NOT_FOUND, `pipeline file ${shown} does not exist`, {
      hint: 'check the path, or run without a file to use backupctl.yml or the default pipeline',
    });
  }
  if (!info.isFile()) {
    throw new BackupctlError(ErrorCodes.CONFIG_NOT_FOUND, `pipeline file ${shown} is not a file`, {
      hint: 'name a YAML file, not a directory',
    });
  }
  return parsePipelineText(shown, await readFile(absolute, 'utf8'));
}
