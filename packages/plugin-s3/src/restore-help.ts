import { shellWord, type RestoreHelpCommands, type SinkRestoreHelp } from '@backupctl/plugin-api';
import type { S3Options } from './options.js';

/** The AWS CLI reads its credentials from these variables. */
const AWS_VARIABLES = [
  ['accessKeyId', 'AWS_ACCESS_KEY_ID'],
  ['secretAccessKey', 'AWS_SECRET_ACCESS_KEY'],
  ['sessionToken', 'AWS_SESSION_TOKEN'],
] as const;

/**
 * restore-help: `aws s3 cp s3://<bucket>/<key> .` with the sink's endpoint
 * (or region). The credentials are mapped from the variables the pipeline
 * reads them from onto the AWS CLI's (`AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY"`);
 * when one is not read from a variable, a note says which to set, never the
 * key. No credentials: the default chain, which the AWS CLI shares.
 */
export const s3RestoreHelp: SinkRestoreHelp<S3Options> = {
  download({ key }, context) {
    const { options } = context;
    const endpoint = options.endpoint.trim();
    const location = endpoint ? `--endpoint-url=${shellWord(endpoint)}` : `--region ${shellWord(options.region.trim() || 'us-east-1')}`;
    const copy = `aws s3 cp ${shellWord(`s3://${options.bucket}/${key}`)} . \\\n  ${location}`;
    const given = AWS_VARIABLES.filter(([option]) => (options[option] ?? '').trim() !== '');
    const help: RestoreHelpCommands = { text: 'Using the AWS CLI', commands: [copy] };
    if (!given.length) return help;
    const env: Record<string, string> = {};
    for (const [option, awsName] of given) {
      const variable = context.variable(option);
      if (!variable) {
        const note = `# Credentials: set ${given.map(([, name]) => name).join(', ')} to the key of ${context.path} (not shown here)`;
        return { ...help, commands: [note, copy] };
      }
      env[awsName] = variable;
    }
    return { ...help, env };
  },
};
