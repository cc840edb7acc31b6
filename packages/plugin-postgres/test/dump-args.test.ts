import { describe, expect, it } from 'vitest';
import { buildDumpArgs, dumpOption, validateDumpArgs, withoutDumpOption } from '../src/dump-args.js';

function refusal(args: string[]): string {
  try {
    validateDumpArgs(args);
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be refused`);
}

describe('validateDumpArgs', () => {
  it.each([
    [[]],
    [['--no-owner', '--no-privileges']],
    [['--exclude-table=audit_log']],
    [['--exclude-table', 'audit_log', '--schema', 'public']],
    [['-t', 'users', '-Tlogs', '-Z0', '-n', 'public']],
    [['-Ox', '--if-exists', '--clean']],
    [['--exclude-table-data', 'events', '--role', 'backup']],
    [['--no-password']],
  ])('accepts %j', (args) => {
    expect(() => validateDumpArgs(args)).not.toThrow();
  });

  it.each([
    [['-f', 'out.sql'], '-f (--file)'],
    [['-fout.sql'], '-f (--file)'],
    [['--file=out.sql'], '--file'],
    [['--file', 'out.sql'], '--file'],
    [['--fil=out.sql'], '--file'],
    [['-d', 'other'], '-d (--dbname)'],
    [['--dbname=other'], '--dbname'],
    [['-h', 'evil'], '-h (--host)'],
    [['--host=evil'], '--host'],
    [['-p', '6543'], '-p (--port)'],
    [['--port=6543'], '--port'],
    [['-U', 'admin'], '-U (--username)'],
    [['--username', 'admin'], '--username'],
    [['-Fc'], '-F (--format)'],
    [['--format=custom'], '--format'],
    [['-W'], '-W (--password)'],
    [['--password'], '--password'],
    [['-Ocf', 'x'], '-f (--file)'],
    [['--version'], '--version'],
    [['-V'], '-V (--version)'],
    [['--help'], '--help'],
  ])('refuses %j', (args, what) => {
    expect(refusal(args)).toContain(`: ${what} is not allowed`);
  });

  it('refuses a positional argument without echoing it (pg_dump would dump that database)', () => {
    const message = refusal(['--no-owner', 'postgresql://admin:hunter2@evil/db']);
    expect(message).toContain('args[1]: a positional argument');
    expect(message).not.toContain('hunter2');
    expect(refusal(['--', 'other'])).toContain('args[1]');
    expect(refusal(['-'])).toContain('args[0]');
  });

  it('does not take an option value for a positional argument', () => {
    expect(() => validateDumpArgs(['-t', 'not_a_database'])).not.toThrow();
    expect(refusal(['-tusers', 'other'])).toContain('args[1]: a positional argument');
    expect(refusal(['--no-owner', 'other'])).toContain('args[1]: a positional argument');
  });
});

describe('buildDumpArgs', () => {
  it('never prompts, sets the format, then the extras, and carries no connection', () => {
    expect(buildDumpArgs('plain', ['--no-owner'])).toEqual(['--no-password', '--format=plain', '--no-owner']);
    expect(buildDumpArgs('custom', [])).toEqual(['--no-password', '--format=custom']);
  });
});

describe('dumpOption and withoutDumpOption', () => {
  it('reads --snapshot as pg_dump would: with = or the next argument, abbreviated, the last one winning', () => {
    expect(dumpOption(['--no-owner'], 'snapshot')).toBeUndefined();
    expect(dumpOption(['--snapshot=00000003-0000001B-1'], 'snapshot')).toBe('00000003-0000001B-1');
    expect(dumpOption(['--snapshot', 'A', '--no-owner'], 'snapshot')).toBe('A');
    expect(dumpOption(['--snap=A', '--sn', 'B'], 'snapshot')).toBe('B');
    // `--s` would be ambiguous to pg_dump (--schema, --section, ...): not taken for it.
    expect(dumpOption(['--s=A'], 'snapshot')).toBeUndefined();
  });

  it('finds and removes --serializable-deferrable, however abbreviated', () => {
    expect(dumpOption(['--ser'], 'serializable-deferrable')).toBe('');
    expect(dumpOption(['--section=data'], 'serializable-deferrable')).toBeUndefined();
    expect(withoutDumpOption(['--no-owner', '--serializable', '--serializable-deferrable', '--section=data'], 'serializable-deferrable')).toEqual([
      '--no-owner',
      '--section=data',
    ]);
  });
});
