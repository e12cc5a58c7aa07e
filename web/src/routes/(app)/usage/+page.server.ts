import { loadUsage } from '$lib/server/usage';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const { organization } = await event.parent();
  if (!organization) return { points: [], buckets: [] as string[], params: null, problem: 'You are not a member of any organization yet.' };
  return loadUsage(event, organization.id);
};
