import { restoreHelpContext } from '@backupctl/plugin-api/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const PASSWORD = 'pw-Secret-9x';
const URL = `mysql://shop:${PASSWORD}@db.internal:3306/shop_main`;

function load(options: Record<string, unknown>, setting: { variables?: Record<string, string>; job?: string; partOf?: string } = {}, file = 'shop.sql') {
  return plugin.restoreHelp!.load(file, restoreHelpContext(plugin, { url: URL, ...options }, { job: 'shop', ...setting }));
}

describe('mysql restoreHelp', () => {
  it('writes a private option file, then loads with the mariadb client into the database, or a new one first', () => {
    const steps = load({}, { variables: { url: 'MYSQL_URL' } });
    expect(steps.ways.map((way) => way.commands)).toEqual([
      ["umask 077; printf '[client]\\nhost=%s\\nport=%s\\nuser=%s\\npassword=%s\\n' db.internal 3306 '<user>' '<password>' > restore.cnf"],
      ['mariadb --defaults-file=restore.cnf shop_main < shop.sql'],
      ["mariadb --defaults-file=restore.cnf -e 'CREATE DATABASE `shop_main_restore` CHARACTER SET utf8mb4'", 'mariadb --defaults-file=restore.cnf shop_main_restore < shop.sql'],
    ]);
    expect(steps.ways[1]?.text).toMatch(/not one transaction/);
    expect(steps.newTarget).toBe('"${MYSQL_URL%/*}/shop_main_restore"');
    expect(JSON.stringify(steps)).not.toContain(PASSWORD);
    expect(JSON.stringify(steps)).not.toContain('shop:');
  });

  it("a whole server's users part goes to the server; a database part into its own database", () => {
    const users = load({ dump: 'users' }, { job: 'users', partOf: 'server' });
    expect(users.ways.at(-1)?.commands).toEqual(['mariadb --defaults-file=restore.cnf < shop.sql']);
    expect(users.newTarget).toBeUndefined();
    const crm = load({ dump: 'database' }, { job: 'crm', partOf: 'server' });
    expect(crm.ways[1]?.commands).toEqual(['mariadb --defaults-file=restore.cnf crm < shop.sql']);
    expect(crm.newTarget).toBe('"<URL of the new crm_restore database>"');
  });
});
