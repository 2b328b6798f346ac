#!/usr/bin/env bash
# Clustering peers on MNIST PCA-64: scikit-learn and faiss k-means, the Python PCK-means the paper
# used (active-semi-supervised-clustering), scikit-learn's silhouette and PCA, against ours.
# Creates bench/.venv, prepares bench/data (MNIST from $MNIST_DIR or ../shared/data/mnist), builds
# the `cluster_peer` example (same constraint files as the Python PCK-means) and the `deepclust` CLI
# (its own label scenario; plus our exact silhouette through `deepclust eval`) and prints a table.
# Extra arguments go to bench/peers.py (e.g. --skip-slow to leave out the minutes-long Python
# PCK-means and silhouette).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy scikit-learn faiss-cpu active-semi-supervised-clustering
"$VENV/bin/python" bench/prepare_data.py
cargo build --release --no-default-features --example cluster_peer
cargo build --release --bin deepclust
"$VENV/bin/python" bench/peers.py --ours target/release/examples/cluster_peer --cli target/release/deepclust "$@"
