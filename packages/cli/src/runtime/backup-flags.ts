import * as Flags from '@oclif/core/flags';

/** --key and --at: which backup `restore`, `verify` and `inspect` take (the verb names what is done with it). */
export function backupChoiceFlags(verb: string) {
  return {
    key: Flags.string({ char: 'k', description: `The backup to ${verb}: its key, or its name under the job's prefix.`, exclusive: ['at'] }),
    at: Flags.string({
      description:
        "The newest backup taken at or before this time: latest (default), 20260201_030000, 2026-02-01 (that day's last) or 2026-02-01T03:00:00Z. UTC unless a zone is given.",
    }),
  };
}

/** --from, for `restore` and `verify` of a job with several sinks. */
export const fromFlag = Flags.string({
  description: 'Read only the copy of this name (a job with several sinks); default: the first copy holding the backup, then the next.',
});

/** --scratch-url (VERIFY_SCRATCH_URL), for `verify` and `serve --verify-schedule`. */
export function scratchUrlFlag(which: string) {
  return Flags.string({
    env: 'VERIFY_SCRATCH_URL',
    description: `A server to create ${which} on (postgresql://user:pass@host/db; db is only used to connect). Default: the job's own server.`,
  });
}
