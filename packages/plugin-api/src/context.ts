/** Structured fields attached to a log line (job, bytes, duration...). Never put secrets here. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** The logger a plugin gets. Registered secrets are redacted from every message. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * What the stages of one job share about the artifact they produce. The
 * source sets the base (`.sql`, `application/sql`), each transform adds its
 * layer (gzip: `.gz`, `application/gzip`), and the sink reads it to name and
 * label the object. Stages are created in pipeline order.
 */
export interface ArtifactInfo {
  /** File extension including the dot, e.g. `.sql.gz`. Fills `{ext}` in name templates. */
  extension: string;
  /** MIME type of the stored bytes. */
  contentType: string;
  /**
   * Roughly how many bytes the source will produce, when it can tell
   * (postgres: the database's size), set by `open` at the latest. A sink
   * that must size things up front uses it (s3: the part size, so a large
   * dump stays under 10,000 parts); it is an estimate, never a limit.
   */
  expectedSize?: number;
}

/** Registers values that must never appear in output (passwords, keys). */
export interface SecretRegistry {
  add(secret: string | undefined): void;
  /**
   * Masks every registered secret (and any URL's password) in `text`.
   * backupctl's registry has it; use it before text leaves the process other
   * than through the logger (a webhook, a notification).
   */
  redact?(text: string): string;
}

/** Given to every plugin's `create`. */
export interface PluginContext {
  /** The job this instance belongs to, e.g. `clara`. */
  readonly job: string;
  /** The plugin as named in `use:`. */
  readonly use: string;
  readonly logger: Logger;
  /** Aborted when the run is cancelled (SIGINT/SIGTERM) or another stage failed. */
  readonly signal: AbortSignal;
  readonly artifact: ArtifactInfo;
  readonly secrets: SecretRegistry;
}
