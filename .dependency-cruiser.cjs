// The layering of the packages, checked by `npm run layering` (part of `npm test`):
// arrows point one way. cli -> core -> plugin-api; plugins -> plugin-api;
// the cli loads the official plugins by their package entry; plugin-api ->
// nothing of ours and nothing heavy. With no arrow into the cli and none out
// of the plugin API, no cycle between packages can form.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'plugin-api-stands-alone',
      comment: 'The contract package depends on no other backupctl package: everything else points at it.',
      severity: 'error',
      from: { path: '^packages/plugin-api/src' },
      to: { path: '^(packages/(?!plugin-api/)|examples/)|node_modules/@backupctl/' },
    },
    {
      name: 'plugin-api-stays-light',
      comment: 'A plugin pulls in the contract and nothing heavier than the schema libraries (TypeBox, Ajv).',
      severity: 'error',
      from: { path: '^packages/plugin-api/src' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: 'node_modules/(@sinclair/typebox|ajv|fast-deep-equal|fast-uri|json-schema-traverse|require-from-string)/' },
    },
    {
      name: 'plugins-use-the-plugin-api-only',
      comment: 'An official or example plugin is written as a third party would write it: against @backupctl/plugin-api, never the runner or another plugin.',
      severity: 'error',
      from: { path: '^(packages|examples)/plugin-(?!api/)([^/]+)/src' },
      to: { path: '^(packages|examples)/(?!plugin-api/)[^/]+/|node_modules/@backupctl/(?!plugin-api/)', pathNot: '^$1/plugin-$2/' },
    },
    {
      name: 'core-names-no-plugin',
      comment: 'The core depends on the plugin API only: the CLI hands it the built-ins (PipelineHost).',
      severity: 'error',
      from: { path: '^packages/core/src' },
      to: { path: '^(packages/(?!core/|plugin-api/)|examples/)|node_modules/(backupctl/|@backupctl/(?!plugin-api/))' },
    },
    {
      name: 'cli-uses-plugins-by-their-entry',
      comment: 'The CLI loads the official plugins by package name (builtins.ts), never their files.',
      severity: 'error',
      from: { path: '^packages/cli/src' },
      to: { path: '^(packages|examples)/(plugin-[^/]+|core)/src' },
    },
    {
      name: 'no-cycles-in-core',
      comment: "No cycle between the core's modules (its folders are layers: config, plugins, backup, restore, catalog, parts, hooks).",
      severity: 'error',
      from: { path: '^packages/core/src' },
      to: { circular: true },
    },
    {
      name: 'no-cycles-between-core-folders',
      comment: "The core's folders are layers: no two of them import each other, even through types.",
      severity: 'error',
      scope: 'folder',
      from: { path: '^packages/core/src/[^/]+' },
      to: { circular: true },
    },
  ],
  options: {
    // Workspace packages resolve to their built dist/ through node_modules' links: seen, not followed.
    doNotFollow: { path: ['node_modules', '/dist/'] },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
  },
};
