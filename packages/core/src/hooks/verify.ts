import { BackupctlError, definePlugin, ErrorCodes, Type } from '@backupctl/plugin-api';
import { describeFailure, describePassed } from './verification-text.js';

/** The verify hook's options. */
export const verifySchema = Type.Object(
  {
    scratchUrl: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "A server to create the scratch database on (a connection URL; its database is only used to connect). Default: the job's own server.",
      }),
    ),
    againstSource: Type.Boolean({
      default: false,
      description: 'Compare with the live database instead of the backup\'s manifest (a busy database then always differs).',
    }),
  },
  { additionalProperties: false },
);

/**
 * `use: verify`: after each commit, proves the backup just written restores
 * (scratch database, exact row counts against its manifest) and records the
 * result. A failed verification fails the run (exit 1) with the tables that
 * differ, and reaches onError hooks as VERIFY_FAILED. Put it before
 * retention, so retention already knows the new backup is proven.
 */
export default definePlugin({
  name: 'verify',
  kind: 'hook',
  description: 'After each backup: restore it into a scratch database and compare every table with its manifest; fail the run when it differs.',
  schema: verifySchema,
  create(options, context) {
    context.secrets.add(options.scratchUrl);
    return {
      async afterCommit(run) {
        if (!run.verify) {
          run.logger.info(`${run.title ?? run.job}: not verified, the job's source cannot verify this backup (it holds no tables to count)`);
          return;
        }
        const verification = await run.verify(run.artifact.key, { scratchUrl: options.scratchUrl, againstSource: options.againstSource });
        if (verification.result === 'failed') {
          throw new BackupctlError(ErrorCodes.VERIFY_FAILED, `verification of ${run.artifact.key} failed: ${describeFailure(verification)}`, {
            plugin: context.use,
            hook: 'afterCommit',
            hint: `the backup does not restore as it was taken: keep the older backups (retention keeps the newest verified one) and check the storage and the source; details: backupctl inspect ${run.job} --key ${run.artifact.key}`,
          });
        }
        run.logger.info(`${run.title ?? run.job}: verified ${run.artifact.key}: ${describePassed(verification)}`, { event: 'verified', key: run.artifact.key });
      },
    };
  },
});
