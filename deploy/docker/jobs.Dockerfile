# Job workers image. Build from the repository root.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY prisma/package.json prisma/
COPY core/package.json core/
COPY simulator/package.json simulator/
COPY api/package.json api/
COPY jobs/package.json jobs/
COPY web/package.json web/
COPY loadtests/package.json loadtests/
COPY deploy/package.json deploy/
RUN npm ci --omit=dev --workspace @cic/jobs --workspace @cic/api --workspace @cic/db --include-workspace-root=false --no-audit --no-fund \
 && npm install --no-save tsx@4.23.15

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules node_modules
COPY tsconfig.base.json package.json ./
COPY prisma prisma
COPY core core
COPY simulator simulator
COPY jobs jobs
RUN cd prisma && npx prisma generate
USER node
EXPOSE 4001
CMD ["node", "--import", "tsx", "jobs/src/main.ts"]
