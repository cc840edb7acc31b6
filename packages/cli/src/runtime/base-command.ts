import { Command } from '@oclif/core/command';
import * as Errors from '@oclif/core/errors';
import * as Flags from '@oclif/core/flags';
import { createLogger, setYoungGenerationCollector, type LogFormat } from '@backupctl/core';
import { Secrets } from '@backupctl/plugin-api';
import { ProgressLine } from '../render/progress-line.js';
import { reportError } from '../render/report-error.js';
import { youngGenerationCollector } from './young-generation-collector.js';

const LOG_FORMATS = ['text', 'json'] as const;

/** What every backupctl command shares: --debug, secret redaction, and one way errors reach the user. */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    debug: Flags.boolean({ description: 'Print debug lines and stack traces.', default: false, helpGroup: 'GLOBAL' }),
    'log-format': Flags.option({
      options: LOG_FORMATS,
      description: 'Log lines as text (the reference format) or json (one object a line: time, level, message, job, event, bytes, durationMs).',
      default: 'text',
      env: 'BACKUPCTL_LOG_FORMAT',
      helpGroup: 'GLOBAL',
    })(),
  };

  override async init(): Promise<void> {
    await super.init();
    // The CLI owns its process, so it may pace V8's collector while data streams.
    setYoungGenerationCollector(youngGenerationCollector());
  }

  /** Every secret a plugin registers; masked in all output of this process. */
  protected readonly secrets = new Secrets();

  protected get debugEnabled(): boolean {
    return this.argv.includes('--debug');
  }

  // Read from argv, like --debug, so every command's logger and error output follow it without each passing it on.
  protected get logFormat(): LogFormat {
    const index = this.argv.findIndex((arg) => arg === '--log-format' || arg.startsWith('--log-format='));
    const value = index < 0 ? process.env.BACKUPCTL_LOG_FORMAT : this.argv[index]!.split('=')[1] ?? this.argv[index + 1];
    return value === 'json' ? 'json' : 'text';
  }

  private statusLine: ProgressLine | undefined;

  /**
   * The progress line on stderr, only when stderr is a terminal and logs are
   * text; undefined otherwise (piped output and JSON logs get none).
   * Log lines of `createLogger()` are printed around it.
   */
  protected progressLine(): ProgressLine | undefined {
    if (!process.stderr.isTTY || this.logFormat !== 'text') return undefined;
    return (this.statusLine ??= new ProgressLine(process.stderr));
  }

  protected createLogger() {
    return createLogger({
      secrets: this.secrets,
      debug: this.debugEnabled,
      format: this.logFormat,
      write: (line) => (this.statusLine ? this.statusLine.writeLine(line) : process.stderr.write(`${line}\n`)),
    });
  }

  /** Writes text to stdout with secrets masked. */
  protected print(text: string): void {
    process.stdout.write(`${this.secrets.redact(text)}\n`);
  }

  /** `--json`: every command prints its result the same way, indented, secrets masked. */
  protected printJson(value: unknown): void {
    this.print(JSON.stringify(value, null, 2));
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;
    const { text, exitCode } = reportError(error, this.secrets, this.debugEnabled);
    this.statusLine?.clear();
    if (this.logFormat === 'json') this.createLogger().error(text, { event: 'exit', exitCode });
    else process.stderr.write(`${text}\n`);
    return this.exit(exitCode);
  }
}
