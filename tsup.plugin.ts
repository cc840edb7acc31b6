import { defineConfig } from 'tsup';

/** The build every plugin package shares: src/index.ts to ESM + .d.ts, for Node 20+. */
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  target: 'node20',
  sourcemap: true,
});
