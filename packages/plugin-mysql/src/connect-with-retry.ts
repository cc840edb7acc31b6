import { connectWithRetry as retryConnecting, type ConnectErrorRules, type RetryOptions } from '@backupctl/plugin-api';
import { connectErrorHint, describeConnectError, isRetryableConnectError, summarizeConnectError } from './connect-errors.js';

export { retryWaitsSeconds, type RetryOptions, type Sleep } from '@backupctl/plugin-api';

/** How this engine's driver errors read: which to retry, the message, the hint. */
const connectErrorRules: ConnectErrorRules = {
  isRetryable: isRetryableConnectError,
  describe: describeConnectError,
  summarize: summarizeConnectError,
  hint: connectErrorHint,
};

/** The plugin API's connectWithRetry with this engine's error rules. */
export function connectWithRetry<T>(connect: () => Promise<T>, options: RetryOptions): Promise<T> {
  return retryConnecting(connect, connectErrorRules, options);
}
