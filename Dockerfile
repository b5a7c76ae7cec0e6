# The gold worker image: `gold worker` by default; any other gold command works too.
FROM node:20-bookworm-slim AS build
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

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production GOLD_HOME=/var/lib/gold
COPY --from=build /app /app
RUN mkdir -p /var/lib/gold && chown node:node /var/lib/gold
USER node
EXPOSE 9464 9465 8080
ENTRYPOINT ["node", "bin/gold.js"]
CMD ["worker"]
