import { quoteIdentifier, type PostgresClient } from './postgres-client.js';

/**
 * What two databases must share to be "the same" after a backup and restore:
 * every user table's row count and content hash, every sequence's value and
 * every view's definition. Compare two with `expect(a).toEqual(b)`.
 */
export interface DatabaseFingerprint {
  /** `schema.table` -> row count and md5 of all rows (as text, in a fixed order). */
  tables: Record<string, { rows: number; md5: string }>;
  /** `schema.sequence` -> last_value (null when never used). */
  sequences: Record<string, string | null>;
  /** `schema.view` -> its definition as PostgreSQL prints it. */
  views: Record<string, string>;
}

type Database = Pick<PostgresClient, 'psql' | 'query'>;

// Text that dumps and restores must carry byte for byte: accents, CJK,
// Cyrillic, emoji (outside the BMP), and what COPY escapes (tab, newline,
// backslash, a line that is only "\.").
const NAMES = `ARRAY['Zoë Faÿ', '山田 太郎', 'Émile Brontë', 'Ana 🦊 Lima', 'Søren Ærø', 'Дмитрий Иванов', 'Nguyễn Văn Ánh', '김민준']`;
const TRICKY_TEXT = String.raw`E'quotes '' and " , back\\slash, tab\there,\nsecond line\n\\.\nend'`;

/**
 * Fills `database` like the Clara app database: users (identity key, NULLs,
 * bytea with non-UTF-8 bytes, jsonb settings), conversations and messages
 * (bigserial), invoices numbered by an explicit sequence set well past the
 * highest number, an audit schema, and two views. Deterministic: the same
 * call always writes the same rows.
 */
export async function seedClaraDatabase(cluster: Database, database: string): Promise<void> {
  await cluster.psql(
    database,
    `
BEGIN;
CREATE TABLE users (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  display_name text NOT NULL,
  bio text,
  balance numeric(12,2) NOT NULL DEFAULT 0,
  avatar bytea,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz
);
INSERT INTO users (email, display_name, bio, balance, avatar, settings, created_at, last_seen_at)
SELECT 'user' || i || '@example.com',
       (${NAMES})[1 + i % 8] || ' #' || i,
       CASE WHEN i % 5 = 0 THEN NULL WHEN i % 5 = 1 THEN '' ELSE ${TRICKY_TEXT} || repeat('✓', i % 4) END,
       (i * 1234.567 % 100000)::numeric(12,2),
       CASE WHEN i % 7 = 0 THEN NULL ELSE decode('00fffe80c328', 'hex') || int4send(i) END,
       jsonb_build_object('theme', CASE WHEN i % 2 = 0 THEN 'dark' ELSE 'light' END,
                          'lang', (ARRAY['en', 'fr', 'ja', 'pt'])[1 + i % 4],
                          'tags', jsonb_build_array('β', i, i % 3 = 0),
                          'greeting', '¡Hola! 👋 こんにちは'),
       timestamptz '2025-01-01 00:00:00+00' + i * interval '37 minutes 13.25 seconds',
       CASE WHEN i % 3 = 0 THEN NULL ELSE timestamptz '2026-01-15 12:00:00+00' - i * interval '1 hour' END
FROM generate_series(1, 300) AS i;

CREATE TABLE conversations (
  id bigserial PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users (id),
  title text,
  started_at timestamptz NOT NULL
);
INSERT INTO conversations (user_id, title, started_at)
SELECT 1 + i % 300,
       CASE WHEN i % 4 = 0 THEN NULL ELSE 'Sujet n°' || i || ' — ' || (${NAMES})[1 + i % 8] END,
       timestamptz '2025-06-01 08:00:00+02' + i * interval '5 hours 3 minutes'
FROM generate_series(1, 400) AS i;

CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  conversation_id bigint NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
  content text NOT NULL,
  tokens integer,
  cost numeric(10,6),
  created_at timestamptz NOT NULL
);
INSERT INTO messages (conversation_id, role, content, tokens, cost, created_at)
SELECT 1 + i % 400,
       (ARRAY['user', 'assistant', 'system'])[1 + i % 3],
       CASE WHEN i % 11 = 0 THEN ${TRICKY_TEXT} ELSE 'Message ' || i || ': ' || repeat('ça va? 好的 ', 1 + i % 5) END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE 10 + i % 500 END,
       CASE WHEN i % 6 = 0 THEN NULL ELSE (i * 0.000731)::numeric(10,6) END,
       timestamptz '2025-06-01 08:00:00+00' + i * interval '17 minutes'
FROM generate_series(1, 1200) AS i;
-- Deleting leaves the bigserial's value above the highest id: a restore must keep it.
DELETE FROM messages WHERE id % 50 = 0;

CREATE SEQUENCE invoice_number_seq START 10000 INCREMENT 7;
CREATE TABLE invoices (
  number bigint PRIMARY KEY DEFAULT nextval('invoice_number_seq'),
  user_id integer REFERENCES users (id),
  amount numeric(12,2) NOT NULL,
  currency char(3) NOT NULL DEFAULT 'EUR',
  memo text,
  issued_at timestamptz NOT NULL
);
INSERT INTO invoices (user_id, amount, memo, issued_at)
SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE 1 + i % 300 END,
       (i * 19.99)::numeric(12,2),
       CASE WHEN i % 2 = 0 THEN NULL ELSE 'Facture ' || i || ' – merci ☕' END,
       timestamptz '2025-02-01 00:00:00+00' + i * interval '1 day'
FROM generate_series(1, 150) AS i;
-- Numbers already handed out elsewhere: the next invoice must get 50007, not the max + 7.
SELECT setval('invoice_number_seq', 50000);

CREATE SCHEMA audit;
CREATE TABLE audit.events (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  happened_at timestamptz NOT NULL,
  actor text,
  action text NOT NULL,
  detail jsonb,
  raw bytea
);
INSERT INTO audit.events (happened_at, actor, action, detail, raw)
SELECT timestamptz '2025-03-01 00:00:00+00' + i * interval '11 minutes',
       CASE WHEN i % 9 = 0 THEN NULL ELSE 'user' || (1 + i % 300) || '@example.com' END,
       (ARRAY['login', 'logout', 'export', 'délétion'])[1 + i % 4],
       CASE WHEN i % 4 = 0 THEN NULL ELSE jsonb_build_object('ip', '10.0.' || (i % 256) || '.' || (i % 7), 'ok', i % 5 <> 0) END,
       decode(md5(i::text), 'hex')
FROM generate_series(1, 500) AS i;

CREATE VIEW active_users AS
  SELECT id, email, display_name, last_seen_at FROM users WHERE last_seen_at IS NOT NULL;
CREATE VIEW audit.daily_activity AS
  SELECT date_trunc('day', happened_at) AS day, action, count(*) AS events
  FROM audit.events GROUP BY 1, 2;
COMMIT;
`,
  );
}

/**
 * Fills `database` like a mem0 vector-memory store: memories (uuid key, text,
 * jsonb metadata, float8[] embedding, the same embedding as raw float4 bytes,
 * a numeric score, a version from an explicit sequence), their history
 * (identity key), and a view. Deterministic.
 */
export async function seedMem0Database(cluster: Database, database: string): Promise<void> {
  await cluster.psql(
    database,
    `
BEGIN;
CREATE SEQUENCE memory_version_seq;
CREATE TABLE memories (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  memory text NOT NULL,
  hash char(32) NOT NULL,
  metadata jsonb,
  embedding float8[] NOT NULL,
  embedding_f32 bytea NOT NULL,
  score numeric(5,4),
  version bigint NOT NULL DEFAULT nextval('memory_version_seq'),
  created_at timestamptz NOT NULL,
  updated_at timestamptz
);
INSERT INTO memories (id, user_id, memory, hash, metadata, embedding, embedding_f32, score, created_at, updated_at)
SELECT md5('memory-' || i)::uuid,
       'user-' || (i % 17),
       (ARRAY['Prefers tea over coffee ☕', '住在东京', 'Allergic to peanuts 🥜', 'Parle français et español',
              'Birthday is 3 March', 'Работает инженером', ${TRICKY_TEXT}])[1 + i % 7] || ' (' || i || ')',
       md5('memory-text-' || i),
       CASE WHEN i % 6 = 0 THEN NULL
            ELSE jsonb_build_object('source', (ARRAY['chat', 'import', 'api'])[1 + i % 3],
                                    'confidence', round((0.5 + (i % 50) / 100.0)::numeric, 2),
                                    'labels', jsonb_build_array('mém', '🧠'), 'agent_id', NULL) END,
       ARRAY(SELECT sin(i * k * 0.1) FROM generate_series(1, 16) AS k ORDER BY k),
       (SELECT string_agg(float4send(sin(i * k * 0.1)::float4), ''::bytea ORDER BY k) FROM generate_series(1, 16) AS k),
       CASE WHEN i % 8 = 0 THEN NULL ELSE ((i % 10000) / 10000.0)::numeric(5,4) END,
       timestamptz '2025-04-01 00:00:00+00' + i * interval '2 hours 7 minutes',
       CASE WHEN i % 3 = 0 THEN NULL ELSE timestamptz '2025-12-24 23:59:59.999+00' - i * interval '1 minute' END
FROM generate_series(1, 400) AS i;
-- Versions handed out by deleted memories: the sequence stays ahead of the table.
SELECT setval('memory_version_seq', 4242);

CREATE TABLE memory_history (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  memory_id uuid NOT NULL REFERENCES memories (id),
  event text NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
  old_memory text,
  new_memory text,
  is_deleted boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);
INSERT INTO memory_history (memory_id, event, old_memory, new_memory, is_deleted, created_at)
SELECT md5('memory-' || (1 + i % 400))::uuid,
       (ARRAY['ADD', 'UPDATE', 'DELETE'])[1 + i % 3],
       CASE WHEN i % 3 = 0 THEN NULL ELSE 'avant: ' || i || ' ✗' END,
       CASE WHEN i % 3 = 2 THEN NULL ELSE 'après: ' || i || ' ✓' END,
       i % 3 = 2,
       timestamptz '2025-04-01 00:00:00+00' + i * interval '53 minutes'
FROM generate_series(1, 600) AS i;

CREATE VIEW user_memory_counts AS
  SELECT user_id, count(*) AS memories, max(updated_at) AS last_update FROM memories GROUP BY user_id;
COMMIT;
`,
  );
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/**
 * The fingerprint of `database`: every user table (all schemas but the
 * system ones), every sequence and every view. Rows are hashed as their text
 * form in byte order, so equal fingerprints mean equal contents.
 */
export async function tableFingerprints(cluster: Database, database: string): Promise<DatabaseFingerprint> {
  const tableList = await cluster.query<{ schema: string; name: string }>(
    database,
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMAS}
      ORDER BY 1, 2`,
  );
  const tables: DatabaseFingerprint['tables'] = {};
  for (const { schema, name } of tableList) {
    const [row] = await cluster.query<{ rows: number; md5: string }>(
      database,
      `SELECT count(*)::int AS rows,
              md5(coalesce(string_agg(fingerprint_row::text, E'\\n' ORDER BY fingerprint_row::text COLLATE "C"), '')) AS md5
         FROM ${quoteIdentifier(schema)}.${quoteIdentifier(name)} AS fingerprint_row`,
    );
    if (row) tables[`${schema}.${name}`] = { rows: row.rows, md5: row.md5 };
  }

  const sequences: DatabaseFingerprint['sequences'] = {};
  const sequenceRows = await cluster.query<{ schemaname: string; sequencename: string; last_value: string | null }>(
    database,
    `SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2`,
  );
  for (const { schemaname, sequencename, last_value } of sequenceRows) sequences[`${schemaname}.${sequencename}`] = last_value;

  const views: DatabaseFingerprint['views'] = {};
  const viewRows = await cluster.query<{ schemaname: string; viewname: string; definition: string }>(
    database,
    `SELECT schemaname, viewname, definition FROM pg_views
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  for (const { schemaname, viewname, definition } of viewRows) views[`${schemaname}.${viewname}`] = definition;

  return { tables, sequences, views };
}
