#!/usr/bin/env bash
# The container tests (test/container): builds the image (scripts/image.sh) and runs it with testcontainers against the
# local stack. The engine: DOCKER_HOST, else the default socket, else the one scripts/docker-engine.sh started. With no
# engine they cannot run: that is one line on stderr and exit 0, or a failure when CONTAINER_TESTS=required (CI).
#
#   scripts/container-tests.sh [VITEST OPTIONS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if [[ -z ${DOCKER_HOST:-} ]] && ! engine_answers && bash scripts/docker-engine.sh status >/dev/null 2>&1; then
  export "$(bash scripts/docker-engine.sh env)"
fi
if ! command -v docker >/dev/null || ! engine_answers; then
  why="no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}; as root, scripts/docker-engine.sh up starts one)"
  if [[ ${CONTAINER_TESTS:-} == required ]]; then
    echo "container tests: $why" >&2
    exit 1
  fi
  echo "container tests did not run: $why" >&2
  exit 0
fi

export BRIDGE_IMAGE=${BRIDGE_IMAGE:-hotel-kafka-bridge:dev}
bash scripts/image.sh "$BRIDGE_IMAGE" >/dev/null
npx vitest run --config vitest.container.config.ts "$@"
