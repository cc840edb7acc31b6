#!/usr/bin/env node
import module from 'node:module';
import { setFlagsFromString } from 'node:v8';

const nodeMajor = Number(process.versions.node.split('.')[0]);
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
// `run` and `serve` are what a container is sized for: their memory counts
// more than a few milliseconds of their start.
const sizedForMemory = command === 'run' || command === 'serve';

// Node >= 22.1 keeps V8's compiled code of the modules a command loads
// (oclif, the AWS SDK, pg, ajv: most of a start-up) on disk and reuses it on
// the next start: a restore, ls or verify starts ~70 ms sooner. Not for `run`
// and `serve`: the cache costs memory, and on Node 24 a backup's peak RSS
// was 133 MiB with it against 127 without (medians of 6 alternating runs,
// 2026-11-27), for 70 ms of its start. The cache lives in NODE_COMPILE_CACHE,
// else the OS temp dir; where it cannot be written Node carries on without
// it, silently. NODE_DISABLE_COMPILE_CACHE=1 turns it off. Absent on Node 20,
// where this is a no-op.
if (!sizedForMemory) module.enableCompileCache?.();

// The AWS SDK prints a nine-line NodeVersionSupportWarning on Node 20 into
// every run's log. backupctl supports Node >= 20.19 and says in its README
// that the SDK's releases after January 2027 need Node 22; the CLI owns this
// process's output, so it keeps the log to its own lines unless the user set
// the variable themselves.
if (nodeMajor < 22) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

// V8's young generation starts at 2 × 1 MiB and doubles, up to 2 × 16 MiB,
// while start-up loads modules; then it stays that size for the whole run.
// A backup keeps few short-lived objects, so that space is ~35 MiB of
// resident memory that `run` and `serve` (the commands a container is sized
// for) do not need. Keeping it at its first size takes a run's peak RSS from
// ~175 to ~128 MiB for a few percent more CPU (bench/); a restore, bound by
// psql's pace rather than memory, measured 200 ms more GC with it, so only
// the backup commands get it. V8 reads this flag whenever it grows the
// space, so it still works when set here, before the first module loads.
// Only on the Node majors it was measured on (an unknown flag would print a
// line on stderr), and never over the user's own --max-semi-space-size.
const userFlags = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
if (sizedForMemory && nodeMajor >= 20 && nodeMajor <= 24 && !userFlags.includes('semi-space')) {
  setFlagsFromString('--semi-space-growth-factor=1');
}

const { execute } = await import('@oclif/core/execute');
await execute({ dir: import.meta.url });
