# syntax=docker/dockerfile:1
# Multi-stage image for the server. Migrations are a separate command on the same image
# (`pnpm --workspace-root db:migrate`), run once per deploy before the servers start (see docker-compose.yml).

ARG NODE_VERSION=24-bookworm-slim

FROM node:${NODE_VERSION} AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
RUN npm install --global pnpm@10.34.8
WORKDIR /app

# Dependencies first, so source changes reuse this layer.
FROM base AS deps
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY apps/server/package.json apps/server/
COPY packages/api/package.json packages/api/
COPY packages/db/package.json packages/db/
COPY packages/client/package.json packages/client/
COPY examples/consumer/package.json examples/consumer/
RUN pnpm install --frozen-lockfile --ignore-scripts

FROM deps AS build
COPY . .
# Generates the Prisma client (WebAssembly; no native engine is downloaded), then compiles the
# server to JavaScript (apps/server/dist): no TypeScript loader runs in production.
RUN pnpm db:generate && pnpm --filter @todo/server build

FROM base AS runtime
ENV NODE_ENV=production PORT=3000
COPY --from=build --chown=node:node /app /app
# The compiled server imports its dependencies from the server package's node_modules.
WORKDIR /app/apps/server
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/main.js"]
