/** One line and a hint for what mariadb-dump / mysqldump said on failure. */
export interface DumpFailure {
  message: string;
  hint: string;
}

/** The privileges a backup account needs (docs/engines/mysql.md). */
export const DUMP_GRANT = 'GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON db.* TO the account (and SELECT ON mysql.proc on MariaDB, SHOW_ROUTINE ON *.* on MySQL, for routines)';

/**
 * The tool's own lines look like `mariadb-dump: Couldn't execute 'show
 * events': Access denied for user 'app'@'%' to database 'app' (1044)` or
 * `mariadb-dump: Got error: 1045: "Access denied ..." when trying to
 * connect`. The first such line, read for its error number: a missing
 * privilege, a wrong password, an unknown database, the server gone.
 */
export function explainDumpFailure(stderr: string): DumpFailure | undefined {
  const line = stderr.split('\n').find((text) => /^(mariadb-dump|mysqldump)(\.exe)?: /.test(text) && /\b\d{4}\b/.test(text));
  if (!line) return undefined;
  const said = line.replace(/^(mariadb-dump|mysqldump)(\.exe)?: /, '');
  const errno = Number(/(?:Got error: (\d{4}):|\((\d{4})\)\s*$)/.exec(said)?.slice(1).find(Boolean) ?? /\b(\d{4})\b/.exec(said)?.[1]);
  switch (errno) {
    case 1044: // ER_DBACCESS_DENIED_ERROR
    case 1142: // ER_TABLEACCESS_DENIED_ERROR
    case 1143: // ER_COLUMNACCESS_DENIED_ERROR
    case 1227: // ER_SPECIFIC_ACCESS_DENIED_ERROR (PROCESS, RELOAD, ...)
    case 1370: // ER_PROCACCESS_DENIED_ERROR
      return { message: `the account lacks a privilege the dump needs: ${said}`, hint: `${DUMP_GRANT} (see docs/engines/mysql.md)` };
    case 1045:
      return { message: `the server refused the login: ${said}`, hint: 'check the user name and password in the URL' };
    case 1049:
      return { message: `unknown database: ${said}`, hint: 'create the database, or fix its name in the URL' };
    case 2002:
    case 2003:
    case 2006:
    case 2013:
      return { message: `lost the server: ${said}`, hint: 'check that the database server is running and reachable; the next run retries' };
    default:
      return { message: said, hint: "read the dump tool's message" };
  }
}
