import { shellWord, type RestoreHelpContext, type TransformRestoreHelp } from '@backupctl/plugin-api';
import { ENV, type AgeOptions } from './keys.js';

/**
 * restore-help: `age -d -i <key file> -o name name.age`. The key file is the
 * step's identityFile (by its variable when it has one); with a passphrase,
 * age asks for it; otherwise `key.txt`, with a note on where the secret key
 * is kept. Never a key or a passphrase itself.
 */
export const ageRestoreHelp: TransformRestoreHelp<AgeOptions> = {
  title: 'Decrypt',
  undo(file, context) {
    const { options } = context;
    const out = file.endsWith('.age') && file.length > '.age'.length ? file.slice(0, -'.age'.length) : `${file}.out`;
    const tail = `-o ${shellWord(out)} ${shellWord(file)}`;
    if (options.passphrase) {
      return { text: `age asks for the passphrase: ${reference(context, 'passphrase')}`, commands: [`age -d ${tail}`], file: out };
    }
    if (options.identityFile) {
      const variable = context.variable('identityFile');
      return { commands: [`age -d -i ${variable ? `"$${variable}"` : shellWord(options.identityFile)} ${tail}`], file: out };
    }
    const key =
      options.identities === undefined
        ? `$${ENV.identityFile} (a file) or $${ENV.identities}`
        : reference(context, 'identities');
    return {
      text:
        `key.txt: a file holding the secret key (AGE-SECRET-KEY-1...) the backups were encrypted for, as in ${key}; ` +
        `for backups encrypted with a passphrase ($${ENV.passphrase}), leave out -i key.txt and age asks for it`,
      commands: [`age -d -i key.txt ${tail}`],
      file: out,
    };
  },
};

/** `$VARIABLE` when the option is read from one, else where it is written. */
function reference(context: RestoreHelpContext<AgeOptions>, option: 'passphrase' | 'identities'): string {
  const variable = context.variable(option);
  return variable ? `$${variable}` : `the ${option} of ${context.path}`;
}
