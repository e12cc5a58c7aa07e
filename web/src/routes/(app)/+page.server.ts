import { tryGql } from '$lib/server/api';
import type { PageServerLoad } from './$types';

/** BigInt counts arrive as strings. */
interface Totals { requests: string; promptTokens: string; completionTokens: string; costMicros: string }
interface OverviewData {
  organization: {
    billing: { balanceMicros: string; lowBalanceMicros: string; frozen: boolean } | null;
    usage: { totals: Totals };
  } | null;
  /** The models this organization may call (public ones and those limited to it), with prices per million tokens. */
  models: { name: string; displayName: string | null; maxModelLen: number; promptPriceMicros: string; completionPriceMicros: string; available: boolean }[];
  /** How credits come: bought (stripe) or granted by the operator (manual), and whom to ask then. */
  billingSettings: { mode: string; operatorContact: string | null };
}

const startOfUtcDay = () => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d.toISOString();
};

export const load: PageServerLoad = async (event) => {
  const { organization, viewer } = await event.parent();
  if (!organization) return { overview: null, nodes: null, problem: 'You are not a member of any organization yet.' };
  const res = await tryGql<OverviewData>(event, `
    query Overview($id: ID!, $from: DateTime!) {
      organization(id: $id) {
        billing { balanceMicros lowBalanceMicros frozen }
        usage(from: $from, granularity: DAY) { totals { requests promptTokens completionTokens costMicros } }
      }
      models { name displayName maxModelLen promptPriceMicros completionPriceMicros available }
      billingSettings { mode operatorContact }
    }
  `, { id: organization.id, from: startOfUtcDay() });
  let nodes: { status: string }[] | null = null;
  if (viewer.isPlatformAdmin) {
    const n = await tryGql<{ nodes: { edges: { node: { status: string } }[] } }>(event, 'query NodeSummary { nodes(first: 100) { edges { node { status } } } }');
    nodes = n.data?.nodes.edges.map((e) => e.node) ?? null;
  }
  return { overview: res.data, nodes, problem: res.problem };
};
