import { fail } from '@sveltejs/kit';
import { actionMessage, gql, tryGql } from '$lib/server/api';
import { chooseOrganization } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

interface Received { id: string; organizationId: string; organizationName: string; role: string; invitedBy: string | null; expiresAt: string }

/** The signed-in user's open invitations: nothing joins them to an organization until they accept here. */
export const load: PageServerLoad = async (event) => {
  const res = await tryGql<{ viewer: { invitations: Received[] } }>(event, 'query MyInvitations { viewer { invitations { id organizationId organizationName role invitedBy expiresAt } } }');
  return { invitations: res.data?.viewer.invitations ?? [], problem: res.problem };
};

const idOf = async (event: { request: Request }) => String((await event.request.formData()).get('invitationId') ?? '');

export const actions: Actions = {
  accept: async (event) => {
    try {
      const { acceptInvitation } = await gql<{ acceptInvitation: { organizationId: string; organizationName: string; role: string } }>(event,
        'mutation AcceptInvitation($id: ID!) { acceptInvitation(id: $id) { organizationId organizationName role } }', { id: await idOf(event) });
      // Show the organization just joined.
      chooseOrganization(event.cookies, acceptInvitation.organizationId);
      return { ok: true, message: `You joined ${acceptInvitation.organizationName} as ${acceptInvitation.role}; it is now selected.` };
    } catch (err) {
      return fail(400, { ok: false, message: actionMessage(err) });
    }
  },
  decline: async (event) => {
    try {
      const { declineInvitation } = await gql<{ declineInvitation: { organizationName: string } }>(event,
        'mutation DeclineInvitation($id: ID!) { declineInvitation(id: $id) { organizationName } }', { id: await idOf(event) });
      return { ok: true, message: `You declined the invitation to ${declineInvitation.organizationName}.` };
    } catch (err) {
      return fail(400, { ok: false, message: actionMessage(err) });
    }
  },
};
