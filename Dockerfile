# hotel-kafka-bridge image: build with dev dependencies, run with production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schemas ./schemas
COPY config/example.yaml ./config/example.yaml
RUN mkdir -p /var/lib/bridge && chown node:node /var/lib/bridge
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "/app/config/example.yaml"]
