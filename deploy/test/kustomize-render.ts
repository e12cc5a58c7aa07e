import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { asK8sObject, isRecord, type K8sObject } from './k8s-object.ts';

/**
 * A small kustomize for the features deploy/k8s uses, so the manifests validate without kubectl:
 * `resources` (files and folders), `namespace`, `labels` (includeSelectors: false), `images`,
 * `replicas` and `patches` (strategic merge by `path`). Anything else in a kustomization.yaml is
 * refused rather than ignored, and the test compares this output with `kubectl kustomize` when it
 * is installed.
 */
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'replicas', 'patches']);

/** Lists merged item by item in strategic merge patches, with their merge key (as Kubernetes defines it). */
const MERGE_KEYS: Record<string, string> = { containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath' };

/** Kinds `replicas` applies to (a HorizontalPodAutoscaler of the same name is left alone). */
const SCALABLE = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

interface Kustomization {
  resources?: string[];
  namespace?: string;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  replicas?: { name: string; count: number }[];
  patches?: { path?: string; patch?: string; target?: unknown }[];
}

function readYamlObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null)
    .map((d) => asK8sObject(d, file));
}

/** Strategic merge: maps merge key by key, known lists merge by their key, other lists are replaced. */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (isRecord(base) && isRecord(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new Error(`patch directive ${key} is not supported`);
      out[key] = value === null ? undefined : strategicMerge(base[key], value, key);
      if (value === null) delete out[key];
    }
    return out;
  }
  const mergeKey = MERGE_KEYS[field];
  if (mergeKey && Array.isArray(base) && Array.isArray(patch)) {
    const out = [...base] as unknown[];
    for (const item of patch) {
      const key = isRecord(item) ? item[mergeKey] : undefined;
      const at = out.findIndex((b) => isRecord(b) && b[mergeKey] === key);
      if (at >= 0) out[at] = strategicMerge(out[at], item);
      else out.unshift(item);
    }
    return out;
  }
  return patch;
}

function podSpecs(o: K8sObject): Record<string, unknown>[] {
  const spec = o.spec;
  if (!isRecord(spec)) return [];
  const template = isRecord(spec.jobTemplate) && isRecord(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : spec.template;
  return isRecord(template) && isRecord(template.spec) ? [template.spec] : [];
}

function setImages(o: K8sObject, images: NonNullable<Kustomization['images']>): void {
  for (const pod of podSpecs(o)) {
    for (const list of [pod.initContainers, pod.containers]) {
      if (!Array.isArray(list)) continue;
      for (const c of list as Record<string, unknown>[]) {
        const image = String(c.image);
        const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
        const rule = images.find((i) => i.name === name);
        if (!rule) continue;
        const tag = image.slice(name.length).replace(/^:/, '');
        c.image = `${rule.newName ?? name}:${rule.newTag ?? tag}`;
      }
    }
  }
}

/** Renders the kustomization in `dir` (a folder holding kustomization.yaml) into its objects. */
export function renderKustomization(dir: string): K8sObject[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization & Record<string, unknown>;
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${dir}: kustomize field ${key} is not supported by this renderer`);
  let objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlObjects(path)));
  }
  for (const p of k.patches ?? []) {
    if (!p.path || p.target) throw new Error(`${dir}: only patches given by path, without target, are supported`);
    for (const patch of readYamlObjects(join(dir, p.path))) {
      const at = objects.findIndex((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      if (at < 0) throw new Error(`${dir}: patch ${p.path} matches no ${patch.kind}/${patch.metadata.name}`);
      objects[at] = strategicMerge(objects[at], patch) as K8sObject;
    }
  }
  objects = objects.map((o) => structuredClone(o));
  for (const o of objects) {
    if (k.namespace) o.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      if (l.includeSelectors || l.includeTemplates) throw new Error(`${dir}: labels with includeSelectors/includeTemplates are not supported`);
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
    }
    if (k.images) setImages(o, k.images);
    const replicas = k.replicas?.find((r) => r.name === o.metadata.name);
    if (replicas && SCALABLE.has(o.kind) && isRecord(o.spec)) o.spec.replicas = replicas.count;
  }
  return objects;
}
