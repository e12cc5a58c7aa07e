// What `docker compose up` and the Kubernetes bootstrap Job run before the platform serves, run here for
// real (no Docker): the exact command lines of the compose services and of the Job's containers, read from
// the YAML, in their order, against a fresh database (only DATABASE_URL points here instead of at the
// compose/cluster Postgres). Then the API, started on that database, serves the bootstrap key.
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createPrismaClient } from '@cic/db';
import { generateKey } from '@cic/core/api-keys/key-format';
import { freshDatabase, run, type CliRun } from '../../api/test/cli/run-cic.ts';
import { startTestApi } from '../../api/test/helpers/test-api.ts';
import { loadCompose, ROOT } from './compose-file.ts';
import { renderKustomization } from './kustomize-render.ts';
import { find, type Container, type Workload } from './pod-spec.ts';
import { overlayDir } from './renderings.ts';

const ADMIN = 'ops@example.com';
const databases: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

function fresh(): string {
  const db = freshDatabase();
  databases.push(db);
  return db.url;
}

async function runAll(steps: { name: string; argv: string[]; env: Record<string, string> }[]): Promise<CliRun[]> {
  const results: CliRun[] = [];
  for (const step of steps) {
    // The images' working directory is the repository's root (/app).
    const result = await run(step.argv[0]!, step.argv.slice(1), step.env, ROOT);
    expect(result.code, `${step.name}: ${result.stderr}`).toBe(0);
    results.push(result);
  }
  return results;
}

/** The API on that database answers the key on /v1 and on GraphQL; the admin exists. */
async function servesWith(databaseUrl: string, key: string): Promise<string[]> {
  const prisma = createPrismaClient({ databaseUrl, poolSize: 1 });
  const api = await startTestApi({ databaseUrl, redisUrl: inject('testRedisUrl') });
  try {
    const admin = await prisma.user.findUniqueOrThrow({ where: { email: ADMIN }, include: { memberships: true } });
    expect(admin).toMatchObject({ isPlatformAdmin: true, memberships: [{ role: 'OWNER' }] });
    const models = await fetch(`${api.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({ object: 'list' });
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { id } models { name } }' }),
    });
    const body = (await res.json()) as { data: { viewer: { id: string }; models: { name: string }[] } };
    expect(body.data.viewer.id).toMatch(/^key_/);
    return body.data.models.map((m) => m.name);
  } finally {
    await api.stop();
    await prisma.$disconnect();
  }
}

describe('first start of a deployment, without Docker', { timeout: 300_000 }, () => {
  it('docker compose: the migrate then bootstrap services bring a fresh database to an admin whose key the API serves; a second up changes nothing', async () => {
    const databaseUrl = fresh();
    const { services } = loadCompose({ BOOTSTRAP_ADMIN_EMAIL: ADMIN });
    expect(services.bootstrap!.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    const steps = ['migrate', 'bootstrap'].map((name) => ({
      name, argv: services[name]!.command!, env: { ...services[name]!.environment, DATABASE_URL: databaseUrl },
    }));
    const [migrated, bootstrapped] = await runAll(steps);
    expect(migrated!.stdout).toContain('applied migrations');
    const key = /: (cic_\w+)\s+\(new: shown this once\)/.exec(bootstrapped!.stdout)?.[1];
    expect(key, bootstrapped!.stdout).toBeTruthy();
    expect(await servesWith(databaseUrl, key!)).toEqual(['cic/sim-echo-1']);

    const [again, rebootstrapped] = await runAll(steps);
    expect(again!.stdout).toBe('database schema up to date\n');
    expect(rebootstrapped!.stdout).not.toContain('cic_');
    expect(await servesWith(databaseUrl, key!)).toEqual(['cic/sim-echo-1']);
  });

  it('Kubernetes: the bootstrap Job\'s containers, in order, with the Secret\'s admin email and key, do the same', async () => {
    const databaseUrl = fresh();
    const key = generateKey().secret;
    const secret: Record<string, string> = { DATABASE_URL: databaseUrl, BOOTSTRAP_ADMIN_EMAIL: ADMIN, BOOTSTRAP_API_KEY: key };
    const pod = find<Workload>(renderKustomization(overlayDir('prod')), 'Job', 'cic-bootstrap').spec.template.spec;
    const envOf = (c: Container) => Object.fromEntries((c.env ?? []).flatMap((e) => {
      const ref = e.valueFrom?.secretKeyRef;
      const value = ref ? secret[ref.key] : e.value;
      return value === undefined ? [] : [[e.name, value]];
    }));
    const steps = [...(pod.initContainers ?? []), ...pod.containers].map((c) => ({ name: c.name, argv: [...(c.command ?? []), ...(c.args ?? [])], env: envOf(c) }));
    expect(steps.map((s) => s.name)).toEqual(['migrate', 'bootstrap']);
    const [, bootstrapped] = await runAll(steps);
    expect(bootstrapped!.stdout).toContain(': the one given');
    expect(await servesWith(databaseUrl, key)).toEqual([]);
  });
});
