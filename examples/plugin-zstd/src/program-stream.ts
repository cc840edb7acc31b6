import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** A program that filters stdin to stdout, and how to explain its failures. */
export interface Program {
  command: string;
  args: string[];
  /** The error for a program that could not be started (ENOENT, EACCES). */
  startError(error: NodeJS.ErrnoException): Error;
  /** The error for a program that exited non-zero or was killed; `stderr` is the end of what it printed. */
  exitError(code: number | null, signal: NodeJS.Signals | null, stderr: string): Error;
}

const STDERR_KEPT = 2048;

/**
 * Runs a program as a stream: what is written goes to its stdin, its stdout
 * comes out. The readable side ends only after the program exited 0, so a
 * program that fails at the last byte (a corrupt frame, a full disk) makes
 * the stream error instead of ending cleanly, and backupctl never commits
 * its output. Backpressure holds both ways through the pipes; destroying the
 * stream kills the program.
 */
export function programStream(program: Program): Duplex {
  const child = spawn(program.command, program.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let exited = false;

  const stream = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      if (child.stdin.write(chunk)) callback();
      else child.stdin.once('drain', () => callback());
    },
    final(callback) {
      child.stdin.end();
      callback();
    },
    read() {
      child.stdout.resume();
    },
    destroy(error, callback) {
      if (!exited) child.kill('SIGTERM');
      callback(error);
    },
  });

  child.stdout.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) child.stdout.pause();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_KEPT);
  });
  // The program closing its stdin early (EPIPE) is reported by its exit status below.
  child.stdin.on('error', () => undefined);
  child.on('error', (error) => stream.destroy(program.startError(error)));
  // 'close' comes after stdout was fully read, so every byte was pushed before the end.
  child.on('close', (code, signal) => {
    exited = true;
    if (code === 0) stream.push(null);
    else if (!stream.destroyed) stream.destroy(program.exitError(code, signal, stderr.trim()));
  });
  return stream;
}
