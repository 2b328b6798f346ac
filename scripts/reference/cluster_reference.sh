#!/usr/bin/env bash
# Regenerates tests/data/cluster_reference.json with scikit-learn in a private venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${REFERENCE_VENV:-${TMPDIR:-/tmp}/deepclust-reference-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy scikit-learn
"$VENV/bin/python" scripts/reference/cluster_reference.py
