# One image for every service; the command picks the app (see docker-compose.yml, deploy/kubernetes).
FROM node:24-bookworm-slim AS build
WORKDIR /hearth
COPY . .
RUN npm ci --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim
WORKDIR /hearth
COPY --from=build /hearth /hearth
USER node
