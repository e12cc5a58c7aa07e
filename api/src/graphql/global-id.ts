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

/** The typename of an id whose prefix names no type: `node(id:)` answers null for it. */
export const UNKNOWN_TYPENAME = '';

export function decodeGlobalId(globalID: string): { typename: string; id: string } {
  const prefix = globalID.slice(0, globalID.indexOf('_'));
  return { typename: Object.hasOwn(TYPE_BY_PREFIX, prefix) ? TYPE_BY_PREFIX[prefix]! : UNKNOWN_TYPENAME, id: globalID };
}
