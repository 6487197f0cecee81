#!/usr/bin/env bash
# Sets up the independent validators (kept read-only in ../shared/tools beside the project root)
# in a virtualenv under the project's target/ folder, and prints that venv's python on the last line:
#
#     PY=$(scripts/setup-validators.sh | tail -n 1)
#
# First run: creates the venv (needs python3 with venv/pip and network access to PyPI) and runs the
# validators' self-test. Later runs reuse the venv and skip the self-test as long as neither the
# validators nor the venv changed (a stamp file records a checksum of both).
#
# Environment:
#   PIPEFIX_SHARED_DIR      the shared folder (default: ../shared relative to the project root)
#   PIPEFIX_VALIDATORS_VENV where to put the venv (default: target/validators-venv)
#   PIPEFIX_VALIDATORS_FORCE=1  re-run the setup and self-test even if the stamp is current
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
shared=${PIPEFIX_SHARED_DIR:-$root/../shared}
tools="$shared/tools"
venv=${PIPEFIX_VALIDATORS_VENV:-$root/target/validators-venv}
case $venv in /*) ;; *) venv="$root/$venv" ;; esac
stamp="$venv/.pipefix-validators.stamp"

if [ ! -x "$tools/setup.sh" ]; then
  echo "setup-validators: $tools/setup.sh not found; put a copy of shared/ beside the project root" >&2
  echo "  (or set PIPEFIX_SHARED_DIR)" >&2
  exit 1
fi

# Checksum of everything the validators consist of, plus the interpreter the venv points at.
fingerprint() {
  (
    cd "$tools"
    find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    if [ -f "$venv/pyvenv.cfg" ]; then cat "$venv/pyvenv.cfg"; fi
  ) | sha256sum | cut -d' ' -f1
}

if [ "${PIPEFIX_VALIDATORS_FORCE:-0}" != 1 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ] \
   && [ "$(cat "$stamp")" = "$(fingerprint)" ] \
   && "$venv/bin/python" -c 'import botocore, yaml, jsonschema' 2>/dev/null; then
  echo "setup-validators: $venv is up to date" >&2
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
rm -f "$stamp"
py=$("$tools/setup.sh" "$venv" | tail -n 1)
if [ ! -x "$py" ]; then
  echo "setup-validators: setup.sh did not report a usable python (got '$py')" >&2
  exit 1
fi
fingerprint >"$stamp"
echo "$py"
