import { readFileSync } from 'node:fs';

const CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/** `ca:` holds the PEM text itself rather than a file's path. */
export function isPem(ca: string): boolean {
  return ca.includes(CERTIFICATE);
}

/**
 * What is wrong with `ca:` (a path that cannot be read, a file without a
 * certificate), as one line, or undefined. Checked when the notifier is
 * created, so a typo stops the run at once instead of failing its first
 * email at 3 a.m.
 */
export function caProblem(ca: string): string | undefined {
  if (isPem(ca)) return undefined;
  let text: string;
  try {
    text = readFileSync(ca, 'utf8');
  } catch (error) {
    return `ca: cannot read ${ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
  return isPem(text) ? undefined : `ca: ${ca} holds no PEM certificate (${CERTIFICATE})`;
}
