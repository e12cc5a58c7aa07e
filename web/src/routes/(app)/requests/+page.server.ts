import { tryGql } from '$lib/server/api';
import { requestFilters, type RequestRow } from '$lib/requests';
import type { PageServerLoad } from './$types';

/** Rows per page: enough to scan, well under the API's page limit (100). */
const PAGE_SIZE = 50;

interface Answer {
  organization: {
    apiKeys: { edges: { node: { id: string; name: string; prefix: string } }[] };
    requests: { edges: { node: RequestRow }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  } | null;
  models: { name: string }[];
}

export const load: PageServerLoad = async (event) => {
  const { organization } = await event.parent();
  const filters = requestFilters(event.url);
  if (!organization) return { rows: [], keys: [], models: [], filters, next: null, problem: 'You are not a member of any organization yet.' };
  const res = await tryGql<Answer>(event, `
    query Requests($id: ID!, $first: Int!, $after: String, $apiKeyId: ID, $model: String, $status: RequestStatusClass) {
      organization(id: $id) {
        apiKeys(first: 100) { edges { node { id name prefix } } }
        requests(first: $first, after: $after, apiKeyId: $apiKeyId, model: $model, status: $status) {
          edges { node { id requestId startedAt model endpoint stream status outcome promptTokens completionTokens ttftMs durationMs costMicros apiKey { id name } } }
          pageInfo { hasNextPage endCursor }
        }
      }
      models { name }
    }
  `, { id: organization.id, first: PAGE_SIZE, after: filters.after, apiKeyId: filters.key, model: filters.model, status: filters.status });
  const org = res.data?.organization;
  return {
    rows: org?.requests.edges.map((e) => e.node) ?? [],
    keys: org?.apiKeys.edges.map((e) => e.node) ?? [],
    models: res.data?.models.map((m) => m.name) ?? [],
    filters,
    next: org?.requests.pageInfo.hasNextPage ? org.requests.pageInfo.endCursor : null,
    problem: res.problem,
  };
};
