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
  },
  { additionalProperties: false },
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
    sink: Sink,
  },
  { additionalProperties: false },
);

/** The pipeline file's own shape; each plugin's `with:` is checked against the plugin's schema afterwards. */
export const PipelineSchema = Type.Object(
  {
    version: Type.Literal(1, { description: 'Pipeline file format version.' }),
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
export type StepConfig = Static<typeof Step>;
