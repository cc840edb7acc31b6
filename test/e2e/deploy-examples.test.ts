import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, seedClaraDatabase, startCli, testTempDir, uniqueName, usePostgres, useS3 } from '../harness/index.js';
import { checkSharedJobs, loadPipeline, planRun } from '../../packages/core/src/index.js';
import { cliHost } from '../../packages/cli/src/host.js';

// The deploy examples cannot run here (no container engine, no cluster), so
// their fields are checked, and the very backupctl invocations they make
// are run against the test database and S3 server.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLES = path.join(ROOT, 'examples');
const pg15 = usePostgres();
const s3 = useS3();
const s3Info = inject('s3');
const claraDb = uniqueName('clara_main');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are checked field by field */
const manifest = async (name: string): Promise<any> => parse(await readFile(path.join(EXAMPLES, 'kubernetes', name), 'utf8'));

interface Dockerfile {
  from: string[];
  run: string[];
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
}

/** The instructions this test checks, with continuation lines joined. */
async function readDockerfile(): Promise<Dockerfile> {
  const text = (await readFile(path.join(EXAMPLES, 'Dockerfile'), 'utf8')).replace(/\\\n/g, ' ');
  const result: Dockerfile = { from: [], run: [], entrypoint: [], cmd: [], env: {} };
  for (const line of text.split('\n')) {
    const [instruction, ...rest] = line.trim().split(/\s+/);
    const value = rest.join(' ');
    if (instruction === 'FROM') result.from.push(value);
    if (instruction === 'RUN') result.run.push(value);
    if (instruction === 'ENTRYPOINT') result.entrypoint = JSON.parse(value) as string[];
    if (instruction === 'CMD') result.cmd = JSON.parse(value) as string[];
    if (instruction === 'ENV') {
      const [name, envValue] = value.split('=');
      result.env[name!] = envValue!;
    }
  }
  return result;
}

/** The Secret's keys with this machine's values: what the pod's environment would hold. */
async function secretEnvironment(bucket: string): Promise<Record<string, string>> {
  const secret = await manifest('secret.example.yaml');
  const values: Record<string, string> = {
    DATABASE_URL: pg15.url(claraDb),
    S3_BUCKET: bucket,
    S3_ENDPOINT_URL: s3Info.endpoint,
    S3_ACCESS_KEY: s3Info.accessKeyId,
    S3_SECRET_KEY: s3Info.secretAccessKey,
    S3_REGION: s3Info.region,
  };
  const env: Record<string, string> = { DB_RETRY_ATTEMPTS: '1', FORCE_BACKUP: 'true' };
  for (const key of Object.keys(secret.stringData as object)) if (values[key] !== undefined) env[key] = values[key];
  return env;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function freshBucket(): Promise<string> {
  const bucket = uniqueName('deploy-test');
  await s3.createBucket(bucket);
  return bucket;
}

beforeAll(async () => {
  await pg15.createDatabase(claraDb);
  await seedClaraDatabase(pg15, claraDb);
});

describe('examples/Dockerfile', () => {
  it('builds on a current Node LTS slim image with Debian\'s postgresql-client, and runs `backupctl run`', async () => {
    const dockerfile = await readDockerfile();
    expect(dockerfile.from).toEqual(['node:${NODE_VERSION}-trixie-slim AS build', 'node:${NODE_VERSION}-trixie-slim']);
    const nodeVersion = /^ARG NODE_VERSION=(\d+)$/m.exec(await readFile(path.join(EXAMPLES, 'Dockerfile'), 'utf8'))?.[1];
    expect(['22', '24']).toContain(nodeVersion);
    expect(dockerfile.run.join('\n')).toMatch(/apt-get install -y --no-install-recommends postgresql-client;/);
    // The PGDG route for a newer server than Debian's client serves.
    expect(dockerfile.run.join('\n')).toMatch(/apt\.postgresql\.org\.sh -y; +apt-get install -y --no-install-recommends "postgresql-client-\$\{PG_MAJOR\}"/);
    expect(dockerfile.run).toContainEqual(expect.stringContaining('ln -s /app/packages/cli/bin/run.js /usr/local/bin/backupctl'));
    expect([...dockerfile.entrypoint, ...dockerfile.cmd]).toEqual(['backupctl', 'run']);
    expect(existsSync(path.join(EXAMPLES, 'Dockerfile.dockerignore'))).toBe(true);
  });

  it('its command, `backupctl run` with the reference environment, backs up', async () => {
    const dockerfile = await readDockerfile();
    const bucket = await freshBucket();
    const result = await runCli(dockerfile.cmd, { env: { ...(await secretEnvironment(bucket)), ...dockerfile.env } });
    expect(result.code).toBe(0);
    expect(await s3.listKeys(bucket, 'backups/')).toEqual([expect.stringMatching(/^backups\/clara\/clara_\d{8}_\d{6}\.sql\.gz$/)]);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^backupctl\/\d+\.\d+\.\d+ /);
  });
});

describe('examples/railway.json', () => {
  it('builds the Dockerfile and runs it daily at 03:00 UTC as a cron service that exits', async () => {
    const railway = JSON.parse(await readFile(path.join(EXAMPLES, 'railway.json'), 'utf8')) as any;
    expect(railway.build).toEqual({ builder: 'DOCKERFILE', dockerfilePath: 'examples/Dockerfile' });
    expect(existsSync(path.join(ROOT, railway.build.dockerfilePath as string))).toBe(true);
    expect(railway.deploy).toMatchObject({ cronSchedule: '0 3 * * *', restartPolicyType: 'NEVER' });
    // No start command: the image's `backupctl run`, tested above.
    expect(railway.deploy.startCommand).toBeUndefined();
  });
});

describe('examples/kubernetes', () => {
  it('the Secret holds the reference variables, each one the default pipeline reads', async () => {
    const secret = await manifest('secret.example.yaml');
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'backupctl-env' } });
    const pipeline = await readFile(path.join(EXAMPLES, 'clara-mem0.yml'), 'utf8');
    const keys = Object.keys(secret.stringData as object);
    expect(keys).toEqual(expect.arrayContaining(['DATABASE_URL', 'MEM0_DATABASE_URL', 'S3_BUCKET', 'S3_ENDPOINT_URL', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION']));
    for (const key of keys) expect(pipeline, key).toContain(`\${${key}`);
  });

  it('the CronJob runs daily at 03:00 UTC, never two at once, with the Secret as its environment', async () => {
    const cronJob = await manifest('cronjob.yaml');
    expect(cronJob).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob' });
    expect(cronJob.spec).toMatchObject({ schedule: '0 3 * * *', timeZone: 'Etc/UTC', concurrencyPolicy: 'Forbid' });
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(['Never', 'OnFailure']).toContain(pod.restartPolicy);
    const [container] = pod.containers;
    expect(container.envFrom).toEqual([{ secretRef: { name: (await manifest('secret.example.yaml')).metadata.name } }]);
    expect(container.command).toBeUndefined();
    expect(container.args[0]).toBe('run');
  });

  it('the CronJob\'s invocation backs up with JSON logs', async () => {
    const [container] = (await manifest('cronjob.yaml')).spec.jobTemplate.spec.template.spec.containers;
    const bucket = await freshBucket();
    const env = await secretEnvironment(bucket);
    for (const variable of container.env as { name: string; value: string }[]) env[variable.name] = variable.value;
    const result = await runCli(container.args as string[], { env });
    expect(result.code).toBe(0);
    const events = result.stderr.trim().split('\n').map((line) => (JSON.parse(line) as { event?: string }).event);
    expect(events).toContain('complete');
    expect(events.at(-1)).toBe('run-complete');
    expect(await s3.listKeys(bucket, 'backups/')).toHaveLength(1);
  });

  it('the Deployment runs one scheduler (Recreate) with liveness on /live and readiness on /ready at the port it serves', async () => {
    const deployment = await manifest('deployment.yaml');
    expect(deployment).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { replicas: 1, strategy: { type: 'Recreate' } } });
    const { spec } = deployment.spec.template;
    const [container] = spec.containers;
    expect(container.args.slice(0, 3)).toEqual(['serve', '--schedule', '0 3 * * *']);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'backupctl-env' } }]);
    const [port] = container.ports;
    expect(port).toEqual({ name: 'http', containerPort: 8080 });
    expect(container.env).toContainEqual({ name: 'PORT', value: String(port.containerPort) });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/live', port: port.name });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: port.name });
    expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/port': String(port.containerPort), 'prometheus.io/path': '/metrics' });
  });

  it('the Deployment\'s invocation answers its probes, and stops on SIGTERM', async () => {
    const [container] = (await manifest('deployment.yaml')).spec.template.spec.containers;
    const bucket = await freshBucket();
    const env = await secretEnvironment(bucket);
    for (const variable of container.env as { name: string; value: string }[]) env[variable.name] = variable.value;
    // The manifest's port, moved to a free one here: this machine may already use 8080.
    env.PORT = String(await freePort());
    const cli = startCli(container.args as string[], { env, timeoutMs: 60_000 });
    try {
      await cli.waitForOutput('"event":"scheduled"');
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        let status = 0;
        for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
          status = (await fetch(`http://127.0.0.1:${env.PORT}${probe.httpGet.path as string}`)).status;
          if (status !== 200) await sleep(100);
        }
        expect(status, probe.httpGet.path).toBe(200);
      }
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"event":"shutdown"');
  });
});

describe('examples/kubernetes: workers sharing a server (docs/scale-out.md)', () => {
  /** The ConfigMap and the CronJob of a workers example, and its pipeline loaded as `backupctl run` would. */
  async function workersExample(name: string, env: Record<string, string>) {
    const documents = parseAllDocuments(await readFile(path.join(EXAMPLES, 'kubernetes', name), 'utf8')).map((document) => document.toJS() as any);
    const configMap = documents.find((document) => document.kind === 'ConfigMap');
    const cronJob = documents.find((document) => document.kind === 'CronJob');
    const dir = await testTempDir('backupctl-workers-example-');
    const file = path.join(dir, 'backupctl.yml');
    await writeFile(file, configMap.data['backupctl.yml'] as string);
    const pipeline = await loadPipeline({ host: cliHost(), file, env });
    return { configMap, cronJob, file, pipeline };
  }

  const mebibytes = (quantity: string): number => {
    const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
    if (!match) throw new Error(`not a Mi/Gi quantity: ${quantity}`);
    return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
  };

  const s3Env = { S3_BUCKET: 'tenants', S3_ENDPOINT_URL: s3Info.endpoint, S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret' };

  for (const [name, env] of [
    ['workers-cronjob.yaml', { ...s3Env, SERVER_URL: 'postgresql://backup:pw@postgres:5432/postgres' }],
    ['cnpg-workers-cronjob.yaml', { ...s3Env, PGUSER: 'app', PGPASSWORD: 'pw', PGDATABASE: 'app' }],
  ] as const) {
    it(`${name}: parallel pods run \`run --worker\` on a valid pipeline that workers can share, in the memory its pods are given`, async () => {
      const { configMap, cronJob, file, pipeline } = await workersExample(name, env);
      expect(cronJob.spec).toMatchObject({ concurrencyPolicy: 'Forbid', jobTemplate: { spec: { completionMode: 'Indexed' } } });
      const job = cronJob.spec.jobTemplate.spec;
      expect(job.parallelism).toBeGreaterThan(1);
      expect(job.completions).toBe(job.parallelism);
      const pod = job.template.spec;
      const [container] = pod.containers;
      expect(container.args.slice(0, 3)).toEqual(['run', '/config/backupctl.yml', '--worker']);
      expect(pod.volumes).toContainEqual({ name: 'pipeline', configMap: { name: configMap.metadata.name } });
      expect(container.volumeMounts).toContainEqual(expect.objectContaining({ name: 'pipeline', mountPath: '/config' }));

      // The file is what `backupctl validate` accepts, and what --worker asks of it.
      const validate = await runCli(['validate', file], { env });
      expect(validate.code, validate.stderr).toBe(0);
      expect(() => checkSharedJobs(pipeline.jobs)).not.toThrow();
      // The run's own memory estimate for one pod fits the pod's limit, which is also its request.
      const plan = planRun(pipeline.jobs, { concurrency: pipeline.concurrency }, { debug() {}, info() {}, warn() {}, error() {} });
      expect(plan.slots).toBeGreaterThan(1);
      expect(plan.estimateBytes / 2 ** 20).toBeLessThanOrEqual(mebibytes(container.resources.limits.memory));
      expect(container.resources.requests.memory).toBe(container.resources.limits.memory);
    });
  }

  it('cnpg-workers-cronjob.yaml reads the operator\'s <cluster>-app secret, dumps from the <cluster>-ro service and locks on <cluster>-rw', async () => {
    const { cronJob, pipeline } = await workersExample('cnpg-workers-cronjob.yaml', { ...s3Env, PGUSER: 'app', PGPASSWORD: 'pw', PGDATABASE: 'app' });
    const [container] = cronJob.spec.jobTemplate.spec.template.spec.containers;
    const fromSecret = Object.fromEntries((container.env as any[]).map((variable) => [variable.name, variable.valueFrom.secretKeyRef]));
    expect(fromSecret).toEqual({
      PGUSER: { name: 'pg-main-app', key: 'username' },
      PGPASSWORD: { name: 'pg-main-app', key: 'password' },
      PGDATABASE: { name: 'pg-main-app', key: 'dbname' },
    });
    const url = new URL(pipeline.jobs[0]!.source!.options.url as string);
    expect(url.hostname).toBe('pg-main-ro');
    expect(new URL(pipeline.jobs[0]!.source!.options.lockUrl as string).hostname).toBe('pg-main-rw');
    expect(pipeline.jobs[0]!.source!.options.databases).toBe('all');
  });
});
