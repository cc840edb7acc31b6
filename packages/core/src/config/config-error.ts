import { BackupctlError, ErrorCodes, type ErrorCode } from '@backupctl/plugin-api';

/** One problem in a pipeline file, located. */
export interface ConfigIssue {
  code: ErrorCode;
  /** `file:line:col` */
  location: string;
  /** Dotted path, e.g. jobs.clara.sink.with.bucket (empty for the whole file). */
  path: string;
  message: string;
  hint?: string;
}

/** All problems of a pipeline file at once; one line each. */
export class ConfigError extends BackupctlError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const codes = new Set(issues.map((issue) => issue.code));
    const [only] = codes;
    const code = codes.size === 1 && only ? only : ErrorCodes.CONFIG_INVALID;
    const lines = issues.map(formatIssue);
    const message = lines.length === 1 ? (lines[0] ?? '') : `${lines.length} problems in the pipeline file:\n  ${lines.join('\n  ')}`;
    const [first] = issues;
    super(code, message, { hint: issues.length === 1 ? first?.hint : undefined });
    this.issues = issues;
  }
}

function formatIssue(issue: ConfigIssue): string {
  return issue.path ? `${issue.location}: ${issue.path}: ${issue.message}` : `${issue.location}: ${issue.message}`;
}
