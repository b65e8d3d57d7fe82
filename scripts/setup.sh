#!/usr/bin/env bash
# Makes this machine ready to build, run and test Berth; safe to run again (does only what is
# missing). Installs Debian packages (Docker engine, busybox-static, AWS CLI, iproute2, and the
# compiler better-sqlite3 may need) when run as root,
# starts dockerd if no engine answers, installs npm packages and builds.
#   scripts/setup.sh            everything
#   scripts/setup.sh --node     npm packages and build only
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

need_pkgs=()
want_pkg() { command -v "$1" >/dev/null 2>&1 || need_pkgs+=("$2"); }

# better-sqlite3 builds from source when no prebuilt binary can be fetched (npm's registry only):
# installed as root; otherwise only said, as a prebuilt binary may well come.
for tool in make:make g++:g++ python3:python3; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then need_pkgs+=("${tool#*:}"); else log "no ${tool%%:*}: building better-sqlite3 from source would fail"; fi
  fi
done
if [ "${1:-}" != "--node" ]; then
  want_pkg dockerd docker.io
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need_pkgs+=(busybox-static)
  want_pkg aws awscli
  want_pkg ip iproute2
  want_pkg nsenter util-linux
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${need_pkgs[*]} (run as root, or: sudo apt-get install -y ${need_pkgs[*]})"
    exit 1
  fi
  log "installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ "${1:-}" != "--node" ]; then

  if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      log "no Docker engine answers; start one (sudo dockerd &) and run again"
      exit 1
    fi
    log "starting dockerd (log: /tmp/berth-dockerd.log)"
    nohup dockerd >/tmp/berth-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && break
      sleep 0.5
    done
    docker info >/dev/null 2>&1 || { log "dockerd did not come up; see /tmp/berth-dockerd.log"; tail -20 /tmp/berth-dockerd.log >&2; exit 1; }
  fi
fi

# npm packages: reinstall when the lock file is newer than the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  # `npm install`, not `npm ci`: with this machine's npm settings the lock file omits the
  # optional per-platform packages of one lint dependency, which `npm ci` refuses. The lock
  # still pins every version installed.
  npm install --no-audit --no-fund --loglevel=error
fi
log "building"
npm run --silent build
