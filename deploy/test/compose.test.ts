// Docker cannot run here, so the compose file is checked for what drifts: env names each service's
// config accepts, and ports that agree with the PORT variables.
import { describe, expect, it } from 'vitest';
import { jobsEnvSchema } from '@cic/jobs/config';
import { webEnvSchema } from '@cic/web/env-schema';
import { apiEnvSchema } from '@cic/api/config';
import { cliEnvSchema } from '@cic/api/cli/env';
import { COMPOSE_TEXT as composeText, loadCompose } from './compose-file.ts';

// Secrets are interpolated by compose from the environment; stand in values of the right shape.
const compose = loadCompose({ BOOTSTRAP_ADMIN_EMAIL: 'ops@example.com' });
const schemas = { api: apiEnvSchema, jobs: jobsEnvSchema, web: webEnvSchema, migrate: cliEnvSchema, bootstrap: cliEnvSchema };
const accepted = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, Object.keys(schema.shape)]));

describe('docker-compose.yml', () => {
  it('has every platform service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'bootstrap', 'jobs', 'migrate', 'postgres', 'redis', 'vllm-sim', 'web']);
  });

  it.each(Object.entries(accepted))('%s gets only variables its config accepts, and all it requires', (name, names) => {
    const env = compose.services[name]!.environment ?? {};
    for (const key of Object.keys(env)) expect(names, `${name}: ${key}`).toContain(key);
    expect(() => schemas[name as 'api'].parse(env)).not.toThrow();
  });

  it('runs cic migrate, then cic bootstrap, to completion before the api, the workers and the dashboard', () => {
    const { migrate, bootstrap } = compose.services;
    expect(migrate!.command).toEqual(['npx', 'cic', 'migrate']);
    expect(bootstrap!.command?.slice(0, 3)).toEqual(['npx', 'cic', 'bootstrap']);
    expect(bootstrap!.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    for (const app of ['api', 'jobs', 'web']) expect(compose.services[app]!.depends_on?.bootstrap, app).toEqual({ condition: 'service_completed_successfully' });
    // The admin's email is required; the key is optional (empty = bootstrap creates one and prints it once).
    expect(composeText).toMatch(/BOOTSTRAP_ADMIN_EMAIL: \$\{BOOTSTRAP_ADMIN_EMAIL:\?/);
    expect(composeText).toMatch(/BOOTSTRAP_API_KEY: \$\{BOOTSTRAP_API_KEY:-\}/);
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
    for (const name of ['AUTH_SECRET', 'SESSION_TOKEN_SECRET', 'INTERNAL_AUTH_SECRET', 'NODE_SECRET_KEY']) {
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
