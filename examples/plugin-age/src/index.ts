import { Decrypter, Encrypter } from 'age-encryption';
import { BackupctlError, ErrorCodes, Type, definePlugin } from '@backupctl/plugin-api';
import { ENV, resolveKeys } from './keys.js';
import { ageRestoreHelp } from './restore-help.js';
import { webStreamDuplex } from './web-stream-duplex.js';

const listOf = (description: string) =>
  Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description }));

/**
 * backupctl-plugin-age: client-side encryption with age (https://age-encryption.org).
 * The stored object is a standard age file: `age -d -i key.txt` decrypts it.
 */
export default definePlugin({
  name: 'age',
  kind: 'transform',
  description: 'Encrypts the stream with age (X25519 recipients or a passphrase); restore decrypts it.',
  schema: Type.Object(
    {
      recipients: listOf(
        `Public keys (age1...) to encrypt to: a list, or one string separated by commas or spaces. Default: ${ENV.recipients}.`,
      ),
      passphrase: Type.Optional(
        Type.String({ description: `Encrypt with a passphrase instead of recipients (not both). Default: ${ENV.passphrase}.` }),
      ),
      identities: listOf(
        `Secret keys (AGE-SECRET-KEY-1...) to decrypt with on restore; with no recipients, backups are encrypted to them. Default: ${ENV.identities}.`,
      ),
      identityFile: Type.Optional(
        Type.String({ description: `A file of identities as age-keygen writes it. Default: ${ENV.identityFile}.` }),
      ),
      scryptWorkFactor: Type.Integer({
        minimum: 10,
        maximum: 20,
        default: 18,
        description:
          "log2 of scrypt's cost for passphrases, as age's default (18: about 1 s and 256 MiB once per backup). Lower is faster and weaker.",
      }),
    },
    { additionalProperties: false },
  ),
  async create(options, context) {
    const keys = await resolveKeys(options, process.env);
    // backupctl masks registered secrets in every log line and error message.
    context.secrets.add(keys.passphrase);
    for (const identity of keys.identities) context.secrets.add(identity);

    context.artifact.extension += '.age';
    context.artifact.contentType = 'application/octet-stream';
    context.logger.debug(
      keys.passphrase === undefined ? `age: encrypting to ${keys.recipients.length} recipient(s)` : 'age: encrypting with a passphrase',
    );

    const encrypter = () => {
      const encrypter = new Encrypter();
      if (keys.passphrase !== undefined) {
        encrypter.setScryptWorkFactor(options.scryptWorkFactor);
        encrypter.setPassphrase(keys.passphrase);
      }
      for (const recipient of keys.recipients) encrypter.addRecipient(recipient);
      return encrypter;
    };
    const decrypter = () => {
      if (keys.passphrase === undefined && !keys.identities.length) {
        throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'age: no identity to decrypt with (only recipients, which are public keys, are set)', {
          plugin: context.use,
          hint: `give the secret key: identities, identityFile, ${ENV.identities} or ${ENV.identityFile}`,
        });
      }
      const decrypter = new Decrypter();
      if (keys.passphrase !== undefined) decrypter.addPassphrase(keys.passphrase);
      for (const identity of keys.identities) decrypter.addIdentity(identity);
      return decrypter;
    };

    return {
      encode: () => webStreamDuplex((plaintext) => encrypter().encrypt(plaintext)),
      decode: () =>
        webStreamDuplex(async (ciphertext) => {
          // A missing identity becomes the stream's error, so a restore stops and closes its store stream as for any failure.
          const configured = decrypter();
          try {
            return await configured.decrypt(ciphertext);
          } catch (cause) {
            throw decryptError(cause, context.use);
          }
        }),
    };
  },
  restoreHelp: ageRestoreHelp,
});

/** age's header errors, said in terms of what the user has to change. */
function decryptError(cause: unknown, plugin: string): BackupctlError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (/no identity matched/.test(message)) {
    return new BackupctlError(ErrorCodes.TRANSFORM_FAILED, 'age: this backup was not encrypted to any of the configured identities or passphrase', {
      plugin,
      hint: 'restore with the identity (or passphrase) the backup was made for',
    });
  }
  return new BackupctlError(ErrorCodes.TRANSFORM_FAILED, `age: cannot decrypt: ${message}`, {
    plugin,
    hint: 'the object is not an age file, or it is damaged',
    cause,
  });
}
