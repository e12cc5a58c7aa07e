import { randomUUID } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../scripts/lib/net.mjs';
import { startTestApi } from '../../api/test/helpers/test-api.ts';
import { buildWorkers } from '@cic/jobs/app';
import { loadJobsConfig } from '@cic/jobs/config';
import { dashboardExpressions, familyOf, loadRules, metricsUsed, RULES_FILE, seriesNames } from './metric-names.ts';
import { DEPLOY_DIR, findCommand, missingCommand } from './renderings.ts';

/**
 * Metrics the rules and dashboards use that no service exports yet, with who should export them.
 * The live checks require each to be still missing, so this list cannot go stale.
 */
const PENDING: Record<string, string> = {};

const promtool = findCommand('promtool', 'PROMTOOL_PATH');
const prometheus = findCommand('prometheus', 'PROMETHEUS_PATH');

describe('Prometheus rules and Grafana dashboards', () => {
  it('promtool accepts the rules', ({ skip }) => {
    skip(!promtool, missingCommand('promtool', 'PROMTOOL_PATH'));
    const result = spawnSync(promtool!, ['check', 'rules', RULES_FILE], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.status).toBe(0);
  });

  it('CicOrganizationErrorRatio fires for the one organization whose requests fail, not for busy or idle others', ({ skip }) => {
    skip(!promtool, missingCommand('promtool', 'PROMTOOL_PATH'));
    const dir = mkdtempSync(join(tmpdir(), 'cic-rules-'));
    const { annotations } = loadRules().find((r) => r.alert === 'CicOrganizationErrorRatio')!;
    const expected = {
      summary: annotations!.summary!.replace('{{ $labels.organization }}', 'org_bad'),
      description: annotations!.description!.replace('{{ $value | humanizePercentage }}', '33.33%'),
    };
    // Per minute: org_bad 60 requests, 20 of them 502; org_good 600 all 200; org_idle 1 request, a 500 (too few to page).
    const series = (organization: string, status: string, perMinute: number) =>
      `      - series: 'cic_inference_requests_total{model="m",status="${status}",organization="${organization}"}'\n        values: '0+${perMinute}x30'`;
    writeFileSync(join(dir, 'test.yaml'), [
      `rule_files: ["${RULES_FILE}"]`,
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      series('org_bad', '200', 40), series('org_bad', '502', 20), series('org_good', '200', 600), series('org_idle', '500', 1),
      '    alert_rule_test:',
      '      - eval_time: 20m',
      '        alertname: CicOrganizationErrorRatio',
      '        exp_alerts:',
      '          - exp_labels: { severity: warning, organization: org_bad }',
      `            exp_annotations: ${JSON.stringify(expected)}`,
      '',
    ].join('\n'));
    try {
      const result = spawnSync(promtool!, ['test', 'rules', 'test.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wrapped as the docs show, the rules are a valid PrometheusRule for the Operator', () => {
    const spec = parse(readFileSync(RULES_FILE, 'utf8')) as never;
    expect(() => new PrometheusRule({ metadata: { name: 'cic', labels: { release: 'prometheus' } }, spec }).validate()).not.toThrow();
  });

  it('covers the alerts operations needs, each with a severity and a summary', () => {
    const alerts = loadRules().filter((r) => r.alert);
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining([
      'CicHigh5xxRatio', 'CicTtftP99OverTarget', 'CicNoReadyNodes', 'CicCircuitOpen', 'CicJobsQueueBacklog', 'CicStripeWebhookFailures', 'CicLowCreditBalances',
    ]));
    for (const a of alerts) {
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
    }
  });

  it('dashboards only read recording rules that exist, and every panel has a query', () => {
    const recorded = new Set(loadRules().flatMap((r) => (r.record ? [r.record] : [])));
    const exprs = dashboardExpressions();
    expect(new Set(exprs.map((e) => e.file))).toEqual(new Set(['billing.json', 'gateway.json', 'nodes.json']));
    for (const e of exprs) {
      for (const name of seriesNames(e.expr).filter((n) => n.includes(':'))) expect(recorded, `${e.file}: ${e.title}`).toContain(name);
      expect(seriesNames(e.expr).length, `${e.file}: ${e.title}`).toBeGreaterThan(0);
    }
  });

  it('docs/operations.md lists every alert, recording rule and metric used', () => {
    const docs = readFileSync(`${DEPLOY_DIR}../docs/operations.md`, 'utf8');
    for (const r of loadRules()) expect(docs).toContain(`\`${r.alert ?? r.record!.replace(/p99_5m$/, '')}`);
    for (const m of metricsUsed()) expect(docs).toContain(`\`${m.replace(/_bucket$/, '')}\``);
  });

  it('lists the metric names it relies on', () => {
    expect(metricsUsed()).toContain('http_requests_total');
    expect(metricsUsed()).toContain('cic_inference_ttft_seconds_bucket');
    expect(metricsUsed().filter((n) => !n.startsWith('cic_') && !n.startsWith('http_'))).toEqual([]);
  });
});

/** Families declared by a Prometheus text exposition (`# TYPE name type`). */
const typeFamilies = (text: string): string[] => [...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!);

describe('the running services export every metric used', () => {
  let db: TestDatabase;
  let api: Awaited<ReturnType<typeof startTestApi>>;
  let workers: ReturnType<typeof buildWorkers>;
  let jobsUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const redis = testRedis();
    api = await startTestApi({ databaseUrl: db.url, redisUrl: redis.url });
    workers = buildWorkers({ config: loadJobsConfig({ JOBS_PORT: '0', DATABASE_URL: db.url, REDIS_URL: redis.url, BULLMQ_PREFIX: `p${randomUUID().slice(0, 8)}` }), log: pino({ level: 'silent' }) });
    jobsUrl = (await workers.start()).url;
  });
  afterAll(async () => {
    await workers?.stop();
    await api?.stop();
    await db?.drop();
  });

  const check = (families: Set<string>) => {
    const used = metricsUsed();
    const missing = used.filter((n) => !familyOf(n, families));
    expect(missing.sort()).toEqual(Object.keys(PENDING).sort());
  };

  it('in their /metrics expositions', async () => {
    const texts = await Promise.all([`${api.url}/metrics`, `${jobsUrl}/metrics`].map(async (u) => (await fetch(u)).text()));
    check(new Set(texts.flatMap(typeFamilies)));
  });

  it('as scraped by a real Prometheus', async ({ skip }) => {
    skip(!prometheus, missingCommand('prometheus', 'PROMETHEUS_PATH'));
    const dir = mkdtempSync(join(tmpdir(), 'cic-prometheus-'));
    const port = await freePort();
    const target = (url: string) => new URL(url).host;
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      `  - { job_name: cic-api, static_configs: [{ targets: ["${target(api.url)}"] }] }`,
      `  - { job_name: cic-jobs, static_configs: [{ targets: ["${target(jobsUrl)}"] }] }`,
      '',
    ].join('\n'));
    let child: ChildProcess | undefined;
    try {
      child = spawn(prometheus!, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
      const base = `http://127.0.0.1:${port}`;
      type Metadata = { status: string; data: { target: { job: string }; metric: string }[] };
      type Targets = { data: { activeTargets: { labels: { job: string }; health: string }[] } };
      // Poll (bounded by the test timeout) until both targets were scraped successfully.
      for (;;) {
        const targets = await fetch(`${base}/api/v1/targets`).then((r) => r.json() as Promise<Targets>).catch(() => undefined);
        const up = targets?.data.activeTargets.filter((t) => t.health === 'up').map((t) => t.labels.job).sort();
        if (up?.join() === 'cic-api,cic-jobs') break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const metadata = await (await fetch(`${base}/api/v1/targets/metadata`)).json() as Metadata;
      expect(metadata.status).toBe('success');
      check(new Set(metadata.data.map((m) => m.metric)));
    } finally {
      if (child?.pid) child.kill('SIGTERM');
      if (child && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
