#!/usr/bin/env node
// The AWS SDK prints a nine-line NodeVersionSupportWarning on Node 20 into
// every run's log. backupctl supports Node >= 20.19 and says in its README
// that the SDK's releases after January 2027 need Node 22; the CLI owns this
// process's output, so it keeps the log to its own lines unless the user set
// the variable themselves.
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
