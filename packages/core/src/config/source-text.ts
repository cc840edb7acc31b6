import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';

/** A path into the pipeline document, e.g. ['jobs', 'clara', 'sink', 'with', 'bucket']. */
export type ConfigPath = ReadonlyArray<string | number>;

/** The parsed pipeline file, with a way back from a path to `file:line:column`. */
export interface PipelineSource {
  /** Where it came from: a file path, or `package.json#backupctl`. */
  file: string;
  value: unknown;
  /** `file:line:col` of the node at path (or its nearest existing parent); just `file` when unknown. */
  locate(path: ConfigPath): string;
}

/** Dotted path for messages: jobs.clara.transforms[0].with.level */
export function formatPath(path: ConfigPath): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );
}

/** Parses YAML text; a syntax error becomes CONFIG_INVALID with line and column. */
export function parsePipelineText(file: string, text: string): PipelineSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const [first] = doc.errors;
  if (first) {
    const where = lineCounter.linePos(first.pos[0]);
    const at = `${file}:${where.line}:${where.col}`;
    const message = first.message.split('\n')[0] ?? first.message;
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `${at}: invalid YAML: ${message}`, {
      hint: 'fix the YAML syntax at that position',
    });
  }
  return { file, value: doc.toJS({ maxAliasCount: 100 }), locate: (path) => locateIn(doc, lineCounter, file, path) };
}

/** For configuration that has no text behind it (package.json#backupctl). */
export function plainPipelineSource(file: string, value: unknown): PipelineSource {
  return { file, value, locate: () => file };
}

function locateIn(doc: Document, lines: LineCounter, file: string, path: ConfigPath): string {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}
