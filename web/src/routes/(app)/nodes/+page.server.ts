import { fail } from '@sveltejs/kit';
import { actionMessage, gql, tryGql } from '$lib/server/api';
import { launchNodeInput } from '$lib/server/launch-node-input';
import { terminateNodeAction } from '$lib/server/node-actions';
import { requirePlatformAdmin } from '$lib/server/require-admin';
import { NODE_FIELDS } from '$lib/graphql-fields';
import type { NodeRow } from '$lib/nodes';
import { viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  requirePlatformAdmin((await event.parent()).viewer);
  const res = await tryGql<{ nodes: { edges: { node: NodeRow }[] }; models: { name: string; displayName: string | null }[] }>(event, `
    query Nodes { nodes(first: 50) { edges { node { ${NODE_FIELDS} } } } models { name displayName } }
  `);
  return { nodes: res.data?.nodes.edges.map((e) => e.node) ?? [], models: res.data?.models ?? [], problem: res.problem };
};

export const actions: Actions = {
  launch: async (event) => {
    requirePlatformAdmin((await viewerContext(event)).viewer);
    const input = launchNodeInput(await event.request.formData());
    if (!input.model) return fail(400, { action: 'launch', message: 'Pick the model the node should serve.' });
    if (input.provider === 'STATIC' && !input.config.baseUrl) return fail(400, { action: 'launch', message: 'A static node needs the base URL of its running vLLM server.' });
    try {
      const data = await gql<{ launchNode: { id: string; status: string } }>(event, `
        mutation Launch($input: LaunchNodeInput!) { launchNode(input: $input) { id status } }
      `, { input });
      return { action: 'launch', ok: true, message: `Node ${data.launchNode.id} is ${data.launchNode.status}; it appears below and updates live.`, nodeId: data.launchNode.id };
    } catch (err) {
      return fail(400, { action: 'launch', message: actionMessage(err) });
    }
  },
  terminate: terminateNodeAction,
};
