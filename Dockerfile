# Vigil: server and dashboard in one image. Node 24 comes from the `node` npm dependency, as everywhere.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 VIGIL_HOME=/var/lib/vigil
WORKDIR /app
RUN useradd --system --home /var/lib/vigil vigil && mkdir -p /var/lib/vigil && chown vigil /var/lib/vigil
COPY --from=build --chown=vigil /app /app
USER vigil
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["node_modules/.bin/node", "server/healthcheck.mjs"]
CMD ["node_modules/.bin/node", "server/start.mjs"]
