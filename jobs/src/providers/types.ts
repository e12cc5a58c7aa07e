import type { Node } from '@cic/db';
import type { NodeConfig } from '@cic/core/nodes/node-config';

/** What a provider gets to launch or tear down one node. */
export interface ProviderContext {
  node: Node & { model: { name: string } };
  config: NodeConfig;
  /**
   * The key vLLM must require (VLLM_API_KEY): generated for SKYPILOT and LOCAL nodes, the admin's (or
   * none) for STATIC ones. A secret: hand it to the node through its environment, never log it. Null on teardown.
   */
  apiKey: string | null;
  /** Aborts on the job's timeout or worker shutdown. */
  signal: AbortSignal;
  /** Appends a line to the node's events (in order; secrets must never be passed here). */
  log(line: string): Promise<void>;
}

/** A cluster/process the provider knows about, for reconcile. */
export interface ProviderCluster {
  name: string;
  status: string;
}

/** One way of running vLLM nodes (SkyPilot, a local simulator child, an existing server). */
export interface NodeProvider {
  /**
   * Creates (or, after a crash, re-attaches to) the node's server and returns its vLLM base URL. Must be
   * idempotent on the node's cluster name: a retried launch reuses what the first attempt created.
   */
  launch(ctx: ProviderContext): Promise<{ endpointUrl: string; config?: Partial<NodeConfig> }>;
  /** Tears the node down; a node that is already gone is not an error. */
  terminate(ctx: ProviderContext): Promise<void>;
  /** Clusters that exist right now, or null when the provider cannot list them (static). */
  listClusters?(signal: AbortSignal): Promise<ProviderCluster[]>;
}

/** A failure the provider reported (CLI exit, timeout): retrying the job would not help. */
export class ProviderError extends Error {
  override name = 'ProviderError';
}
