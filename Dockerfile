# Vigil: server and dashboard in one image. Node 24 comes from the `node` npm dependency, as everywhere.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Secrets and keys a checkout may hold (docker-compose mounts them) never reach the image.
RUN npm run build && npm prune --omit=dev && rm -rf deploy/keys deploy/secrets deploy/tls .env

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 VIGIL_HOME=/var/lib/vigil
WORKDIR /app
# uid and gid 999: the owner of the data directories in the PostgreSQL image (deploy/postgres), whose volumes
# pgBackRest reads here, read-only, to back them up (docker-compose.yml); created before the packages below,
# whose postgres user takes another id and is not used.
RUN groupadd --system --gid 999 vigil && useradd --system --uid 999 --gid vigil --home /var/lib/vigil vigil \
  && mkdir -p /var/lib/vigil && chown vigil /var/lib/vigil
# pgBackRest (backups, verify, restore) and PostgreSQL 15's client and server binaries (pg_ctl starts the restore
# drill's copy), all from Debian; no cluster of their own.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
  && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/vigil.conf \
  && apt-get update \
  && apt-get install -y --no-install-recommends pgbackrest postgresql-client-15 postgresql-15 \
  && rm -rf /var/lib/apt/lists/* \
  && pgbackrest version && /usr/lib/postgresql/15/bin/pg_ctl --version
COPY --from=build --chown=vigil /app /app
USER vigil
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["node_modules/.bin/node", "server/healthcheck.mjs"]
CMD ["node_modules/.bin/node", "server/start.mjs"]
