import { error } from '@sveltejs/kit';
import type { PageServerLoad } from './$types';

/**
 * Any address no page answers: a 404 thrown here, inside the app's layout, renders with the navigation
 * (SvelteKit answers unmatched addresses with the root error page, which has no layout).
 */
export const load: PageServerLoad = ({ url }) => {
  error(404, { message: `There is no page at ${url.pathname}.`, hint: 'Check the address, or pick a page from the navigation above.' });
};
