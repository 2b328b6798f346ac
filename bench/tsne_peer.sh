#!/usr/bin/env bash
# t-SNE peers on MNIST PCA-64: openTSNE (Barnes-Hut, and its default FFT method) against ours
# (`examples/tsne_peer.rs`), on the first N points (default 10,000) with 2 threads. Prints seconds,
# the ratio to ours, the 10-NN accuracy of each map and peak RSS.
# Uses bench/.venv (created if missing), writes bench/data with bench/prepare_data.py if needed
# (MNIST from $MNIST_DIR or ../shared/data/mnist).
#   bash bench/tsne_peer.sh [--n N] [--threads T] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=bench/.venv
# bench/.venv is shared with bench/peers.sh: install what this script needs even if it exists.
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet numpy scikit-learn openTSNE
[ -f bench/data/mnist_pca64.npy ] || "$VENV/bin/python" bench/prepare_data.py
cargo build --release --no-default-features --example tsne_peer
"$VENV/bin/python" bench/tsne_peer.py --ours target/release/examples/tsne_peer --n 10000 --threads 2 "$@"
