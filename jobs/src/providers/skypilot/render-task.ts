import { readFileSync } from 'node:fs';
import type { NodeConfig } from '@cic/core/nodes/node-config';

const TEMPLATE = readFileSync(new URL('./task-template.yaml', import.meta.url), 'utf8');

export interface RenderTaskOptions {
  cluster: string;
  servedModelName: string;
  /** e.g. `H100:1`. @defaultValue "H100:1" */
  accelerator: string | null;
  cloud: string | null;
  region: string | null;
  config: NodeConfig;
}

const yamlValue = (value: string | number | null): string => JSON.stringify(value);
// Single quotes for the shell: the argument reaches vLLM verbatim, whatever it contains.
const shellQuote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Fills task-template.yaml for one node. Secret values are never rendered, only their names. */
export function renderTask({ cluster, servedModelName, accelerator, cloud, region, config }: RenderTaskOptions): string {
  const values: Record<string, string> = {
    cluster: yamlValue(cluster),
    accelerators: yamlValue(accelerator ?? 'H100:1'),
    cloud: yamlValue(cloud),
    region: yamlValue(region),
    diskSize: yamlValue(config.diskSize),
    port: yamlValue(config.port),
    modelSource: yamlValue(config.modelSource ?? servedModelName),
    servedModelName: yamlValue(servedModelName),
    secretEnvs: config.secretEnvNames.map((name) => `  ${name}: null`).join('\n'),
    vllmPackage: `vllm==${config.vllmVersion}`,
    vllmArgs: config.vllmArgs.map((a) => ` ${shellQuote(a)}`).join(''),
  };
  return TEMPLATE.replace(/\$\{(\w+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`task-template.yaml uses an unknown placeholder \${${key}}`);
    return value;
  });
}
