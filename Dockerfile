# syntax=docker/dockerfile:1
# amnesia service image: build with dev dependencies, run with production ones only, as a non-root
# user under tini so that SIGTERM reaches node (graceful shutdown writes the final snapshot).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs scripts/patch-kafkajs.mjs (postinstall: the kafkajs mends); the build needs
# scripts/copy-assets.mjs and, for src/cli/demo.ts, scripts/stack.mjs with its types.
# test/deploy/dockerfile.int.test.ts replays this stage in a directory holding only what it copies.
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/lib/amnesia \
  && chown node:node /var/lib/amnesia
WORKDIR /app
# HTTP on every interface (probes, Prometheus, the item queries). Beyond the loopback the user routes
# (/users/..., the inspector's data) are closed unless HTTP_AUTH_TOKEN is set at run time (never
# baked in here); the inspector, which shows user ids, stays off (off by default too: explicit).
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    INSPECTOR_ENABLED=false \
    SNAPSHOT_DIR=/var/lib/amnesia
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node schemas ./schemas
USER node
VOLUME ["/var/lib/amnesia"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
