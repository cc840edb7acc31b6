import { describe, expect, it } from 'vitest';
import { parseMajorDirectory, parseServerVersionNum, parseToolVersion } from '../src/server-version.js';

describe('server and tool versions', () => {
  it('reads server_version_num', () => {
    expect(parseServerVersionNum('150018')).toEqual({ major: 15, text: '15.18' });
    expect(parseServerVersionNum('170000')).toEqual({ major: 17, text: '17.0' });
    expect(parseServerVersionNum('90624')).toEqual({ major: 9.6, text: '9.6.24' });
    expect(parseServerVersionNum('15.18')).toBeUndefined();
  });

  it("reads a client program's --version", () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n')).toEqual({ major: 15, text: '15.18' });
    expect(parseToolVersion('pg_dump (PostgreSQL) 17beta1')).toEqual({ major: 17, text: '17' });
    expect(parseToolVersion('pg_dump (PostgreSQL) 9.6.24')).toEqual({ major: 9.6, text: '9.6.24' });
    expect(parseToolVersion('no version here')).toBeUndefined();
  });

  it('reads versioned directory names', () => {
    expect(parseMajorDirectory('16')).toBe(16);
    expect(parseMajorDirectory('9.6')).toBe(9.6);
    expect(parseMajorDirectory('common')).toBeUndefined();
  });
});
