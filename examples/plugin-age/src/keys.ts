import { readFile } from 'node:fs/promises';
import { Decrypter, Encrypter, identityToRecipient } from 'age-encryption';
import { BackupctlError, ErrorCodes } from '@backupctl/plugin-api';

/** The plugin's options as the schema types them (see index.ts). */
export interface AgeOptions {
  recipients?: string | string[];
  passphrase?: string;
  identities?: string | string[];
  identityFile?: string;
  scryptWorkFactor: number;
}

/** What encrypting and decrypting use, after options, the environment and the identity file were read. */
export interface AgeKeys {
  /** Recipients to encrypt to (given ones, else those of the identities). Empty with a passphrase. */
  recipients: string[];
  passphrase?: string;
  /** Identities to decrypt with. */
  identities: string[];
}

/** Environment variables read when the matching option is absent or empty. */
export const ENV = {
  recipients: 'AGE_RECIPIENTS',
  passphrase: 'AGE_PASSPHRASE',
  identities: 'AGE_IDENTITY',
  identityFile: 'AGE_IDENTITY_FILE',
} as const;

const CONFIG_HINT = `set recipients (age1...) or a passphrase under with:, or ${ENV.recipients} / ${ENV.passphrase}`;

/**
 * Reads the keys from the options, falling back to the environment, and
 * checks each one. Messages never include an identity or a passphrase (the
 * age library's own messages may, so they are not passed on).
 */
export async function resolveKeys(options: AgeOptions, env: Readonly<Record<string, string | undefined>>): Promise<AgeKeys> {
  const recipients = list(options.recipients ?? env[ENV.recipients]);
  const passphrase = nonEmpty(options.passphrase) ?? nonEmpty(env[ENV.passphrase]);
  const identities = list(options.identities ?? env[ENV.identities]);
  const identityFile = nonEmpty(options.identityFile) ?? nonEmpty(env[ENV.identityFile]);
  if (identityFile) identities.push(...(await readIdentityFile(identityFile)));

  if (passphrase !== undefined && recipients.length) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'age: both a passphrase and recipients are set; age encrypts to one or the other', {
      hint: 'keep recipients (public keys) for backups a server can write but not read, or only a passphrase',
    });
  }
  if (passphrase === undefined && !recipients.length && !identities.length) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, 'age: no recipients, passphrase or identities to encrypt or decrypt with', {
      hint: CONFIG_HINT,
    });
  }
  recipients.forEach(checkRecipient);
  identities.forEach(checkIdentity);
  // Given only identities (a key file), encrypt to their own recipients, so one file serves backup and restore.
  const encryptTo = recipients.length || passphrase !== undefined ? recipients : await Promise.all(identities.map(identityToRecipient));
  return { recipients: encryptTo, passphrase, identities };
}

/** A list option: an array, or one string of values separated by commas or whitespace (as an environment variable holds it). */
function list(value: string | string[] | undefined): string[] {
  const items = Array.isArray(value) ? value : (value ?? '').split(/[\s,]+/);
  return items.map((item) => item.trim()).filter(Boolean);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value ? value : undefined;
}

/** An identity file as `age-keygen` writes it: one identity a line, `#` comments. */
async function readIdentityFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `age: cannot read the identity file ${file}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'identityFile (or AGE_IDENTITY_FILE) names a file written by age-keygen',
    });
  }
  const identities = text.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  if (!identities.length) throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `age: the identity file ${file} holds no identity`);
  return identities;
}

function checkRecipient(recipient: string, index: number): void {
  try {
    new Encrypter().addRecipient(recipient);
  } catch {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `age: recipient ${index + 1} (${recipient.slice(0, 12)}...) is not an age recipient`, {
      hint: 'a recipient is a public key starting with age1 (from age-keygen -y)',
    });
  }
}

function checkIdentity(identity: string, index: number): void {
  try {
    new Decrypter().addIdentity(identity);
  } catch {
    throw new BackupctlError(ErrorCodes.CONFIG_INVALID, `age: identity ${index + 1} is not an age identity`, {
      hint: 'an identity is a secret key starting with AGE-SECRET-KEY-1 (from age-keygen)',
    });
  }
}
