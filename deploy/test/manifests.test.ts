import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { objectKey, sortObjects, type K8sObject } from './k8s-object.ts';
import { validateObject } from './kubernetes-schemas.ts';
import { renderKustomization } from './kustomize-render.ts';
import { allRenderings, findCommand, kubectlKustomize, missingCommand, overlayDir } from './renderings.ts';

const kubectl = findCommand('kubectl', 'KUBECTL_PATH');
const normalize = (objects: K8sObject[]): unknown => JSON.parse(JSON.stringify(sortObjects(objects)));

describe('kustomize overlays', () => {
  it.each(['dev', 'prod'] as const)('%s renders the whole stack', (overlay) => {
    const keys = renderKustomization(overlayDir(overlay)).map(objectKey).sort();
    expect(keys).toEqual([
      'ConfigMap/cic-api-config', 'ConfigMap/cic-jobs-config', 'ConfigMap/cic-web-config',
      'Deployment/cic-api', 'Deployment/cic-jobs', 'Deployment/cic-redis', 'Deployment/cic-web',
      'HorizontalPodAutoscaler/cic-api', 'Ingress/cic', 'Job/cic-bootstrap',
      'NetworkPolicy/cic-allow-dns', 'NetworkPolicy/cic-api', 'NetworkPolicy/cic-bootstrap', 'NetworkPolicy/cic-default-deny', 'NetworkPolicy/cic-jobs',
      'NetworkPolicy/cic-postgres', 'NetworkPolicy/cic-redis', 'NetworkPolicy/cic-web',
      'PersistentVolumeClaim/cic-redis-data', 'PodDisruptionBudget/cic-api', 'PodDisruptionBudget/cic-web',
      'Service/cic-api', 'Service/cic-jobs', 'Service/cic-postgres', 'Service/cic-redis', 'Service/cic-web',
      'ServiceMonitor/cic-api', 'ServiceMonitor/cic-jobs', 'StatefulSet/cic-postgres',
    ]);
  });

  it.for(['dev', 'prod'] as const)('%s: our renderer agrees with kubectl kustomize exactly', (overlay, { skip }) => {
    skip(!kubectl, missingCommand('kubectl', 'KUBECTL_PATH'));
    const ours = renderKustomization(overlayDir(overlay));
    const theirs = kubectlKustomize(kubectl!, overlayDir(overlay));
    expect(normalize(ours)).toEqual(normalize(theirs));
  });

  it('the overlays differ where they should (namespace, tags, prod replicas)', () => {
    const dev = renderKustomization(overlayDir('dev'));
    const prod = renderKustomization(overlayDir('prod'));
    expect(new Set(dev.map((o) => o.metadata.namespace))).toEqual(new Set(['cic-dev']));
    expect(new Set(prod.map((o) => o.metadata.namespace))).toEqual(new Set(['cic']));
    const api = (objs: K8sObject[]) => objs.find((o) => objectKey(o) === 'Deployment/cic-api') as { spec: { replicas: number } } & K8sObject;
    expect(api(prod).spec.replicas).toBe(3);
    expect(api(dev).spec.replicas).toBe(2);
    expect(isDeepStrictEqual(normalize(dev), normalize(prod))).toBe(false);
  });

  it('refuses kustomize features it does not implement instead of ignoring them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cic-kustomize-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\nnamePrefix: x-\n');
      expect(() => renderKustomization(dir)).toThrow(/namePrefix is not supported/);
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: []\ncommonLabels: {a: b}\n');
      expect(() => renderKustomization(dir)).toThrow(/commonLabels is not supported/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Kubernetes schemas', () => {
  for (const { name, objects } of allRenderings()) {
    it.each(objects.map((o) => [objectKey(o), o] as const))(`${name}: %s is valid`, (_key, o) => {
      expect(() => validateObject(o)).not.toThrow();
    });
  }

  it('the schema check catches a broken object (control)', () => {
    const api = renderKustomization(overlayDir('prod')).find((o) => objectKey(o) === 'Deployment/cic-api')!;
    const broken = structuredClone(api) as K8sObject & { spec: Record<string, unknown> };
    broken.spec.replicas = 'three';
    expect(() => validateObject(broken)).toThrow(/replicas must be integer/);
    const noImage = structuredClone(api) as K8sObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    noImage.spec.template.spec.containers[0]!.ports = [{ containerPort: 'http' }];
    expect(() => validateObject(noImage)).toThrow(/containerPort must be integer/);
  });

  it('no rendering contains a Secret (secrets are created outside the repository)', () => {
    for (const { objects } of allRenderings()) expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});
