import { error } from '@sveltejs/kit';
import { tryGql } from '$lib/server/api';
import { terminateNodeAction } from '$lib/server/node-actions';
import { requirePlatformAdmin } from '$lib/server/require-admin';
import { NODE_EVENT_FIELDS, NODE_FIELDS } from '$lib/graphql-fields';
import type { NodeEventRow, NodeRow } from '$lib/nodes';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  requirePlatformAdmin((await event.parent()).viewer);
  const res = await tryGql<{ node: (NodeRow & { events: { edges: { node: NodeEventRow }[] } }) | null }>(event, `
    query NodeDetail($id: ID!) { node(id: $id) { ... on ComputeNode { ${NODE_FIELDS} events(first: 50) { edges { node { ${NODE_EVENT_FIELDS} } } } } } }
  `, { id: event.params.id });
  if (res.data && !res.data.node) error(404, { message: `There is no node ${event.params.id}.`, hint: 'It may have been removed; go back to the node list.' });
  return { node: res.data?.node ?? null, events: res.data?.node?.events.edges.map((e) => e.node) ?? [], problem: res.problem };
};

export const actions: Actions = { terminate: terminateNodeAction };
