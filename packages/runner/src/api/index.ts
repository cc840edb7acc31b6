export * from './context.js';
export * from './errors.js';
export * from './plugin.js';
export * from './store.js';
// One TypeBox for the runner and every plugin, so schemas built by a plugin
// are the same kind of object the runner validates.
export { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
