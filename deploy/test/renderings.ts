import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { renderChart } from './helm-render.ts';
import { asK8sObject, type K8sObject } from './k8s-object.ts';
import { renderKustomization } from './kustomize-render.ts';

export const DEPLOY_DIR = fileURLToPath(new URL('..', import.meta.url));
export const CHART_DIR = `${DEPLOY_DIR}helm/cic`;
export const overlayDir = (name: 'dev' | 'prod'): string => `${DEPLOY_DIR}k8s/overlays/${name}`;

/** Every way CIC can be deployed from this repository, rendered offline. */
export function allRenderings(): { name: string; objects: K8sObject[] }[] {
  return [
    { name: 'kustomize dev', objects: renderKustomization(overlayDir('dev')) },
    { name: 'kustomize prod', objects: renderKustomization(overlayDir('prod')) },
    { name: 'helm defaults', objects: renderChart(CHART_DIR, { name: 'cic', namespace: 'cic' }) },
  ];
}

/** Why a cross-check that needs `command` was skipped (`npm test` prints it in its summary). */
export const missingCommand = (command: string, envVar: string): string => `${command} not found (not on PATH, ${envVar} unset)`;

/** A command on PATH (or the given env variable), or undefined: optional cross-checks skip without it, saying why. */
export function findCommand(command: string, envVar: string): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `kubectl kustomize` output, for comparing our renderer with the real one. */
export function kubectlKustomize(kubectl: string, dir: string): K8sObject[] {
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => asK8sObject(d.toJS(), `kubectl kustomize ${dir}`));
}
