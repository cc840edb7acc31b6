import { writeFileSync } from 'node:fs';
import { startPostgres } from './test/harness/postgres.js';
import { startS3Server } from './test/harness/s3.js';
import { seedClaraDatabase, seedMem0Database } from './test/harness/seed.js';
const pg = await startPostgres();
const s3 = await startS3Server();
await pg.createDatabase('clara_main'); await pg.createDatabase('mem0');
await seedClaraDatabase(pg, 'clara_main'); await seedMem0Database(pg, 'mem0');
await s3.createBucket('manual-backups');
writeFileSync('/tmp/exp-restore/env.sh', [
  `export DATABASE_URL='${pg.url('clara_main')}'`, `export MEM0_DATABASE_URL='${pg.url('mem0')}'`,
  `export S3_BUCKET=manual-backups S3_ENDPOINT_URL=${s3.endpoint} S3_ACCESS_KEY=S3RVER S3_SECRET_KEY=S3RVER DB_RETRY_ATTEMPTS=1 FORCE_BACKUP=true`,
  `export PGURL_BASE='postgresql://postgres:${encodeURIComponent(pg.password)}@127.0.0.1:${pg.port}'`, `export PGBIN=${pg.binDir} PGPASSWORD='${pg.password}' PGHOST=127.0.0.1 PGPORT=${pg.port} PGUSER=postgres`, ''].join('\n'));
console.log('ready');
const stop = async () => { await s3.stop(); await pg.stop(); process.exit(0); };
process.on('SIGTERM', stop); process.on('SIGINT', stop);
setInterval(() => {}, 1 << 30);
