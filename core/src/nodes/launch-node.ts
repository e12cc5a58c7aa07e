import type { Node, NodeProvider, PrismaClient } from '@cic/db';
import type { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { Actor } from '../audit/write-audit-log.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { enqueue } from '../jobs/enqueue-job.ts';
import { modelLaunchDefaults } from '../models/model-launch-defaults.ts';
import { nodeConfigSchema, nodeLabelSchema } from './node-config.ts';
import type { NodeSecretBox } from './node-secret.ts';
import { nodeUrlProblem, type NodeUrlPolicy } from './node-url.ts';

/** What a caller may set in a node's config (localPid is the worker's own bookkeeping). */
const launchConfigSchema = nodeConfigSchema.omit({ localPid: true }).strict();

export interface LaunchNodeOptions {
  prisma: PrismaClient;
  /** The `node-lifecycle` BullMQ queue. */
  queue: Queue;
  actor: Actor;
  requestId: string;
  /** ServedModel name, e.g. `cic/sim-echo-1`. */
  modelName: string;
  provider: NodeProvider;
  /** @defaultValue the model's accelerator */
  accelerator?: string | null;
  cloud?: string | null;
  region?: string | null;
  /** Provider settings (`baseUrl` for STATIC; vLLM args, disk, secret env names for SKYPILOT); the model's launch defaults fill what it leaves out. */
  config?: unknown;
  /**
   * STATIC only: the key the running vLLM server requires (its `--api-key`), stored sealed with
   * `nodeSecrets` and never returned. Other providers' nodes get a generated key at launch.
   */
  apiKey?: string | null;
  /** Seals `apiKey`; required when one is given. */
  nodeSecrets?: NodeSecretBox;
  /** Which base URLs a STATIC node may have. @defaultValue `{ allowLinkLocal: false }` */
  urlPolicy?: NodeUrlPolicy;
}

/** `cic-<model slug>-<8 hex>`: SkyPilot's cluster name rule, recognisable in `sky status`, unique per node. */
export function nodeClusterName(modelName: string, suffix = randomBytes(4).toString('hex')): string {
  const slug = modelName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 30);
  return `cic-${slug}-${suffix}`;
}

/** The key travels in an HTTP header: printable ASCII, no spaces. */
const API_KEY = /^[\x21-\x7e]{1,512}$/;

/**
 * Records a PENDING node and enqueues `node.launch`; the jobs worker provisions it and moves it through
 * the lifecycle. Returns at once: the caller follows progress with `nodeStatusChanged`/`nodeEvents`.
 */
export async function launchNode({
  prisma, queue, actor, requestId, modelName, provider, accelerator = null, cloud = null, region = null, config = {}, apiKey = null, nodeSecrets, urlPolicy = { allowLinkLocal: false },
}: LaunchNodeOptions): Promise<Node> {
  for (const [param, value] of Object.entries({ accelerator, cloud, region })) {
    const problem = value === null ? undefined : nodeLabelSchema.safeParse(value).error?.issues[0]?.message;
    if (problem) throw new AppError('BAD_REQUEST', `Invalid ${param}: ${problem}.`, { param });
  }
  if (apiKey !== null && provider !== 'STATIC') {
    throw new AppError('BAD_REQUEST', 'Only a STATIC node takes an API key: CIC generates one for every node it launches.', { param: 'config.apiKey' });
  }
  if (apiKey !== null && !API_KEY.test(apiKey)) {
    throw new AppError('BAD_REQUEST', 'Invalid config.apiKey: 1 to 512 printable ASCII characters without spaces.', { param: 'config.apiKey' });
  }
  if (apiKey !== null && !nodeSecrets) throw new Error('launchNode: an apiKey needs nodeSecrets to seal it');
  const model = await prisma.servedModel.findUnique({ where: { name: modelName } });
  if (!model) throw new AppError('BAD_REQUEST', `There is no served model "${modelName}".`, { param: 'model' });
  if (!model.enabled) throw new AppError('BAD_REQUEST', `The model "${modelName}" is disabled; enable it before launching nodes for it.`, { param: 'model' });
  accelerator ??= model.accelerator;
  const parsedConfig = launchConfigSchema.safeParse({ ...modelLaunchDefaults(model), ...(config ?? {}) });
  if (!parsedConfig.success) {
    const issue = parsedConfig.error.issues[0]!;
    throw new AppError('BAD_REQUEST', `Invalid node config: ${issue.path.join('.') || 'config'}: ${issue.message}`, { param: `config.${issue.path.join('.')}` });
  }
  if (provider === 'STATIC' && !parsedConfig.data.baseUrl) {
    throw new AppError('BAD_REQUEST', 'A STATIC node needs config.baseUrl: the URL of the vLLM server that is already running.', { param: 'config.baseUrl' });
  }
  const urlProblem = parsedConfig.data.baseUrl && nodeUrlProblem(parsedConfig.data.baseUrl, urlPolicy);
  if (urlProblem) throw new AppError('BAD_REQUEST', `Invalid config.baseUrl: ${urlProblem}.`, { param: 'config.baseUrl' });
  const node = await prisma.$transaction(async (tx) => {
    const created = await tx.node.create({
      data: {
        provider, modelId: model.id, accelerator, cloud, region, config: parsedConfig.data, launchedById: actor.type === 'USER' ? actor.id : null, clusterName: nodeClusterName(modelName),
        apiKeyCiphertext: apiKey === null ? null : nodeSecrets!.seal(apiKey),
      },
    });
    await tx.nodeEvent.create({ data: { nodeId: created.id, kind: 'LOG', message: `launch requested (${provider}${accelerator ? `, ${accelerator}` : ''})` } });
    await writeAuditLog(tx, { actor, requestId, action: 'node.launch', targetType: 'Node', targetId: created.id, metadata: { modelName, provider, accelerator, cloud, region, apiKeyGiven: apiKey !== null } });
    return created;
  });
  await enqueue(queue, 'node.launch', { nodeId: node.id });
  return node;
}
