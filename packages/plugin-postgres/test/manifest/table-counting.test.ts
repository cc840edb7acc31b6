import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { backupManifest } from '../../src/manifest/backup-manifest.js';
import { countInDumpSnapshot, countInPlainDump } from '../../src/manifest/table-counting.js';
import { recordingLogger } from '../fake-context.js';
import { SAMPLE_DUMP, SAMPLE_TABLES } from './sample-dump.js';

describe('countInPlainDump', () => {
  it('counts only once every byte passed, even when pg_dump was done before', async () => {
    const counting = countInPlainDump();
    const output = new PassThrough();
    const watched = counting.watch(output);
    output.end(SAMPLE_DUMP);
    const counted = counting.counted();
    expect(await text(watched)).toBe(SAMPLE_DUMP);
    expect(await counted).toEqual({ tables: SAMPLE_TABLES, rowCounts: 'exact', countedBy: "counted in the dump's COPY blocks" });
    expect(counting.dumpArgs(['--no-owner'])).toEqual(['--no-owner']);
  });

  it('says why there are no counts when the output broke off', async () => {
    const counting = countInPlainDump();
    const output = new PassThrough();
    const watched = counting.watch(output);
    watched.resume();
    output.destroy(new Error('pipe broke'));
    expect(await counting.counted()).toEqual({ countedBy: 'not counted: pipe broke' });
  });
});

describe('countInDumpSnapshot', () => {
  it('says why there are no counts when the snapshot could not be shared, and leaves pg_dump as it was', async () => {
    const counting = countInDumpSnapshot({ failed: new Error('connection refused') }, new AbortController().signal);
    expect(counting.dumpArgs(['--serializable-deferrable'])).toEqual(['--serializable-deferrable']);
    const output = new PassThrough();
    const watched = counting.watch(output);
    output.end('PGDMP');
    await text(watched);
    expect(await counting.counted()).toEqual({ countedBy: "not counted: the dump's snapshot could not be shared: connection refused" });
  });
});

describe('backupManifest', () => {
  const facts = { serverVersion: '15.18', dumpTool: 'pg_dump 15.18', format: 'plain SQL' };

  it('holds the facts, and the tables as counted', async () => {
    const counting = countInPlainDump();
    const output = new PassThrough();
    const watched = counting.watch(output);
    output.end('CREATE TABLE public.t (\n);\n');
    await text(watched);
    const logger = recordingLogger();
    expect(await backupManifest({ ...facts, databaseSize: 8192, counting, logger })).toEqual({
      engine: 'PostgreSQL',
      ...facts,
      databaseSize: 8192,
      tables: { 'public.t': 0 },
      rowCounts: 'exact',
      countedBy: "counted in the dump's COPY blocks",
    });
    expect(logger.lines).toEqual([]);
  });

  it('warns when the tables could not be counted, and has no tables for a dump without any (globals)', async () => {
    const counting = countInDumpSnapshot({ failed: new Error('too many connections') }, new AbortController().signal);
    const output = new PassThrough();
    const watched = counting.watch(output);
    output.end();
    await text(watched);
    const logger = recordingLogger();
    const manifest = await backupManifest({ ...facts, counting, logger });
    expect(manifest).toEqual({ engine: 'PostgreSQL', ...facts, countedBy: "not counted: the dump's snapshot could not be shared: too many connections" });
    expect(logger.lines.map((line) => [line.level, line.message])).toEqual([
      ['warn', "The backup's manifest has no row counts: not counted: the dump's snapshot could not be shared: too many connections"],
    ]);
    expect(await backupManifest({ ...facts, logger: recordingLogger() })).toEqual({ engine: 'PostgreSQL', ...facts });
  });
});
