import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'node20',
  sourcemap: true,
  // TypeBox is ~200 small ESM modules: resolving them took 40 ms of every
  // command's start-up; bundled, only the builders used remain, in one file.
  // Its kinds are global symbols (Symbol.for), so schemas built with a
  // plugin's own copy of TypeBox still check the same.
  noExternal: ['@sinclair/typebox'],
});
