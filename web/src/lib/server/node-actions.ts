import { fail, type RequestEvent } from '@sveltejs/kit';
import { actionMessage, gql } from './api';
import { requirePlatformAdmin } from './require-admin';
import { viewerContext } from './viewer';

/** The Terminate form action of the node list and the node detail page (platform admins; the API authorizes again). */
export async function terminateNodeAction(event: RequestEvent) {
  requirePlatformAdmin((await viewerContext(event)).viewer);
  const id = String((await event.request.formData()).get('id') ?? '');
  try {
    await gql(event, 'mutation Terminate($id: ID!) { terminateNode(id: $id) { id status } }', { id });
    return { action: 'terminate', ok: true, message: 'Termination requested; the node drains and stops.' };
  } catch (err) {
    return fail(400, { action: 'terminate', message: actionMessage(err) });
  }
}
