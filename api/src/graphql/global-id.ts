import { AppError } from '@cic/core/errors';

/**
 * Database ids already carry a type prefix (`org_…`, `key_…`), so the global id is the database id
 * itself: readable in logs and URLs, and still unique across types.
 */
const TYPE_BY_PREFIX: Readonly<Record<string, string>> = {
  usr: 'User',
  org: 'Organization',
  mem: 'Membership',
  inv: 'Invitation',
  key: 'ApiKey',
  mdl: 'Model',
  node: 'ComputeNode',
  nev: 'NodeEvent',
  led: 'LedgerEntry',
  aud: 'AuditLogEntry',
  bac: 'BillingAccount',
};

export const encodeGlobalId = (_typename: string, id: bigint | number | string): string => String(id);

export function decodeGlobalId(globalID: string): { typename: string; id: string } {
  const prefix = globalID.slice(0, globalID.indexOf('_'));
  const typename = TYPE_BY_PREFIX[prefix];
  if (!typename) throw new AppError('NOT_FOUND', `No object has the id "${globalID.slice(0, 64)}".`, { param: 'id' });
  return { typename, id: globalID };
}
