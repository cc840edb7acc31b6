import { createHash } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import type { MariadbServer } from './mariadb.js';

// A shop database for the mysql source's tests and bench: what a dump must
// carry over besides plain rows. utf8mb4 text (emoji), JSON, BLOBs holding
// every byte, generated columns (virtual and stored), foreign keys, a view,
// a trigger filling an audit table, a procedure and a function, an event,
// an empty table, and a table whose name and column need quoting (a
// backquote, spaces, accented letters) holding values that look like SQL.

/** The table with the odd name, as the catalog names it. */
export const ODD_TABLE = 'odd `name` éü table';

const quote = (name: string) => `\`${name.replaceAll('`', '``')}\``;

const SCHEMA = `
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  email VARCHAR(200) NOT NULL UNIQUE,
  profile JSON,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  quantity INT NOT NULL,
  total DECIMAL(12,2) AS (price * quantity) VIRTUAL,
  note TEXT,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB;
CREATE TABLE attachments (
  id INT AUTO_INCREMENT PRIMARY KEY,
  order_id INT NOT NULL,
  data LONGBLOB NOT NULL,
  size INT AS (LENGTH(data)) STORED,
  FOREIGN KEY (order_id) REFERENCES orders (id)
) ENGINE=InnoDB;
CREATE TABLE audit_log (
  id INT AUTO_INCREMENT PRIMARY KEY,
  action VARCHAR(40) NOT NULL,
  order_id INT NOT NULL
) ENGINE=InnoDB;
CREATE TABLE empty_things (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE ${quote(ODD_TABLE)} (
  id INT PRIMARY KEY,
  ${quote('value ;),( col')} TEXT
) ENGINE=InnoDB;
CREATE VIEW order_totals AS SELECT customer_id, COUNT(*) AS orders, SUM(total) AS spent FROM orders GROUP BY customer_id;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit_log (action, order_id) VALUES ('insert', NEW.id);
CREATE PROCEDURE add_order(IN customer INT, IN amount DECIMAL(10,2))
BEGIN
  INSERT INTO orders (customer_id, price, quantity, note) VALUES (customer, amount, 1, 'by procedure');
END;
CREATE FUNCTION customer_spent(customer INT) RETURNS DECIMAL(14,2) READS SQL DATA
  RETURN (SELECT COALESCE(SUM(total), 0) FROM orders WHERE customer_id = customer);
CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY DO DELETE FROM audit_log WHERE id < 0;
`;

/** Deterministic bytes (every value 0-255, quotes and backslashes included). */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed * 2654435761;
  for (let index = 0; index < length; index++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[index] = state >>> 24;
  }
  return out;
}

export interface ShopSize {
  customers: number;
  /** Orders per customer. */
  ordersPerCustomer: number;
  attachments: number;
  /** Bytes per attachment. */
  attachmentBytes: number;
}

/** The size the e2e tests seed: small, but every kind of object. */
export const SMALL_SHOP: ShopSize = { customers: 120, ordersPerCustomer: 3, attachments: 25, attachmentBytes: 20_000 };

/** Creates `database` and fills it (see the top of this file). */
export async function seedShopDatabase(server: MariadbServer, database: string, size: ShopSize = SMALL_SHOP): Promise<void> {
  await server.query(`CREATE DATABASE ${quote(database)} CHARACTER SET utf8mb4`);
  const connection = await server.connect(database);
  try {
    await connection.query(SCHEMA);
    const batch = 500;
    for (let start = 1; start <= size.customers; start += batch) {
      const rows: unknown[][] = [];
      for (let id = start; id < Math.min(start + batch, size.customers + 1); id++) {
        rows.push([
          `Ana 🦊 Lima #${id} — "quoted" it's \\ back`,
          `customer${id}@example.com`,
          JSON.stringify({ tier: id % 3, tags: ['a', `t${id}`], note: 'ünïcödé 🎉', nested: { paren: '),(', semi: ';' } }),
          new Date(Date.UTC(2026, 0, 1, 0, 0, id % 60, id % 1000)),
        ]);
      }
      await connection.query('INSERT INTO customers (name, email, profile, created_at) VALUES ?', [rows]);
      const orders: unknown[][] = [];
      for (const [index] of rows.entries()) {
        for (let n = 0; n < size.ordersPerCustomer; n++) {
          orders.push([start + index, ((start + index) * 7 + n) / 4, n + 1, n === 0 ? null : `order ${n} for ${start + index}: 'x'),(y;\n2nd line`]);
        }
      }
      await connection.query('INSERT INTO orders (customer_id, price, quantity, note) VALUES ?', [orders]);
    }
    for (let id = 1; id <= size.attachments; id++) {
      await connection.query('INSERT INTO attachments (order_id, data) VALUES (?, ?)', [id, bytes(id, size.attachmentBytes)]);
    }
    await connection.query(`INSERT INTO ${quote(ODD_TABLE)} VALUES ?`, [
      [
        [1, "it's ),( a trap;"],
        [2, 'back\\slash\\'],
        [3, null],
        [4, 'INSERT INTO `x` VALUES (1),(2);'],
        [5, '🦊 émoji'],
      ],
    ]);
    await connection.query('CALL add_order(1, 9.99)');
  } finally {
    await connection.end();
  }
}

/** What must survive a backup and restore, per object; the database's own name is taken out of definitions. */
export interface ShopFingerprint {
  /** Table -> `<rows>:<SHA-256 of its rows in primary key order>`. */
  tables: Record<string, string>;
  /** Table -> SHOW CREATE TABLE. */
  definitions: Record<string, string>;
  views: Record<string, string>;
  triggers: Record<string, string>;
  routines: Record<string, string>;
  events: Record<string, string>;
}

/** Every table's rows hashed in primary key order, and the definitions of everything else (see ShopFingerprint). */
export async function shopFingerprint(server: MariadbServer, database: string): Promise<ShopFingerprint> {
  const connection = await server.connect(database);
  const strip = (text: unknown) => String(text).replaceAll(`\`${database}\`.`, '').replaceAll(database, '<db>');
  const byName = (rows: RowDataPacket[], name: string, value: string) =>
    Object.fromEntries(rows.map((row) => [String(row[name]), strip(row[value])]));
  try {
    const [tables] = await connection.query<RowDataPacket[]>(
      "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1",
      [database],
    );
    const fingerprint: ShopFingerprint = { tables: {}, definitions: {}, views: {}, triggers: {}, routines: {}, events: {} };
    for (const { name } of tables as Array<{ name: string }>) {
      const [rows] = await connection.query<RowDataPacket[]>(`SELECT * FROM ${quote(name)} ORDER BY 1`);
      const hash = createHash('sha256');
      for (const row of rows) {
        hash.update(JSON.stringify(Object.values(row).map((value) => (Buffer.isBuffer(value) ? value.toString('hex') : value instanceof Date ? value.toISOString() : value))));
        hash.update('\n');
      }
      fingerprint.tables[name] = `${rows.length}:${hash.digest('hex')}`;
      const [created] = await connection.query<RowDataPacket[]>(`SHOW CREATE TABLE ${quote(name)}`);
      fingerprint.definitions[name] = strip(created[0]?.['Create Table']);
    }
    const [views] = await connection.query<RowDataPacket[]>('SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?', [database]);
    fingerprint.views = byName(views, 'TABLE_NAME', 'VIEW_DEFINITION');
    const [triggers] = await connection.query<RowDataPacket[]>(
      'SELECT TRIGGER_NAME, CONCAT(ACTION_TIMING, " ", EVENT_MANIPULATION, " ", EVENT_OBJECT_TABLE, ": ", ACTION_STATEMENT) AS body FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?',
      [database],
    );
    fingerprint.triggers = byName(triggers, 'TRIGGER_NAME', 'body');
    const [routines] = await connection.query<RowDataPacket[]>(
      'SELECT CONCAT(ROUTINE_TYPE, " ", ROUTINE_NAME) AS name, ROUTINE_DEFINITION FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?',
      [database],
    );
    fingerprint.routines = byName(routines, 'name', 'ROUTINE_DEFINITION');
    const [events] = await connection.query<RowDataPacket[]>(
      'SELECT EVENT_NAME, CONCAT(INTERVAL_VALUE, " ", INTERVAL_FIELD, ": ", EVENT_DEFINITION) AS body FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?',
      [database],
    );
    fingerprint.events = byName(events, 'EVENT_NAME', 'body');
    return fingerprint;
  } finally {
    await connection.end();
  }
}
