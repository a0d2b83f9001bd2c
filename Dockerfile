# entitlement-mock container image.
#
#   docker build -t entitlement-mock .
#   docker run --rm -p 8443:8443 -p 8080:8080 entitlement-mock
#
# The commands below are replayed on the host by test/docker-image.test.ts
# (CI has no Docker engine): keep that test passing when you change them.

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are here; the build is its own step.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/bundle.mjs
COPY src ./src
# The reference license server, built into dist/examples/ (the compose rig's license-server).
COPY examples/license-server ./examples/license-server
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs tsc, a dev dependency that is not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The dashboard's static files (plain ES modules, served by the admin listener at /).
COPY ui ./ui
# The bundled conformance plans (POST /admin/conformance/runs takes them by name).
COPY conformance ./conformance
COPY scenarios /scenarios
# The bundled scenarios serve by default; mount your own folder over /scenarios.
# The development PKI is generated into /certs on first start (or by an init
# container running `certs --out /certs`); mount a volume there to share it.
ENV EM_SCENARIOS=/scenarios EM_CERTS=/certs
RUN mkdir -p /certs && chown node:node /certs && ln -s /app/bin/entitlement-mock /usr/local/bin/entitlement-mock
USER node
VOLUME ["/scenarios", "/certs"]
# 8443: entitlement endpoint (HTTPS, mutual TLS); 8080: admin API and /health, /metrics (plain HTTP).
EXPOSE 8443 8080
# No curl in the image: the CLI checks the admin /health itself (EM_ADMIN_PORT is honoured).
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=3 CMD ["node", "/app/bin/entitlement-mock.js", "health"]
# Exec form, the bin itself: a shell script that execs node on the start-up snapshot built in the
# build stage by this image's node (dist/snapshot/; the serve command sets its own heap policy), so
# node is PID 1 and gets SIGTERM from `docker stop`; the mock finishes in-flight responses and
# exits 0 by itself, so no init process is needed.
# Other subcommands: `docker run IMAGE certs --out /certs`, `… request --url …`.
ENTRYPOINT ["/app/bin/entitlement-mock"]
CMD ["serve"]
