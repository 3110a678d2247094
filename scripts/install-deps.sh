#!/usr/bin/env bash
# Installs the Debian 12 packages the tests and the demo need, when they are missing:
#   postgresql-15, mariadb-server, nats-server, chromium (headless console tests; tests start them as plain processes on free
#   127.0.0.1 ports, never as system services).
# Idempotent: installs only what is missing, and runs apt-get update only then. Runs as root, or
# through sudo otherwise. The packages' postinst scripts are kept from starting the system
# services (policy-rc.d); if one starts anyway, the tests do not use it.
set -euo pipefail

PACKAGES=(postgresql-15 mariadb-server nats-server chromium)

log() { printf 'install-deps: %s\n' "$*"; }

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  log "not root and sudo is not installed; run this script as root" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "apt-get not found; this script supports Debian 12 (bookworm). Install by hand: ${PACKAGES[*]}" >&2
  exit 1
fi

installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if installed "$pkg"; then
    log "already installed: $pkg"
  else
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "nothing to do"
  exit 0
fi

# invoke-rc.d consults /usr/sbin/policy-rc.d; exit code 101 means "action forbidden", so the
# postinst scripts install the services without starting them. Leave an existing policy alone
# (Docker images ship one) and remove only the one we created.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
cleanup() {
  if [[ $created_policy -eq 1 ]]; then
    "${SUDO[@]}" rm -f "$POLICY"
  fi
}
trap cleanup EXIT
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\n# temporary, from hms-sync scripts/install-deps.sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  created_policy=1
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
  if ! installed "$pkg"; then
    log "failed to install $pkg" >&2
    exit 1
  fi
done
log "installed: ${missing[*]}"
