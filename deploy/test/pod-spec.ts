import type { K8sObject } from './k8s-object.ts';

/** The parts of a pod template the agreement checks read (the schemas already checked the types). */
export interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }
export interface Probe { httpGet?: { path: string; port: string | number }; tcpSocket?: { port: string | number }; exec?: { command: string[] } }
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
}
export interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean };
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}
export type Workload = K8sObject & { spec: { replicas?: number; template: { spec: PodSpec }; volumeClaimTemplates?: unknown[] } };

export const find = <T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name: string): T => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} is missing`);
  return o as T;
};

/** Everything that runs pods: Deployments, StatefulSets and the bootstrap Job. */
export const workloads = (objects: K8sObject[]): Workload[] => objects.filter((o): o is Workload => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

/** Names a container receives: its own env plus every key of the ConfigMaps it loads with envFrom. */
export function envNames(container: Container, objects: K8sObject[]): string[] {
  const names = (container.env ?? []).map((e) => e.name);
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) throw new Error(`${container.name}: only configMapRef envFrom is expected`);
    const cm = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', from.configMapRef.name);
    names.push(...Object.keys(cm.data));
  }
  return names;
}

/** Plain values a container gets from ConfigMaps and `value:` entries (secrets are not in the repository). */
export function plainEnv(container: Container, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    Object.assign(env, find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', from.configMapRef!.name).data);
  }
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
