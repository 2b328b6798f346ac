#!/usr/bin/env bash
# Copies an experiment folder's small files — the report, figures, results.csv, experiment.toml,
# NOTES.md and each run's config.toml, metrics.jsonl, summary.json, error.txt — into DEST, leaving
# out checkpoints and .npy arrays. `deepclust report DEST` redraws tables and NMI figures from the
# copy and keeps the t-SNE maps drawn before (drawing them anew needs the runs' final .npy files).
#
#   scripts/export-results.sh runs/paper results/paper
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 EXPERIMENT_DIR DEST" >&2; exit 2; }
src="${1%/}"; dest="${2%/}"
[ -f "$src/experiment.toml" ] || { echo "$src: no experiment.toml, not an experiment folder" >&2; exit 1; }
mkdir -p "$dest"
(cd "$src" && find . -type f \( -name REPORT.md -o -name NOTES.md -o -name results.csv \
    -o -name experiment.toml -o -name config.toml -o -name metrics.jsonl -o -name summary.json \
    -o -name error.txt -o -path './figures/*' \) -not -path '*/checkpoint/*' -print0) |
  while IFS= read -r -d '' f; do
    mkdir -p "$dest/$(dirname "$f")"
    cp "$src/$f" "$dest/$f"
  done
echo "exported $src to $dest ($(du -sh "$dest" | cut -f1))"
