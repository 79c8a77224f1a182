# hotel-kafka-bridge image: build with dev dependencies, run with production ones only, as the non-root node user.
# NODE_IMAGE: any Debian-based image with Node.js (a supported LTS line) and a `node` user; the default is
# the official one. Where it cannot be pulled, scripts/base-image.sh builds an equivalent locally.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# build-ca.pem (optional, never in the final image): the CA bundle of a TLS-inspecting proxy between this build and
# the npm registry; scripts/image.sh passes the host's when there is one.
COPY package.json package-lock.json build-ca.pe[m] ./
RUN if [ -f build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/app/build-ca.pem; fi; \
    npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

FROM ${NODE_IMAGE}
# In a container the bridge must listen on every interface, and its spool must be on the volume,
# whatever a mounted config file copied from the local example says.
ENV NODE_ENV=production \
    BRIDGE_CONFIG=/etc/hotel-kafka-bridge/config.yaml \
    BRIDGE_HTTP_HOST=0.0.0.0 \
    BRIDGE_SPOOL_DIR=/var/lib/bridge/spool
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (pruned in the build stage): no registry access from this stage.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY config/example.yaml ./config/example.yaml
COPY config/container.yaml /etc/hotel-kafka-bridge/config.yaml
RUN mkdir -p /var/lib/bridge/spool && chown -R node:node /var/lib/bridge
VOLUME ["/var/lib/bridge"]
USER node
EXPOSE 8080
# SIGTERM drains: in-flight requests finish, then the spool is replayed while Kafka answers for shutdownGraceMs
# (default 8 s, inside `docker stop`'s 10 s; with BRIDGE_SHUTDOWN_GRACE_MS=30000 give `docker stop -t 40`).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/bin.js", "health", "--timeout", "4"]
ENTRYPOINT ["node", "dist/bin.js"]
CMD ["serve"]
