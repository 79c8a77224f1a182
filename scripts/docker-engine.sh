#!/usr/bin/env bash
# A Docker engine of this checkout's own, for the container tests where no engine runs: Debian's dockerd, as root,
# with no bridge, no iptables and no IP forwarding (containers use the host's network only), its data root, socket
# and PID file under the git-ignored .docker/. Only the PID this script recorded is ever signalled.
#
#   scripts/docker-engine.sh up       start it (installing docker.io first when dockerd is missing and apt can);
#                                     prints DOCKER_HOST=unix://…/.docker/docker.sock
#   scripts/docker-engine.sh down     stop the engine this script started
#   scripts/docker-engine.sh status   whether it runs and answers
#   scripts/docker-engine.sh env      the DOCKER_HOST line
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DIR=${DOCKER_ENGINE_DIR:-$PWD/.docker}
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
LOG=$DIR/dockerd.log
HOST=unix://$SOCK

log() { echo "[docker-engine] $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# The PID in our file, if it is alive and is a dockerd (a recycled PID is never taken for ours).
our_pid() {
  local pid
  [[ -f $PIDFILE ]] || return 1
  pid=$(<"$PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "dockerd.*--pidfile $PIDFILE" || return 1
  echo "$pid"
}

answers() { docker -H "$HOST" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install_engine() {
  command -v dockerd >/dev/null && return 0
  [[ $(id -u) == 0 ]] || die "dockerd is missing and installing docker.io needs root"
  command -v apt-get >/dev/null || die "dockerd is missing and this machine has no apt-get to install docker.io"
  log "installing Debian's docker.io (dockerd, containerd, runc)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >"$DIR/apt.log" 2>&1 ||
    { apt-get update >>"$DIR/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io >>"$DIR/apt.log" 2>&1; } ||
    die "could not install docker.io (see $DIR/apt.log)"
}

up() {
  mkdir -p "$DIR"
  if our_pid >/dev/null && answers; then
    log "already running (pid $(our_pid))"
    echo "DOCKER_HOST=$HOST"
    return 0
  fi
  [[ $(id -u) == 0 ]] || die "dockerd must run as root here"
  install_engine
  command -v docker >/dev/null || die "the docker client is missing"
  rm -f "$SOCK" "$PIDFILE"
  log "starting dockerd (data root $DIR/data, socket $SOCK, log $LOG)"
  # No bridge and no NAT: containers get the host's network (--network host) and nothing else.
  setsid dockerd \
    --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
    --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
    -H "$HOST" >"$LOG" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 120; i++)); do
    if answers; then
      log "dockerd answers (pid $(<"$PIDFILE"), server $(docker -H "$HOST" version --format '{{.Server.Version}}'))"
      echo "DOCKER_HOST=$HOST"
      return 0
    fi
    if ((i > 10)) && ! our_pid >/dev/null && [[ -f $PIDFILE ]]; then break; fi
    sleep 0.5
  done
  tail -20 "$LOG" >&2 || true
  die "dockerd did not answer within 60 s (log: $LOG)"
}

down() {
  local pid i
  if ! pid=$(our_pid); then
    log "not running"
    unmount_leftovers
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "dockerd ignored SIGTERM for 30 s; sending SIGKILL"
    kill -KILL "$pid"
  fi
  unmount_leftovers
  rm -f "$PIDFILE"
  log "stopped"
}

# dockerd leaves its network namespace mounted under its exec root (exec/netns/default), and a checkout holding a
# mount cannot be removed: whatever is still mounted under our folder is unmounted, the deepest first.
unmount_leftovers() {
  local mounted
  while read -r mounted; do
    umount "$mounted" 2>/dev/null || log "could not unmount $mounted"
  done < <(awk -v root="$DIR/" 'index($2, root) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

status() {
  local pid
  if pid=$(our_pid) && answers; then
    echo "dockerd: running, answering on $SOCK (pid $pid)"
  else
    echo "dockerd: stopped"
    return 1
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  env) echo "DOCKER_HOST=$HOST" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
