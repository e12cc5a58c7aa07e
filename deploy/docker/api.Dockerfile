# API server image (also runs the admin CLI, `npx cic`: migrate, bootstrap…, and the vLLM simulator). Build
# from the repository root.
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
# tsx (a dependency of @cic/api) runs the TypeScript sources, the `cic` bin included.
RUN npm ci --omit=dev --workspace @cic/api --workspace @cic/db --include-workspace-root=false --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules node_modules
COPY tsconfig.base.json package.json ./
COPY prisma prisma
COPY core core
COPY simulator simulator
COPY api api
RUN cd prisma && npx prisma generate
USER node
EXPOSE 4000
CMD ["node", "--import", "tsx", "api/src/main.ts"]
