# The gold worker image: `gold worker` by default; any other gold command works too.
# Node 24 (LTS) on Debian 13 (trixie) slim; gold supports Node 20.3+, 22 and 24 (package.json engines,
# docs/testing.md), so e.g. `--build-arg NODE_IMAGE=node:22-trixie-slim` builds on Node 22. The native
# modules (DuckDB, lmdb, msgpackr-extract, Temporal's core bridge) are N-API prebuilt binaries for glibc:
# a Debian image needs no compiler; an Alpine (musl) one is not tested.
ARG NODE_IMAGE=node:24-trixie-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production GOLD_HOME=/var/lib/gold
COPY --from=build /app /app
RUN mkdir -p /var/lib/gold && chown node:node /var/lib/gold
USER node
EXPOSE 9464 9465 8080
ENTRYPOINT ["node", "bin/gold.js"]
CMD ["worker"]
