import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { apiEnvSchema } from '@cic/api/config';
import { cliEnvSchema } from '@cic/api/cli/env';
import { jobsEnvSchema } from '@cic/jobs/config';
import { webEnvSchema } from '@cic/web/env-schema';
import type { K8sObject } from './k8s-object.ts';
import { envNames, find, plainEnv, workloads, type Container, type Workload } from './pod-spec.ts';
import { allRenderings, DEPLOY_DIR } from './renderings.ts';

type EnvSchema = z.ZodObject<z.ZodRawShape>;

/** Each CIC service: its Deployment, container, image, port variable and default, and env schema. */
const SERVICES: { component: string; image: string; schema: EnvSchema; portVar: string; port: number }[] = [
  { component: 'api', image: 'cic-api', schema: apiEnvSchema as unknown as EnvSchema, portVar: 'PORT', port: 4000 },
  { component: 'jobs', image: 'cic-jobs', schema: jobsEnvSchema as unknown as EnvSchema, portVar: 'JOBS_PORT', port: 4001 },
  { component: 'web', image: 'cic-web', schema: webEnvSchema as unknown as EnvSchema, portVar: 'PORT', port: 3000 },
];

/** Stand-ins for the values that live in the Secret, shaped as the schemas require. */
const SECRET_STANDINS: Record<string, string> = {
  DATABASE_URL: 'postgresql://cic:pw@cic-postgres:5432/cic',
  REDIS_URL: 'redis://cic-redis:6379',
  SESSION_TOKEN_SECRET: 's'.repeat(32),
  INTERNAL_AUTH_SECRET: 'i'.repeat(32),
  AUTH_SECRET: 'a'.repeat(32),
  NODE_SECRET_KEY: 'n'.repeat(32),
  STRIPE_SECRET_KEY: 'sk_test_x',
  STRIPE_WEBHOOK_SECRET: 'whsec_x',
  AUTH_GOOGLE_ID: 'id',
  AUTH_GOOGLE_SECRET: 'secret',
  EMAIL_SERVER: 'smtp://user:pw@smtp.example.com:587',
  POSTGRES_PASSWORD: 'pw',
  BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com',
  BOOTSTRAP_API_KEY: `cic_${'k'.repeat(12)}_${'K'.repeat(32)}`,
};

const requiredKeys = (schema: EnvSchema): string[] =>
  Object.entries(schema.shape).filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success).map(([k]) => k);

const container = (objects: K8sObject[], component: string): Container =>
  find<Workload>(objects, 'Deployment', `cic-${component}`).spec.template.spec.containers.find((c) => c.name === component)!;

describe.each(allRenderings())('$name agrees with the services', ({ objects }) => {
  it.each(SERVICES)('$component: env names are the ones its schema accepts, required ones are set, values parse', ({ component, schema }) => {
    const c = container(objects, component);
    const names = envNames(c, objects);
    const known = Object.keys(schema.shape);
    expect(names.filter((n) => !known.includes(n))).toEqual([]);
    expect(requiredKeys(schema).filter((k) => !names.includes(k))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    const env = { ...plainEnv(c, objects) };
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) env[e.name] = SECRET_STANDINS[e.valueFrom.secretKeyRef.key]!;
    const parsed = schema.safeParse(env);
    expect(parsed.success ? 'ok' : parsed.error.message).toBe('ok');
  });

  it.each(SERVICES)('$component: image, port and probes match the service', ({ component, image, portVar, port }) => {
    const c = container(objects, component);
    expect(c.image).toMatch(new RegExp(`/${image}:[\\w.-]+$`));
    expect(c.ports?.map((p) => p.containerPort)).toEqual([port]);
    expect(plainEnv(c, objects)[portVar]).toBe(String(port));
    const service = find<K8sObject & { spec: { ports: { port: number; targetPort: string }[] } }>(objects, 'Service', `cic-${component}`);
    expect(service.spec.ports.map((p) => [p.port, p.targetPort])).toEqual([[port, c.ports![0]!.name]]);
    if (component === 'api') {
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    }
    if (component === 'jobs') expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    if (component === 'web') expect(c.readinessProbe?.httpGet?.port).toBe('http');
  });

  it('api: at least two replicas, autoscaled from two, drains streams before being killed', () => {
    const api = find<Workload>(objects, 'Deployment', 'cic-api');
    expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
    const hpa = find<K8sObject & { spec: { minReplicas: number; scaleTargetRef: { name: string } } }>(objects, 'HorizontalPodAutoscaler', 'cic-api');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.scaleTargetRef.name).toBe('cic-api');
    const c = container(objects, 'api');
    const grace = Number(plainEnv(c, objects).SHUTDOWN_GRACE_SECONDS ?? apiEnvSchema.shape.SHUTDOWN_GRACE_SECONDS.parse(undefined));
    const preStop = c.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(grace + Number(preStop[1]) + 10);
    const jobs = container(objects, 'jobs');
    const jobsGrace = Number(plainEnv(jobs, objects).SHUTDOWN_GRACE_SECONDS);
    expect(find<Workload>(objects, 'Deployment', 'cic-jobs').spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(jobsGrace + 10);
  });

  it('api and jobs share the BullMQ prefix (node launches enqueued by one are run by the other)', () => {
    expect(plainEnv(container(objects, 'api'), objects).BULLMQ_PREFIX).toBe(plainEnv(container(objects, 'jobs'), objects).BULLMQ_PREFIX);
  });

  it('api: migrations run first (cic migrate), with the api image, against DATABASE_URL', () => {
    const pod = find<Workload>(objects, 'Deployment', 'cic-api').spec.template.spec;
    const [migrate] = pod.initContainers ?? [];
    expect([...migrate!.command!, ...migrate!.args!]).toEqual(['node', 'api/bin/cic.mjs', 'migrate']);
    expect(migrate?.image).toBe(container(objects, 'api').image);
    expect(migrate?.env?.map((e) => e.valueFrom?.secretKeyRef?.key)).toEqual(['DATABASE_URL']);
  });

  it('the bootstrap Job runs cic migrate, then cic bootstrap, with the api image and only variables the CLI reads', () => {
    const pod = find<Workload>(objects, 'Job', 'cic-bootstrap').spec.template.spec;
    const steps = [...(pod.initContainers ?? []), ...pod.containers];
    expect(steps.map((c) => [...c.command!, ...c.args!])).toEqual([['node', 'api/bin/cic.mjs', 'migrate'], ['node', 'api/bin/cic.mjs', 'bootstrap']]);
    for (const c of steps) {
      expect(c.image).toBe(container(objects, 'api').image);
      expect((c.env ?? []).map((e) => e.name).filter((n) => !(n in cliEnvSchema.shape))).toEqual([]);
    }
    const env = Object.fromEntries(steps[1]!.env!.map((e) => [e.name, e.valueFrom?.secretKeyRef]));
    expect(env).toMatchObject({ DATABASE_URL: { key: 'DATABASE_URL' }, BOOTSTRAP_ADMIN_EMAIL: { key: 'BOOTSTRAP_ADMIN_EMAIL' }, BOOTSTRAP_API_KEY: { key: 'BOOTSTRAP_API_KEY', optional: true } });
    expect(env.BOOTSTRAP_ADMIN_EMAIL?.optional).toBeUndefined();
  });

  it('every pod runs as non-root, with no capabilities, a read-only root and resource bounds', () => {
    for (const w of workloads(objects)) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext?.runAsNonRoot, w.metadata.name).toBe(true);
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        const where = `${w.metadata.name}/${c.name}`;
        expect(c.securityContext, where).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(Object.keys(c.resources?.requests ?? {}).sort(), where).toEqual(['cpu', 'memory']);
        expect(c.resources?.limits?.memory, where).toBeTruthy();
      }
    }
  });

  it('Postgres keeps data on a claim template; Redis never evicts, appends to a file on a claim', () => {
    expect(find<Workload>(objects, 'StatefulSet', 'cic-postgres').spec.volumeClaimTemplates).toHaveLength(1);
    const redis = find<Workload>(objects, 'Deployment', 'cic-redis');
    const args = redis.spec.template.spec.containers[0]!.args!.join(' ');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(args).toContain('--appendonly yes');
    const claim = redis.spec.template.spec.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
    expect(find(objects, 'PersistentVolumeClaim', claim!)).toBeTruthy();
  });

  it('secrets come from the one Secret, and docs/operations.md lists every key', () => {
    const docs = readFileSync(`${DEPLOY_DIR}../docs/operations.md`, 'utf8');
    const refs = workloads(objects).flatMap((w) => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers])
      .flatMap((c) => c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
    expect(new Set(refs.map((r) => r.name))).toEqual(new Set(['cic-secrets']));
    for (const r of refs) expect(docs, `docs/operations.md should document ${r.key}`).toContain(`\`${r.key}\``);
    expect(Object.keys(SECRET_STANDINS).sort()).toEqual([...new Set(refs.map((r) => r.key))].sort());
  });

  it('the ingress sends /v1, /graphql and /webhooks to the api and the rest to the dashboard', () => {
    type Ingress = K8sObject & { spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] } };
    const paths = find<Ingress>(objects, 'Ingress', 'cic').spec.rules.flatMap((r) => r.http.paths).map((p) => [p.path, p.backend.service.name]);
    expect(paths).toEqual([['/v1', 'cic-api'], ['/graphql', 'cic-api'], ['/webhooks', 'cic-api'], ['/', 'cic-web']]);
  });

  it('each ServiceMonitor scrapes /metrics on a port its Service has', () => {
    type Monitor = K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
    for (const name of ['cic-api', 'cic-jobs']) {
      const monitor = find<Monitor>(objects, 'ServiceMonitor', name);
      const service = find<K8sObject & { spec: { selector: Record<string, string>; ports: { name: string }[] } }>(objects, 'Service', name);
      expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.spec.endpoints.map((e) => [e.port, e.path])).toEqual([[service.spec.ports[0]!.name, '/metrics']]);
    }
  });

  it('network policies: default deny; only api and jobs reach Postgres (and the bootstrap Job), Redis and the nodes', () => {
    type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: unknown; ipBlock?: { cidr: string } };
    type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: number }[] };
    type Policy = K8sObject & { spec: { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] } };
    const policies = objects.filter((o): o is Policy => o.kind === 'NetworkPolicy');
    const deny = find<Policy>(objects, 'NetworkPolicy', 'cic-default-deny');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const component = (p: Policy) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/component'];
    for (const [store, allowed] of [['postgres', ['api', 'bootstrap', 'jobs']], ['redis', ['api', 'jobs']]] as const) {
      const policy = policies.find((p) => component(p) === store)!;
      const peers = (policy.spec.ingress ?? []).flatMap((r) => r.from ?? []);
      expect(peers.map((p) => p.podSelector?.matchLabels?.['app.kubernetes.io/component']).sort(), store).toEqual(allowed);
      expect(peers.every((p) => !p.namespaceSelector && !p.ipBlock), store).toBe(true);
      // Nobody else may open egress to the store's port.
      const port = store === 'postgres' ? 5432 : 6379;
      const reaching = policies.filter((p) => (p.spec.egress ?? []).some((r) => r.ports?.some((x) => x.port === port))).map(component).sort();
      expect(reaching, store).toEqual(allowed);
    }
    const toInternet = (p: Policy, port: number) => (p.spec.egress ?? []).some((r) => r.to?.some((t) => t.ipBlock) && r.ports?.some((x) => x.port === port));
    expect(policies.filter((p) => toInternet(p, 8000)).map(component).sort()).toEqual(['api', 'jobs']);
  });
});
