import { publicApiUrl } from '$lib/server/config';
import { viewerContext } from '$lib/server/viewer';
import type { LayoutServerLoad } from './$types';

/** Loads the signed-in user once for every page of the app. */
export const load: LayoutServerLoad = async (event) => ({ ...(await viewerContext(event)), publicApiUrl: publicApiUrl() });
