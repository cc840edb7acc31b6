// The CLI's command table (oclif's explicit strategy: one bundle, no
// directory scan at start-up). Commands are thin: they parse flags and call
// the library in src/config and src/engine.
import Accept from './commands/accept.js';
import Inspect from './commands/inspect.js';
import Ls from './commands/ls.js';
import NotifyTest from './commands/notify-test.js';
import Plugins from './commands/plugins.js';
import Prune from './commands/prune.js';
import Restore from './commands/restore.js';
import RestoreHelp from './commands/restore-help.js';
import Run from './commands/run.js';
import Serve from './commands/serve.js';
import Validate from './commands/validate.js';
import Verify from './commands/verify.js';

export const commands = {
  accept: Accept,
  inspect: Inspect,
  ls: Ls,
  'notify-test': NotifyTest,
  plugins: Plugins,
  prune: Prune,
  restore: Restore,
  'restore-help': RestoreHelp,
  run: Run,
  serve: Serve,
  validate: Validate,
  verify: Verify,
};
