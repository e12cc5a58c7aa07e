import { error } from '@sveltejs/kit';
import { csvRows } from '$lib/csv';
import { gql, ApiError, ApiUnavailableError } from '$lib/server/api';
import { loadUsage } from '$lib/server/usage';
import { currentMembership, VIEWER_QUERY, type Viewer } from '$lib/server/viewer';
import type { RequestHandler } from './$types';

/** CSV of the same series the usage page shows (same query parameters). */
export const GET: RequestHandler = async (event) => {
  let viewer: Viewer;
  try {
    viewer = (await gql<{ viewer: Viewer }>(event, VIEWER_QUERY)).viewer;
  } catch (err) {
    if (err instanceof ApiUnavailableError || err instanceof ApiError) error(503, { message: 'The API is not reachable; try the export again in a moment.' });
    throw err;
  }
  const membership = currentMembership(viewer, event.cookies);
  if (!membership) error(404, { message: 'You are not a member of any organization.' });
  const { points, problem, params } = await loadUsage(event, membership.organization.id);
  if (problem) error(503, { message: problem });
  const rows = [
    ['bucket', 'api_key', 'model', 'requests', 'prompt_tokens', 'completion_tokens', 'cost_usd'],
    ...points.map((p) => [p.bucket, p.apiKeyName, p.model, p.requests, p.promptTokens, p.completionTokens, (Number(p.costMicros) / 1e6).toFixed(6)]),
  ];
  return new Response(csvRows(rows), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="cic-usage-${params.range}-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
    },
  });
};
