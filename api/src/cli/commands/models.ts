import type { ServedModel } from '@cic/db';
import { updateModelPrice } from '@cic/core/billing/update-model-price';
import { AppError } from '@cic/core/errors';
import { createModel } from '@cic/core/models/create-model';
import type { CreateModelInput, UpdateModelInput } from '@cic/core/models/model-settings';
import { updateModel } from '@cic/core/models/update-model';
import { microsToUsd, parseFlags, positiveInt, usdToMicros, UsageError } from '../cli-io.ts';
import type { CliContext } from '../cli-context.ts';
import { resolveOrganization } from '../resolve-organization.ts';

export const MODELS_USAGE = `cic models list [--json]
cic models add NAME [--source HF_ID_OR_PATH] [--display-name TEXT] [--description TEXT]
                    [--max-model-len TOKENS] [--prompt-price USD] [--completion-price USD]
                    [--accelerator H100:1] [--vllm-version V] [--vllm-arg=ARG ...] [--secret-env NAME ...]
                    [--org ORG ... | --public]
cic models set-price NAME [--prompt USD] [--completion USD]

  list       the catalog: name, enabled, who sees it, prices (USD per million tokens), source
  add        adds NAME (what clients send as "model", e.g. Qwen/Qwen2.5-7B-Instruct) or, when it exists,
             sets the settings given (so re-running it converges). --vllm-arg takes one argument each,
             written with = when it starts with a dash: --vllm-arg=--tool-call-parser --vllm-arg=hermes.
             --org (id or slug, repeatable) limits the model to those organizations; --public lifts that.
             Nodes launched for the model get its source, accelerator, vLLM version, args and env names.
  set-price  sets prices in USD per million tokens (audited); usage not yet rolled up is charged at them`;

type Prices = { promptPriceMicros?: bigint; completionPriceMicros?: bigint };

async function listModels(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { values } = parseFlags(args, { json: { type: 'boolean' } }, MODELS_USAGE);
  const models = await ctx.prisma.servedModel.findMany({ orderBy: { name: 'asc' }, include: { access: { select: { organizationId: true } } } });
  if (values.json) {
    ctx.io.out(JSON.stringify(models.map(({ access, ...m }) => ({
      ...m, promptPriceMicros: m.promptPriceMicros.toString(), completionPriceMicros: m.completionPriceMicros.toString(), organizationIds: access.map((a) => a.organizationId),
    })), null, 2));
    return;
  }
  const rows = models.map((m) => [
    m.name, m.enabled ? 'yes' : 'no', m.isPublic ? 'public' : `${m.access.length} organization${m.access.length === 1 ? '' : 's'}`,
    microsToUsd(m.promptPriceMicros), microsToUsd(m.completionPriceMicros), m.source ?? '—',
  ]);
  const table = [['NAME', 'ENABLED', 'VISIBLE TO', 'PROMPT $/M', 'COMPLETION $/M', 'SOURCE'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const row of table) ctx.io.out(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

async function addModel(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    source: { type: 'string' }, 'display-name': { type: 'string' }, description: { type: 'string' }, 'max-model-len': { type: 'string' },
    'prompt-price': { type: 'string' }, 'completion-price': { type: 'string' }, accelerator: { type: 'string' }, 'vllm-version': { type: 'string' },
    'vllm-arg': { type: 'string', multiple: true }, 'secret-env': { type: 'string', multiple: true }, org: { type: 'string', multiple: true }, public: { type: 'boolean' },
  }, MODELS_USAGE, ['NAME']);
  if (values.org && values.public) throw new UsageError('--org limits the model to organizations, --public opens it to all: give one', MODELS_USAGE);
  const name = positionals[0]!;
  const organizationIds = values.org ? await Promise.all(values.org.map(async (o) => (await resolveOrganization(ctx.prisma, o)).id)) : undefined;
  const settings: UpdateModelInput = {
    source: values.source, displayName: values['display-name'], description: values.description,
    maxModelLen: positiveInt(values['max-model-len'], '--max-model-len', MODELS_USAGE), accelerator: values.accelerator, vllmVersion: values['vllm-version'],
    vllmArgs: values['vllm-arg'], secretEnvNames: values['secret-env'],
    ...(organizationIds ? { isPublic: false, organizationIds } : values.public ? { isPublic: true, organizationIds: [] } : {}),
  };
  const prices: Prices = {
    promptPriceMicros: values['prompt-price'] === undefined ? undefined : usdToMicros(values['prompt-price'], '--prompt-price', MODELS_USAGE),
    completionPriceMicros: values['completion-price'] === undefined ? undefined : usdToMicros(values['completion-price'], '--completion-price', MODELS_USAGE),
  };
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as UpdateModelInput;
  const { operator: viewer, prisma, bus, requestId } = ctx;
  const existing = await prisma.servedModel.findUnique({ where: { name } });
  if (!existing) {
    const model = await createModel({ prisma, bus, viewer, requestId, input: { name, ...given, ...prices } as CreateModelInput });
    ctx.io.out(`added model ${model.name} (${model.id})`);
    return;
  }
  const { changed } = await updateModel({ prisma, bus, viewer, requestId, modelId: existing.id, input: given });
  const repriced = await setPrices(ctx, existing, prices);
  ctx.io.out(`model ${name} (${existing.id}) ${changed || repriced ? 'updated' : 'unchanged'}`);
}

/** Sets the prices given that differ from the model's; true when it changed any. */
async function setPrices(ctx: CliContext, model: ServedModel, prices: Prices): Promise<boolean> {
  const promptPriceMicros = prices.promptPriceMicros === model.promptPriceMicros ? undefined : prices.promptPriceMicros;
  const completionPriceMicros = prices.completionPriceMicros === model.completionPriceMicros ? undefined : prices.completionPriceMicros;
  if (promptPriceMicros === undefined && completionPriceMicros === undefined) return false;
  await updateModelPrice({ prisma: ctx.prisma, viewer: ctx.operator, requestId: ctx.requestId, modelId: model.id, promptPriceMicros, completionPriceMicros });
  return true;
}

async function setPrice(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, { prompt: { type: 'string' }, completion: { type: 'string' } }, MODELS_USAGE, ['NAME']);
  if (values.prompt === undefined && values.completion === undefined) throw new UsageError('give --prompt or --completion (USD per million tokens)', MODELS_USAGE);
  const prices: Prices = {
    promptPriceMicros: values.prompt === undefined ? undefined : usdToMicros(values.prompt, '--prompt', MODELS_USAGE),
    completionPriceMicros: values.completion === undefined ? undefined : usdToMicros(values.completion, '--completion', MODELS_USAGE),
  };
  const model = await ctx.prisma.servedModel.findUnique({ where: { name: positionals[0]! } });
  if (!model) throw new AppError('BAD_REQUEST', `There is no model "${positionals[0]}" (cic models list shows the catalog).`);
  const changed = await setPrices(ctx, model, prices);
  const after = await ctx.prisma.servedModel.findUniqueOrThrow({ where: { id: model.id } });
  ctx.io.out(`model ${model.name}: prompt ${microsToUsd(after.promptPriceMicros)} USD, completion ${microsToUsd(after.completionPriceMicros)} USD per million tokens${changed ? '' : ' (unchanged)'}`);
}

export async function runModels(ctx: CliContext, args: readonly string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'list') return listModels(ctx, rest);
  if (sub === 'add') return addModel(ctx, rest);
  if (sub === 'set-price') return setPrice(ctx, rest);
  throw new UsageError(sub ? `unknown models command "${sub}"` : 'give a models command', MODELS_USAGE);
}
