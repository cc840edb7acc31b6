/**
 * The bench's S3 server in a process of its own, so the CPU it burns on the
 * shared cores can be read from /proc and reported apart from backupctl's.
 * Started by services.ts as `node --import tsx bench/s3-server.ts DIR`;
 * prints one JSON line with the connection, stops when its stdin closes.
 */
import { startS3Server } from '../test/harness/s3.js';

const directory = process.argv[2];
if (directory === undefined) throw new Error('usage: s3-server.ts DIRECTORY');

const server = await startS3Server({ directory });
const { endpoint, region, accessKeyId, secretAccessKey } = server;
process.stdout.write(`${JSON.stringify({ endpoint, region, accessKeyId, secretAccessKey })}\n`);

// The parent holds our stdin: when it exits (or closes it), so do we.
process.stdin.resume();
process.stdin.once('close', () => void server.stop().finally(() => process.exit(0)));
process.stdin.once('end', () => void server.stop().finally(() => process.exit(0)));
