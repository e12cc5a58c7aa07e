import { apiUrl } from '$lib/server/config';
import type { PageServerLoad } from './$types';

interface Readiness {
  status: string;
  failed: string[];
}

/** The platform's readiness as the API reports it; the page fails soft when the API is down. */
export const load: PageServerLoad = async ({ fetch }) => {
  try {
    const res = await fetch(`${apiUrl()}/readyz`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json()) as Readiness;
    return { api: { reachable: true, ready: res.ok, failed: body.failed } };
  } catch {
    return { api: { reachable: false, ready: false, failed: [] as string[] } };
  }
};
