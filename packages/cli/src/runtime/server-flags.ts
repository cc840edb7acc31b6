import * as Flags from '@oclif/core/flags';

/** --port and --host, shared by `serve` and `run --serve`. */
export const serverFlags = {
  port: Flags.integer({
    description: 'Port of the health server (/health, /ready, /live, /metrics); 0 picks a free one.',
    env: 'PORT',
    default: 8080,
    min: 0,
    max: 65_535,
  }),
  host: Flags.string({ description: 'Address the health server listens on.', default: '0.0.0.0' }),
};

/** The status page's flags: serve only (a one-shot `run --serve` has no page). */
export const uiFlags = {
  ui: Flags.boolean({
    description: 'Serve the status page at GET / (--no-ui turns it off; /health, /metrics and the probes stay).',
    default: true,
    allowNo: true,
  }),
  'ui-public-keys': Flags.boolean({
    description: 'Show object keys and bucket names on the status page to anyone who can reach it (by default only after logging in with UI_TOKEN).',
    default: false,
  }),
};
