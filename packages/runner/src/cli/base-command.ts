import { Command, Errors, Flags } from '@oclif/core';
import { createLogger } from '../engine/logger.js';
import { Secrets } from '../engine/redact.js';
import { reportError } from './report-error.js';

/** What every backupctl command shares: --debug, secret redaction, and one way errors reach the user. */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print debug lines and stack traces.', default: false, helpGroup: 'GLOBAL' }),
  };

  /** Every secret a plugin registers; masked in all output of this process. */
  protected readonly secrets = new Secrets();

  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug');
  }

  protected createLogger() {
    return createLogger({ secrets: this.secrets, debug: this.debugEnabled });
  }

  /** Writes text to stdout with secrets masked. */
  protected print(text: string): void {
    process.stdout.write(`${this.secrets.redact(text)}\n`);
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    const { text, exitCode } = reportError(error, this.secrets, this.debugEnabled);
    process.stderr.write(`${text}\n`);
    return this.exit(exitCode);
  }
}
