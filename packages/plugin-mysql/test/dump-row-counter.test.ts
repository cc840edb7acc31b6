import { describe, expect, it } from 'vitest';
import { DumpRowCounter } from '../src/dump-row-counter.js';

/** Counts `dump` fed in pieces of `size` bytes (1: every boundary is tried). */
function count(dump: string, size = Number.MAX_SAFE_INTEGER) {
  const counter = new DumpRowCounter();
  const bytes = Buffer.from(dump, 'utf8');
  for (let start = 0; start < bytes.length; start += size) counter.push(bytes.subarray(start, start + size));
  return counter.counts;
}

// As mariadb-dump 10.11 writes it: rows one per line, strings with backslash escapes, hex BLOBs.
const MARIADB = `/*M!999999\\- enable the sandbox mode */
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB
DROP TABLE IF EXISTS \`empty_t\`;
CREATE TABLE \`empty_t\` (
  \`id\` int(11) DEFAULT NULL
) ENGINE=InnoDB;
LOCK TABLES \`empty_t\` WRITE;
UNLOCK TABLES;
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER tr AFTER INSERT ON empty_t FOR EACH ROW
INSERT INTO \`log\` VALUES (1),(2) */;;
DELIMITER ;
DROP TABLE IF EXISTS \`odd \`\`name\`\` éü\`;
CREATE TABLE \`odd \`\`name\`\` éü\` (
  \`id\` int(11) NOT NULL COMMENT 'x(y)'
) ENGINE=InnoDB;
INSERT INTO \`odd \`\`name\`\` éü\` VALUES
(1,'a\\'b\\\\c 🦊 (x),(y);',0x00FF27,'{\\"a\\":[1,2]}',2),
(2,NULL,NULL,'line\\nINSERT INTO \`t\` VALUES (9);',4),
(3,'\\\\',NULL,'',5);
/*!40000 ALTER TABLE \`odd \`\`name\`\` éü\` ENABLE KEYS */;
CREATE TABLE \`t\` (\`id\` int);
INSERT INTO \`t\` VALUES
(1);
/*!50001 CREATE VIEW \`v\` AS SELECT 1 AS \`id\` */;
DELIMITER ;;
CREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`p\`()
BEGIN
INSERT INTO \`t\` VALUES (7),(8);
CREATE TABLE \`made_by_p\` (id int);
END ;;
DELIMITER ;
`;

// As MySQL's mysqldump writes it: each INSERT on one line, with a column list when asked (--complete-insert).
const MYSQL = [
  'CREATE TABLE `a` (`id` int, `note` text);',
  "INSERT INTO `a` VALUES (1,'x'),(2,'),('),(3,NULL);",
  "INSERT INTO `a` VALUES (4,'y');",
  // Long runs between escapes (crossed with indexOf) and dense ones (byte by byte).
  `INSERT INTO \`a\` VALUES (5,'${'x'.repeat(100)}\\'${'y'.repeat(100)}),(\\\\'),(6,'${'\\"k\\":1,'.repeat(40)}');`,
  'CREATE TABLE `b` (`id` int, `g` int);',
  "INSERT INTO `b` (`id`, `we(ird``)`) VALUES (1,2),(3,4);",
  `INSERT INTO \`b\` VALUES ${Array.from({ length: 500 }, (_, index) => `(${index},'row ${index}')`).join(',')};`,
  'INSERT IGNORE INTO `c` VALUES (1);',
  '',
].join('\n');

describe('DumpRowCounter', () => {
  it("counts mariadb-dump's rows, tables without rows as 0, and nothing in strings, views or routines", () => {
    const expected = { empty_t: 0, 'odd `name` éü': 3, t: 1 };
    expect(count(MARIADB)).toEqual(expected);
    // Whatever the chunk boundaries.
    for (const size of [1, 2, 3, 7, 64]) expect(count(MARIADB, size)).toEqual(expected);
  });

  it("counts mysqldump's one-line INSERTs, column lists and long lines", () => {
    const expected = { a: 6, b: 502, c: 1 };
    expect(count(MYSQL)).toEqual(expected);
    for (const size of [1, 2, 5, 33, 100, 2048, 4096]) expect(count(MYSQL, size)).toEqual(expected);
  });
});
