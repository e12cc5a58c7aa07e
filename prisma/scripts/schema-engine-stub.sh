#!/bin/sh
echo "Prisma's native schema engine is not available offline: use 'npm run migrate -w @cic/db' (scripts/migrate.ts)." >&2
exit 1
