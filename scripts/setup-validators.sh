#!/usr/bin/env bash
# Sets up the independent validators (kept read-only in ../shared/tools beside the project root)
# in a virtualenv under the project's target/ folder, and prints that venv's python on the last line:
#
#     PY=$(scripts/setup-validators.sh | tail -n 1)
#
# First run: creates the venv (needs python3 with venv/pip and network access to PyPI), runs the
# validators' self-test, then installs the project's own extra requirements
# (scripts/validators-requirements.txt: cfn-lint, a pinned botocore). Later runs reuse the venv and
# skip all of it as long as neither the validators, nor the extra requirements, nor the venv changed
# (a stamp file records a checksum of the three).
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
extra="$root/scripts/validators-requirements.txt"

if [ ! -x "$tools/setup.sh" ]; then
  echo "setup-validators: $tools/setup.sh not found; put a copy of shared/ beside the project root" >&2
  echo "  (or set PIPEFIX_SHARED_DIR)" >&2
  exit 1
fi

# Checksum of everything the validators consist of, the project's extra requirements, plus the
# interpreter the venv points at.
fingerprint() {
  (
    cd "$tools"
    find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum <"$extra"
    if [ -f "$venv/pyvenv.cfg" ]; then cat "$venv/pyvenv.cfg"; fi
  ) | sha256sum | cut -d' ' -f1
}

if [ "${PIPEFIX_VALIDATORS_FORCE:-0}" != 1 ] && [ -x "$venv/bin/python" ] && [ -f "$stamp" ] \
   && [ "$(cat "$stamp")" = "$(fingerprint)" ] \
   && "$venv/bin/python" -c 'import botocore, yaml, jsonschema, cfnlint' 2>/dev/null; then
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
# The project's own requirements, with the shared pins as constraints (a disagreement fails here).
"$py" -m pip install -q --disable-pip-version-check -r "$extra" -c "$tools/requirements.txt" >&2
"$py" -c 'import sys; from cfnlint.runner import main; sys.argv[0] = "cfn-lint"; sys.exit(main())' --version >&2
fingerprint >"$stamp"
echo "$py"
