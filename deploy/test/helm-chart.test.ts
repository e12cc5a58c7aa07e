import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderChart } from './helm-render.ts';
import { asK8sObject, objectKey, sortObjects, type K8sObject } from './k8s-object.ts';
import { renderKustomization } from './kustomize-render.ts';
import { find, type Workload } from './pod-spec.ts';
import { CHART_DIR, findCommand, missingCommand, overlayDir } from './renderings.ts';

const helm = findCommand('helm', 'HELM_PATH');

const RELEASE = { name: 'cic', namespace: 'cic' };
/** Labels that identify an object; the rest (helm.sh/chart, environment, ...) say who rendered it. */
const IDENTITY_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'];

/** Without the labels that say who rendered it and Helm's hook annotations (kustomize has no hooks). */
function comparable(o: K8sObject): unknown {
  const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => IDENTITY_LABELS.includes(k)));
  const annotations = Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).filter(([k]) => !k.startsWith('helm.sh/hook')));
  const { annotations: _dropped, ...metadata } = o.metadata;
  return JSON.parse(JSON.stringify({ ...o, metadata: { ...metadata, labels, ...(Object.keys(annotations).length ? { annotations } : {}) } }));
}

describe('Helm chart', () => {
  it('with default values describes exactly the prod kustomize overlay', () => {
    const helm = sortObjects(renderChart(CHART_DIR, RELEASE));
    const kustomize = sortObjects(renderKustomization(overlayDir('prod')));
    expect(helm.map(objectKey)).toEqual(kustomize.map(objectKey));
    for (const [i, o] of helm.entries()) expect(comparable(o), objectKey(o)).toEqual(comparable(kustomize[i]!));
  });

  it('our renderer agrees with `helm template` exactly', ({ skip }) => {
    skip(!helm, missingCommand('helm', 'HELM_PATH'));
    const out = execFileSync(helm!, ['template', RELEASE.name, CHART_DIR, '--namespace', RELEASE.namespace], { encoding: 'utf8' });
    const real = parseAllDocuments(out).map((d) => d.toJS() as unknown).filter((d) => d !== null).map((d) => asK8sObject(d, 'helm template'));
    const ours = renderChart(CHART_DIR, RELEASE);
    expect(JSON.parse(JSON.stringify(sortObjects(ours)))).toEqual(JSON.parse(JSON.stringify(sortObjects(real))));
  });

  it('runs migrate and bootstrap as a hook Job: before installs on your own database, after the first install with the chart\'s Postgres, before upgrades', () => {
    const hook = (values: Record<string, unknown>) => find(renderChart(CHART_DIR, RELEASE, values), 'Job', 'cic-bootstrap').metadata.annotations;
    expect(hook({})).toEqual({ 'helm.sh/hook': 'post-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
    expect(hook({ postgres: { enabled: false } })?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
  });

  it('labels objects with the chart, the release and the app version', () => {
    const api = find(renderChart(CHART_DIR, RELEASE), 'Deployment', 'cic-api');
    expect(api.metadata.labels).toMatchObject({ 'helm.sh/chart': 'cic-0.1.0', 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/version': '1.0.0' });
  });

  it('follows values: release name, image tag, and optional Postgres, Redis, policies and monitors', () => {
    const objects = renderChart(CHART_DIR, { name: 'other', namespace: 'ns' }, {
      image: { registry: 'registry.example.com/cic', tag: '2.0.0' }, api: { replicas: 4 },
      postgres: { enabled: false }, redis: { enabled: false }, networkPolicy: { enabled: false }, serviceMonitor: { enabled: false },
    });
    const kinds = new Set(objects.map((o) => o.kind));
    expect(kinds.has('StatefulSet') || kinds.has('NetworkPolicy') || kinds.has('ServiceMonitor')).toBe(false);
    expect(objects.map(objectKey)).not.toContain('Deployment/other-redis');
    const api = find<Workload>(objects, 'Deployment', 'other-api');
    expect(api.metadata.namespace).toBe('ns');
    expect(api.spec.replicas).toBe(4);
    expect(api.spec.template.spec.terminationGracePeriodSeconds).toBe(50);
    expect(api.spec.template.spec.containers[0]!.image).toBe('registry.example.com/cic/cic-api:2.0.0');
    const web = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'other-web-config');
    expect(web.data.API_URL).toBe('http://other-api:4000');
  });
});

describe('Helm template renderer', () => {
  const chartWith = (template: string, values = 'a: {b: 1}\n'): string => {
    const dir = mkdtempSync(join(tmpdir(), 'cic-chart-'));
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'Chart.yaml'), 'name: t\nversion: 0.0.1\nappVersion: "1"\n');
    writeFileSync(join(dir, 'values.yaml'), values);
    writeFileSync(join(dir, 'templates', 't.yaml'), template);
    return dir;
  };
  const render = (template: string, values?: string) => {
    const dir = chartWith(template, values);
    try {
      return renderChart(dir, RELEASE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const cm = (data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n${data}\n`;

  it('trims whitespace like Go templates and pipes through quote/default/nindent', () => {
    const [o] = render(cm('  a: {{ .Values.a.b | quote }}\n  {{- if .Values.a.c }}\n  c: "yes"\n  {{- else }}\n  c: "no"\n  {{- end }}\n  d: {{ .Values.a.e | default "fallback" }}'), 'a: {b: 1, c: false, e: ""}\n');
    expect(o).toMatchObject({ data: { a: '1', c: 'no', d: 'fallback' } });
  });

  it('refuses what it does not implement and values that are not set', () => {
    expect(() => render(cm('  {{- range .Values.a }}\n  x: y\n  {{- end }}'))).toThrow(/unsupported template action: range/);
    expect(() => render(cm('  a: {{ .Values.a.missing }}'))).toThrow(/\.Values\.a\.missing is not set/);
    expect(() => render(cm('  a: {{ .Values.a.b | upper }}'))).toThrow(/unsupported function: upper/);
    expect(() => render(cm('  {{- if .Values.a.b }}\n  a: b'))).toThrow(/missing \{\{ else \/ end \}\}/);
  });
});
