import type { ArtifactInfo, LogFields, Logger, PluginContext } from '../context.js';
import { Secrets } from '../secrets.js';

/** A PluginContext for calling a plugin's `create` (or its modules) directly, and what it collected. */
export interface TestContext {
  context: PluginContext;
  /** What the stages set on the shared artifact (extension, content type, expected size). */
  artifact: ArtifactInfo;
  /** Every line logged, debug included, as the CLI prints them (`2026-02-01 03:00:05 - WARN: ...`), secrets masked. */
  logs: string[];
  /** The same lines as logged: level, message (unmasked) and structured fields, for assertions on fields. */
  entries: LogEntry[];
  /** Every value the plugin registered as secret, in order (`context.secrets.add`). */
  registered: (string | undefined)[];
  /** The secret registry the context carries. */
  secrets: Secrets;
  /** Masks what the plugin registered as secret, as the CLI does. */
  redact(text: string): string;
}

/** One call of the context's logger. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: LogFields;
}

export interface TestContextSetting {
  /** The job's name (default `test`). */
  job?: string;
  /** The plugin as named in `use:` (default `test`). */
  use?: string;
  signal?: AbortSignal;
  /** The clock of the log lines (default: the real one). */
  now?: () => Date;
  /** Keep debug lines (default true). */
  debug?: boolean;
  /** Shared with other stages of the same test job (default: a fresh one). */
  artifact?: ArtifactInfo;
  /** Shared with other stages of the same test job (default: a fresh registry). */
  secrets?: Secrets;
  /** Lines go here too (default: a fresh array). */
  logs?: string[];
}

/**
 * The context backupctl gives a plugin's `create`, for tests: a logger that
 * records lines as the CLI prints them, a secret registry that masks them,
 * an artifact the stages fill in, and a signal. Replaces hand-written fakes.
 *
 *   const { context, logs } = testContext({ job: 'clara' });
 *   const source = createPostgresSource(options, context);
 */
export function testContext(setting: TestContextSetting = {}): TestContext {
  const secrets = setting.secrets ?? new Secrets();
  const logs = setting.logs ?? [];
  const entries: LogEntry[] = [];
  const registered: (string | undefined)[] = [];
  const artifact = setting.artifact ?? { extension: '', contentType: 'application/octet-stream' };
  const logger = recordingLogger(logs, entries, secrets, setting);
  const registry = {
    add(secret: string | undefined) {
      registered.push(secret);
      secrets.add(secret);
    },
    redact: (text: string) => secrets.redact(text),
  };
  const context: PluginContext = {
    job: setting.job ?? 'test',
    use: setting.use ?? 'test',
    logger,
    signal: setting.signal ?? new AbortController().signal,
    artifact,
    secrets: registry,
  };
  return { context, artifact, logs, entries, registered, secrets, redact: (text) => secrets.redact(text) };
}

/** `2026-02-01 03:00:05 - WARN: message`: the CLI's text format, secrets masked, one line per call. */
function recordingLogger(logs: string[], entries: LogEntry[], secrets: Secrets, setting: TestContextSetting): Logger {
  const now = setting.now ?? (() => new Date());
  const emit = (level: LogEntry['level']) => (message: string, fields?: LogFields) => {
    entries.push({ level, message, ...(fields === undefined ? {} : { fields }) });
    if (level === 'debug' && setting.debug === false) return;
    const time = now().toISOString().slice(0, 19).replace('T', ' ');
    const label = level === 'info' ? '' : `${level.toUpperCase()}: `;
    logs.push(secrets.redact(`${time} - ${label}${message.trim().replace(/\s*\n\s*/g, ' | ')}`));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
