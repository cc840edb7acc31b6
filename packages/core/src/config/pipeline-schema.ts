import { Type, type Static } from '@backupctl/plugin-api';

const Step = Type.Object(
  {
    use: Type.String({ minLength: 1, description: 'Plugin: a built-in name, a package name or a relative path.' }),
    with: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "The plugin's options." })),
  },
  { additionalProperties: false },
);

const Sink = Type.Object(
  {
    use: Step.properties.use,
    with: Step.properties.with,
    hooks: Type.Optional(Type.Array(Step, { description: 'Hooks around this sink: respawn, retention, ...' })),
    name: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
        description: 'Several sinks: what logs, `ls` and `restore --from` call this copy. Default: the plugin\'s name, numbered when two sinks share it (`<name>`, `<name>-2`).',
      }),
    ),
    required: Type.Optional(
      Type.Boolean({
        description:
          'Several sinks: false lets the job succeed when this copy fails (the failure is reported and alerted). Default true. The only sink of a job is always required.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The anomaly guard (backup/anomaly-guard.ts): each backup is compared with the job's previous one. */
export const AnomalySchema = Type.Object(
  {
    maxShrinkPercent: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 50,
      description:
        'Flag a backup whose dump size (before transforms), or total rows (from the manifests), shrank by more than this percentage against the previous backup. 100 turns the check off.',
    }),
    emptiedTables: Type.Boolean({ default: true, description: 'Flag a backup in which a table that had rows in the previous backup is empty.' }),
    ignoreTables: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Tables (`schema.table`) that may empty without a flag, e.g. a queue.',
    }),
    hold: Type.Boolean({
      default: true,
      description:
        'Retention keeps the flagged backup and every older one until the flag is accepted (`backupctl accept`). false: accept every flag by config (warn and notify only).',
    }),
  },
  { additionalProperties: false, description: 'The anomaly guard: when a backup is flagged against the previous one, and whether retention then holds older backups.' },
);

/** Job names become object names and log labels: keep them simple. */
export const JOB_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';

const Job = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, description: 'Label in logs and `ls`, e.g. "Clara DB". Default: the job name.' })),
    requiresEnv: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), {
        description: 'Skip this job (not an error) when any of these environment variables is unset or empty.',
      }),
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Object name template: {job}, {timestamp} (UTC YYYYMMDD_HHMMSS) and {ext} (from the source and transforms).',
        default: '{job}_{timestamp}{ext}',
      }),
    ),
    source: Step,
    transforms: Type.Optional(Type.Array(Step)),
    sink: Type.Optional(Sink),
    sinks: Type.Optional(
      Type.Array(Sink, {
        minItems: 1,
        description: 'Several copies from one dump: every sink gets the same bytes at once, each with its own hooks (give `sink:` or `sinks:`).',
      }),
    ),
    anomaly: Type.Optional(AnomalySchema),
    notify: Type.Optional(
      Type.Array(Step, {
        description: 'Notifiers (hooks with `notify`, see docs/notifications.md): each hears every event of the job it lists in `on:`.',
      }),
    ),
    staleAfterHours: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          '`serve`: the job is stale when its newest backup in the store is older than this (`/health`, a metric, one `stale` notification). Default 26 when serve has a schedule; 0 turns the check off.',
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description:
          "Whole servers: this job's parts (databases) backed up at once, each with its own dump, transforms and upload. Default: the pipeline's `concurrency`. `run --concurrency` overrides it.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** The pipeline file's own shape; each plugin's `with:` is checked against the plugin's schema afterwards. */
export const PipelineSchema = Type.Object(
  {
    version: Type.Literal(1, { description: 'Pipeline file format version.' }),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 64,
        description:
          "Backups streamed at once in a run: jobs, and parts of whole-server jobs (docs/scale-out.md). Each holds its own buffers (memory grows with it). Default 1, or the largest job's `concurrency`; `run --concurrency` overrides it.",
      }),
    ),
    memoryBudgetMiB: Type.Optional(
      Type.Integer({
        minimum: 64,
        description:
          'Memory the run may use, in MiB: concurrency is lowered until the estimate (a base, plus each backup in flight with its stages\' buffers) fits, and the run says what it chose. Unset: no limit.',
      }),
    ),
    jobs: Type.Record(Type.String({ pattern: JOB_NAME_PATTERN }), Job, {
      minProperties: 1,
      // patternProperties alone lets other names through unchecked.
      propertyNames: { pattern: JOB_NAME_PATTERN, errorMessage: 'job names use letters, digits, _ . - and start with a letter or digit' },
    }),
  },
  { additionalProperties: false },
);

export type PipelineFile = Static<typeof PipelineSchema>;
export type JobConfig = Static<typeof Job>;
/** The guard's settings for a job without `anomaly:` (the schema's defaults). */
export const DEFAULT_ANOMALY: Static<typeof AnomalySchema> = { maxShrinkPercent: 50, emptiedTables: true, ignoreTables: [], hold: true };
export type StepConfig = Static<typeof Step>;
