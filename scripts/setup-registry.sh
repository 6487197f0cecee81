#!/usr/bin/env bash
# Installs what tests/registry.rs needs when it is missing: Debian's docker-registry (CNCF
# distribution, the OCI registry the tests start on 127.0.0.1 with their own configuration)
# and htpasswd (apache2-utils, for the Basic-auth test). Nothing is started here, and Debian's
# default registry configuration is never used.
set -euo pipefail

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ ${#missing[@]} -eq 0 ]; then
    echo "registry test tools present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "cannot install ${missing[*]}: no apt-get (the registry tests will be skipped)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package's own service (default configuration, every interface) must not run here.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    $SUDO systemctl stop docker-registry || true
fi
