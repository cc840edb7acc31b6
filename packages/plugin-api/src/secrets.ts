import type { SecretRegistry } from './context.js';

const MASK = '***';
// user:password@ inside any URL-looking text, registered or not.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/\s]*@/gi;

/**
 * The values that must never be printed, and the function that removes
 * them from text. Shared by the logger and the CLI's error output.
 */
export class Secrets implements SecretRegistry {
  private readonly values = new Set<string>();

  add(secret: string | undefined): void {
    // Very short values would mask ordinary words; nobody's secret is 3 characters.
    if (secret && secret.length >= 4) {
      this.values.add(secret);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) this.values.add(encoded);
    }
  }

  redact(text: string): string {
    let out = text.replace(URL_PASSWORD, `$1${MASK}@`);
    // Longest first, so a secret containing another is masked whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(value).join(MASK);
    return out;
  }
}
