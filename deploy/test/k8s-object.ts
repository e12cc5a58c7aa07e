/** A Kubernetes object as parsed from YAML: only the fields every object has are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export const objectKey = (o: K8sObject): string => `${o.kind}/${o.metadata.name}`;

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape every rendered document must have before the schema validation looks closer. */
export function asK8sObject(doc: unknown, source: string): K8sObject {
  if (!isRecord(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || !isRecord(doc.metadata) || typeof doc.metadata.name !== 'string') {
    throw new Error(`${source}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`);
  }
  return doc as K8sObject;
}

/** Sorted by kind then name, so two renderings compare regardless of file order. */
export const sortObjects = (objects: K8sObject[]): K8sObject[] => [...objects].sort((a, b) => objectKey(a).localeCompare(objectKey(b)));
