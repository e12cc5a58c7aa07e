/** Field selections shared by several dashboard operations (browser-safe; checked against api/schema.graphql by a test). */
export const KEY_FIELDS = 'id name prefix createdAt lastUsedAt revokedAt expiresAt rpmLimit tpmLimit';
export const NODE_FIELDS = 'id status statusReason provider accelerator cloud region endpointUrl runningRequests waitingRequests kvCacheUsage createdAt readyAt model { name }';
export const NODE_EVENT_FIELDS = 'id kind fromStatus toStatus message createdAt';
