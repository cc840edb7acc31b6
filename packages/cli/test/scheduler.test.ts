import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Secrets } from '@backupctl/plugin-api';
import { createLogger } from '../../core/src/log/logger.js';
import { checkSchedulePattern, startSchedule } from '../src/server/scheduler.js';

function logger() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ secrets: new Secrets(), write: (line) => lines.push(line) }) };
}

describe('startSchedule', () => {
  it('fires every second and never starts a run while the last is still going', async () => {
    const log = logger();
    let running = 0;
    let most = 0;
    const starts: number[] = [];
    const schedule = startSchedule({
      pattern: '* * * * * *',
      logger: log.logger,
      run: async () => {
        starts.push(Date.now());
        running += 1;
        most = Math.max(most, running);
        await sleep(1600);
        running -= 1;
      },
    });
    try {
      expect(schedule.nextRun()!.getTime() - Date.now()).toBeLessThanOrEqual(1000);
      await sleep(4300);
    } finally {
      schedule.stop();
    }
    expect(most).toBe(1);
    // Runs of 1.6 s on a 1 s schedule: ticks at t, t+1 (skipped), t+2, t+3 (skipped), t+4 start at most 3 runs.
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.length).toBeLessThanOrEqual(3);
    for (let index = 1; index < starts.length; index += 1) expect(starts[index]! - starts[index - 1]!).toBeGreaterThanOrEqual(1600);
    expect(log.lines.some((line) => line.includes('WARN: Scheduled backup skipped: the previous run (started '))).toBe(true);
    await sleep(1200);
    const after = starts.length;
    await sleep(1200);
    expect(starts.length).toBe(after);
  }, 15_000);

  it('reads patterns in UTC', () => {
    const schedule = startSchedule({ pattern: '0 3 * * *', logger: logger().logger, run: async () => undefined });
    try {
      const next = schedule.nextRun()!;
      expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([3, 0, 0]);
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600 * 1000);
    } finally {
      schedule.stop();
    }
  });

  it('rejects a pattern it cannot read as a usage error naming it', () => {
    expect(() => checkSchedulePattern('0 3 * *')).toThrow(/^invalid --schedule "0 3 \* \*": /);
    expect(() => checkSchedulePattern('61 * * * *')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => checkSchedulePattern('*/5 * * * *')).not.toThrow();
    expect(() => checkSchedulePattern('0 3 * *', 'verify')).toThrow(/^invalid --verify-schedule "0 3 \* \*": /);
  });

  it('names verifications in its log lines when it runs them', async () => {
    const log = logger();
    const schedule = startSchedule({ pattern: '* * * * * *', kind: 'verify', logger: log.logger, run: () => sleep(1300) });
    try {
      await sleep(2600);
    } finally {
      schedule.stop();
    }
    expect(log.lines.some((line) => line.includes('WARN: Scheduled verification skipped: the previous run (started '))).toBe(true);
    expect(log.lines.some((line) => / - Next verification at \d{4}-/.test(line))).toBe(true);
    expect(log.lines.join('\n')).not.toContain('backup');
  }, 10_000);
});
