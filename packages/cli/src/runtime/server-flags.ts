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
