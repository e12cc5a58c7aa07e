# Dashboard image (SvelteKit, adapter-node). Build from the repository root.
FROM node:20-bookworm-slim AS build
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
RUN npm ci --workspace @cic/web --include-workspace-root=false --no-audit --no-fund
COPY prisma prisma
COPY core core
COPY web web
RUN npm run build -w @cic/web

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/web/build web/build
COPY web/package.json web/
USER node
EXPOSE 3000
CMD ["node", "web/build/index.js"]
