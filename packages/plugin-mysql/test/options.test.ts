import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';
import { connectionUrlProblem, describeSettings, parseConnectionUrl, urlWithDatabase } from '../src/connection-url.js';
import { buildDumpArgs, dumpArgsProblem } from '../src/dump-args.js';
import { explainDumpFailure } from '../src/dump-errors.js';
import { jobLockName } from '../src/job-lock.js';
import { optionFileText } from '../src/option-file.js';
import { scratchDatabaseName } from '../src/mysql-restore.js';
import { parseServerVersion, parseToolVersion } from '../src/server-version.js';
import { toolMismatch } from '../src/find-tool.js';
import { silentlyMissing } from '../src/dump-privileges.js';
import { clientError } from '../src/restore-process.js';

const PASSWORD = 'p@ss "w" \\ #1';
const URL = `mysql://shop:${encodeURIComponent(PASSWORD)}@db.internal:3307/shop_main`;

describe('connection URL', () => {
  it('reads host, port, user, password and database; the password is a secret in both forms', () => {
    expect(parseConnectionUrl(URL)).toEqual({
      host: 'db.internal',
      port: 3307,
      user: 'shop',
      password: PASSWORD,
      database: 'shop_main',
      secrets: [PASSWORD, encodeURIComponent(PASSWORD)],
    });
    expect(parseConnectionUrl('mariadb://u:p@[::1]/d')).toMatchObject({ host: '::1', port: 3306 });
    expect(describeSettings(parseConnectionUrl(URL))).toBe('db.internal:3307/shop_main');
    expect(urlWithDatabase(URL, 'crm')).toBe(`mysql://shop:${encodeURIComponent(PASSWORD)}@db.internal:3307/crm`);
  });

  it('says what is wrong with a URL in one line, never quoting it', () => {
    expect(connectionUrlProblem('postgres://u:p@h/d')).toBe('url must start with mysql:// or mariadb://');
    expect(connectionUrlProblem('mysql://h/d')).toMatch(/names no user/);
    expect(connectionUrlProblem('mysql://u:p@h/d?ssl=true')).toMatch(/query parameters/);
    expect(connectionUrlProblem('mysql://u:p@h/a/b')).toMatch(/more than one path segment/);
    expect(connectionUrlProblem(`mysql://u:p@h/${'x'.repeat(65)}`)).toMatch(/longer than 64/);
  });

  it('checkOptions wants a database unless the job backs up a whole server', () => {
    const base = { url: 'mysql://u:p@h/', retryAttempts: 1, retryDelaySeconds: 0, dumpPath: '', args: [] };
    expect(plugin.checkOptions?.(base)).toMatch(/^url names no database/);
    expect(plugin.checkOptions?.({ ...base, databases: 'all' })).toBeUndefined();
    expect(plugin.checkOptions?.({ ...base, url: 'mysql://u:p@h/d', args: ['--host=x'] })).toMatch(/^args may not set --host/);
  });
});

describe('dump arguments', () => {
  const mariadb = parseServerVersion('10.11.19-MariaDB-0+deb12u1')!;
  const mysql = parseServerVersion('8.0.36')!;

  it('take a consistent snapshot without locks, with routines, triggers, events, hex BLOBs; the database last', () => {
    expect(buildDumpArgs('shop', ['--skip-extended-insert'], parseToolVersion('mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB'), mariadb)).toEqual([
      '--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4', '--no-tablespaces',
      '--skip-extended-insert', '--', 'shop',
    ]);
    expect(buildDumpArgs('shop', [], parseToolVersion('mysqldump  Ver 8.0.36 for Linux on x86_64'), mysql)).toContain('--set-gtid-purged=OFF');
  });

  it('refuse options that would move the output, the connection or the database', () => {
    for (const arg of ['-r', '--result-file=x', '--user=root', '-p', '--databases', '--all-databases', '--defaults-file=/x']) {
      expect(dumpArgsProblem([arg])).toMatch(/^args may not set/);
    }
    expect(dumpArgsProblem(['other_db'])).toMatch(/only hold options/);
    expect(dumpArgsProblem(['--ignore-table=shop.log', '--skip-comments'])).toBeUndefined();
  });

  it("explain the tool's failures in one line: a missing privilege, a wrong password, an unknown database", () => {
    expect(explainDumpFailure("mariadb-dump: Couldn't execute 'show events': Access denied for user 'app'@'%' to database 'app' (1044)")).toEqual({
      message: "the account lacks a privilege the dump needs: Couldn't execute 'show events': Access denied for user 'app'@'%' to database 'app' (1044)",
      hint: expect.stringContaining('GRANT SELECT, SHOW VIEW, TRIGGER, EVENT'),
    });
    expect(explainDumpFailure('mysqldump: Got error: 1045: "Access denied for user \'a\'@\'h\' (using password: YES)" when trying to connect')?.message).toMatch(
      /^the server refused the login/,
    );
    expect(explainDumpFailure('mariadb-dump: Got error: 1049: "Unknown database \'x\'" when selecting the database')?.message).toMatch(/^unknown database/);
    expect(explainDumpFailure('something else')).toBeUndefined();
  });
});

describe('tools and versions', () => {
  it('reads server and tool versions of both engines', () => {
    expect(parseServerVersion('10.11.19-MariaDB-0+deb12u1')).toEqual({ flavor: 'MariaDB', major: 10, minor: 11, text: '10.11.19' });
    expect(parseServerVersion('8.4.0-log')).toEqual({ flavor: 'MySQL', major: 8, minor: 4, text: '8.4.0' });
    expect(parseToolVersion('mariadb-dump from 11.4.2-MariaDB, client 10.19 for debian-linux-gnu')).toMatchObject({ flavor: 'MariaDB', text: '11.4.2' });
    expect(parseToolVersion('mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)')).toMatchObject({ flavor: 'MySQL', text: '8.0.36' });
  });

  it('refuse a MySQL tool for MariaDB, and an older major version of the same engine', () => {
    const mysql8 = parseServerVersion('8.0.36')!;
    const mariadb = parseServerVersion('10.11.19-MariaDB')!;
    expect(toolMismatch(parseToolVersion('mysqldump  Ver 8.0.36 for Linux'), mariadb)).toMatch(/do not know MariaDB/);
    expect(toolMismatch(parseToolVersion('mysqldump  Ver 5.7.44 for Linux'), mysql8)).toMatch(/older than the server/);
    expect(toolMismatch(parseToolVersion('mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB'), mysql8)).toBeUndefined();
    expect(toolMismatch(parseToolVersion('mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB'), mariadb)).toBeUndefined();
  });
});

describe('names and files', () => {
  it('the option file quotes the password for the client', () => {
    expect(optionFileText(parseConnectionUrl(URL))).toBe(
      '[client]\nuser="shop"\npassword="p@ss \\"w\\" \\\\ #1"\nhost="db.internal"\nport=3307\nprotocol=TCP\n',
    );
  });

  it('lock names fit GET_LOCK (64 characters) and differ by database and job', () => {
    const name = jobLockName('shop_main', 'shop');
    expect(name).toMatch(/^backupctl:[0-9a-f]{40}$/);
    expect(jobLockName('shop_main', 'other')).not.toBe(name);
    expect(jobLockName('other', 'shop')).not.toBe(name);
  });

  it('scratch database names fit 64 characters', () => {
    const now = new Date(Date.UTC(2026, 1, 1, 3, 15));
    expect(scratchDatabaseName('shop', now, 'k3x9')).toBe('shop_verify_20260201_031500_k3x9');
    expect(scratchDatabaseName('x'.repeat(64), now, 'k3x9')).toHaveLength(64);
  });
});

describe('privileges the dump tools need but do not check', () => {
  const mariadb = parseServerVersion('10.11.19-MariaDB')!;
  const mysql8 = parseServerVersion('8.0.36')!;

  it('names triggers and routines the account would silently leave out', () => {
    const grants = ["GRANT USAGE ON *.* TO `bk`@`%` IDENTIFIED BY PASSWORD '*87'", 'GRANT SELECT, SHOW VIEW, EVENT ON `shop`.* TO `bk`@`%`'];
    expect(silentlyMissing(grants, 'shop', mariadb)).toEqual(['triggers (grant TRIGGER ON `shop`.*)', 'routines (grant SELECT ON mysql.proc)']);
    expect(silentlyMissing(grants, 'shop', mysql8)).toEqual(['triggers (grant TRIGGER ON `shop`.*)', 'routines (grant SHOW_ROUTINE ON *.*)']);
  });

  it('accepts grants through patterns, roles listed by SHOW GRANTS, ALL PRIVILEGES and global SELECT', () => {
    expect(
      silentlyMissing(['GRANT SELECT, SHOW VIEW, EVENT ON `sho%`.* TO `bk`@`%`', 'GRANT SELECT ON `mysql`.`proc` TO `bk`@`%`', 'GRANT TRIGGER ON `shop`.* TO `r1`'], 'shop', mariadb),
    ).toEqual([]);
    expect(silentlyMissing(["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED BY PASSWORD '*1' WITH GRANT OPTION"], 'shop', mariadb)).toEqual([]);
    expect(silentlyMissing(['GRANT SELECT, TRIGGER ON *.* TO `bk`@`%`'], 'shop', mysql8)).toEqual([]);
    // `_` is a wildcard in a grant's database unless escaped.
    expect(silentlyMissing(['GRANT TRIGGER ON `shop\\_main`.* TO `bk`@`%`', 'GRANT SELECT ON *.* TO `bk`@`%`'], 'shopxmain', mariadb)).toEqual(['triggers (grant TRIGGER ON `shopxmain`.*)']);
  });
});

describe("the client's failure", () => {
  it('is its ERROR line, without the statement it echoes, and never megabytes long', () => {
    const statement = `INSERT INTO \`t\` VALUES (1,0x${'AB'.repeat(100_000)})`;
    expect(clientError(`--------------\n${statement}\n--------------\n\nERROR 1064 (42000) at line 7: You have an error in your SQL syntax near 'x' at line 1`)).toBe(
      "ERROR 1064 (42000) at line 7: You have an error in your SQL syntax near 'x' at line 1",
    );
    expect(clientError(`mariadb: unknown option '--x'\n${'y'.repeat(2000)}`)).toMatch(/^mariadb: unknown option '--x' y{400,}\.\.\. \(\d+ more characters\)$/);
  });
});
