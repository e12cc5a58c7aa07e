import { lexicographicSortSchema } from '../graphql-js.ts';
import { builder } from '../builder.ts';
import './scalars.ts';
import './user.ts';
import './organization.ts';
import './organization-limits.ts';
import './membership.ts';
import './invitation.ts';
import './api-key.ts';
import './api-key-mutations.ts';
import './member-mutations.ts';
import './invitation-mutations.ts';
import './usage.ts';
import './request-log.ts';
import './billing.ts';
import './billing-mutations.ts';
import './model.ts';
import './model-mutations.ts';
import './compute-node.ts';
import './node-mutations.ts';
import './audit-log.ts';
import './platform-settings.ts';
import './viewer.ts';
import './subscriptions.ts';

/** The executable schema, sorted so the printed SDL diffs only when the schema changes. */
export const schema = lexicographicSortSchema(builder.toSchema());
