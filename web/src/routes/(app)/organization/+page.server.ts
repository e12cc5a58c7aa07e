import { error, redirect } from '@sveltejs/kit';
import { chooseOrganization, viewerContext } from '$lib/server/viewer';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

/** Switches the organization the dashboard shows (only to one the user belongs to). */
export const actions: Actions = {
  default: async (event) => {
    const id = String((await event.request.formData()).get('organizationId') ?? '');
    const { viewer } = await viewerContext(event);
    if (!viewer.memberships.some((m) => m.organization.id === id)) error(403, { message: 'You are not a member of that organization.' });
    chooseOrganization(event.cookies, id);
    redirect(303, '/');
  },
};
