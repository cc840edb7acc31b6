import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', server: 'src/server/index.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', server: 'src/server/index.ts' } },
  clean: true,
  target: 'node20',
  sourcemap: true,
});
