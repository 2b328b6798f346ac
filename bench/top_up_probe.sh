#!/usr/bin/env bash
# PCK-means' top-up on fixed features: labels (1 %) from only M of the 10 classes, clustered the
# way a DeepCluster epoch does (PCA-32, whitened, L2; 5 iterations), with the centroids beyond the
# labelled classes' means from one k-means++ draw or from k-means fitted around those means.
# Prints NMI per seed and the mean. Run it on a finished run's final features, e.g.
#
#   bench/top_up_probe.sh runs/paper-fixed/sparsity/1pct/seed-0
#
# DEEPCLUST overrides the binary (default: target/release/deepclust).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 RUN_DIR [SEEDS]" >&2; exit 2; }
run="${1%/}"; seeds="${2:-0 1 2 3 4}"
bin="${DEEPCLUST:-$(dirname "$0")/../target/release/deepclust}"
for f in features-final.npy truth.npy; do
  [ -f "$run/$f" ] || { echo "$run/$f: missing (a finished run keeps it)" >&2; exit 1; }
done
printf '%-10s %-9s %s\n' classes top-up "NMI per seed (mean)"
for m in 1 2 5 8; do
  for how in kmeans++ kmeans; do
    vals=()
    for s in $seeds; do
      vals+=("$("$bin" --quiet --seed "$s" --threads 1 cluster --features "$run/features-final.npy" \
        --truth "$run/truth.npy" --algo pckmeans --labels 1% --classes "random:$m" \
        --cannot-link-fraction 0.01 --max-iter 5 --pca 32 --whiten --l2 --top-up "$how" --json |
        python3 -c 'import json, sys; print("%.3f" % json.load(sys.stdin)["nmi"])')")
    done
    mean=$(printf '%s\n' "${vals[@]}" | python3 -c 'import sys; v=[float(x) for x in sys.stdin]; print(f"{sum(v)/len(v):.3f}")')
    printf '%-10s %-9s %s (%s)\n' "$m of 10" "$how" "${vals[*]}" "$mean"
  done
done
