// The CLI's command table (oclif's explicit strategy: one bundle, no
// directory scan at start-up). Commands are thin: they parse flags and call
// the library in src/config and src/engine.
import Run from './commands/run.js';
import Validate from './commands/validate.js';

export const commands = {
  run: Run,
  validate: Validate,
};
