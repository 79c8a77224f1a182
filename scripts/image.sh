#!/usr/bin/env bash
# make image: builds the bridge image from the Dockerfile, on the official Node LTS image (node:24-bookworm-slim) or,
# where that cannot be pulled, on the equivalent scripts/base-image.sh builds here. Same Dockerfile either way.
#
#   scripts/image.sh [TAG]     default TAG hotel-kafka-bridge:dev; NODE_IMAGE=… chooses the base yourself.
#                              Uses the engine DOCKER_HOST names (scripts/docker-engine.sh up starts one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TAG=${1:-hotel-kafka-bridge:dev}
OFFICIAL=node:24-bookworm-slim
log() { echo "[image] $*" >&2; }

case $TAG in -h | --help) sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || { log "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default}); scripts/docker-engine.sh up starts one"; exit 1; }

base=${NODE_IMAGE:-}
if [[ -z $base ]]; then
  if docker image inspect "$OFFICIAL" >/dev/null 2>&1 || timeout 60 docker pull -q "$OFFICIAL" >/dev/null 2>&1; then
    base=$OFFICIAL
  else
    log "$OFFICIAL cannot be pulled here: building an equivalent base locally"
    base=$(bash scripts/base-image.sh | sed -n 's/^NODE_IMAGE=//p')
  fi
fi
log "building $TAG on $base"
started=$(date +%s)
# A TLS-inspecting proxy between here and the npm registry: the build stage trusts what this machine trusts.
ca=${NODE_EXTRA_CA_CERTS:-}
rm -f build-ca.pem
trap 'rm -f build-ca.pem' EXIT
if [[ -n $ca && -r $ca ]]; then cp "$ca" build-ca.pem; fi
# The classic builder (no buildx needed); npm ci inside the build reaches the registry over the host's network.
DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "NODE_IMAGE=$base" -t "$TAG" . >/dev/null
log "built $TAG in $(($(date +%s) - started)) s: $(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}')"
echo "IMAGE=$TAG"
