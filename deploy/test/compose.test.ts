// Docker cannot run here, so the compose file is checked for what drifts: env names each service's
// config accepts, and ports that agree with the PORT variables.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jobsEnvSchema } from '@cic/jobs/config';
import { webEnvSchema } from '@cic/web/env-schema';
import { apiEnvSchema } from '@cic/api/config';

const root = resolve(import.meta.dirname, '../..');
const composeText = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
// Secrets are interpolated by compose from the environment; stand in a value of the right shape.
const interpolated = composeText.replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_m, name: string) => `${name.toLowerCase()}-`.padEnd(64, 'x'));
const compose = parse(interpolated, { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; ports?: string[]; command?: string[]; healthcheck?: { test: string[] } }>;
};
const accepted = {
  api: Object.keys(apiEnvSchema.shape),
  jobs: Object.keys(jobsEnvSchema.shape),
  web: Object.keys(webEnvSchema.shape),
  migrate: ['DATABASE_URL', 'SHADOW_DATABASE_URL'],
};

describe('docker-compose.yml', () => {
  it('has every platform service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'jobs', 'migrate', 'postgres', 'redis', 'vllm-sim', 'web']);
  });

  it.each(Object.entries(accepted))('%s gets only variables its config accepts, and all it requires', (name, names) => {
    const env = compose.services[name]!.environment ?? {};
    for (const key of Object.keys(env)) expect(names, `${name}: ${key}`).toContain(key);
    const schema = { api: apiEnvSchema, jobs: jobsEnvSchema, web: webEnvSchema }[name as 'api'];
    if (schema) expect(() => schema.parse(env)).not.toThrow();
  });

  it.each([
    ['api', 'PORT'],
    ['jobs', 'JOBS_PORT'],
    ['web', 'PORT'],
  ])('%s publishes the port its %s says', (name, variable) => {
    const svc = compose.services[name]!;
    const port = svc.environment![variable];
    expect(svc.ports).toEqual([`${port}:${port}`]);
    if (svc.healthcheck) expect(svc.healthcheck.test.join(' ')).toContain(`:${port}/readyz`);
  });

  it('takes secrets from the environment, never from the file', () => {
    for (const name of ['AUTH_SECRET', 'SESSION_TOKEN_SECRET', 'INTERNAL_AUTH_SECRET']) {
      expect(composeText).toMatch(new RegExp(`${name}: \\$\\{${name}:\\?`));
    }
  });

  it('runs redis with noeviction, as the job queues require', () => {
    expect(compose.services.redis!.command).toEqual(expect.arrayContaining(['--maxmemory-policy', 'noeviction']));
  });

  it('points the simulated node at the port it publishes', () => {
    const sim = compose.services['vllm-sim']!;
    const port = sim.command![sim.command!.indexOf('--port') + 1];
    expect(sim.ports).toEqual([`${port}:${port}`]);
  });
});
