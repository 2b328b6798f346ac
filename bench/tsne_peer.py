#!/usr/bin/env python3
"""t-SNE peers on MNIST PCA-64: openTSNE (Barnes-Hut and its default FFT method) against ours.

  bench/tsne_peer.py --ours target/release/examples/tsne_peer [--n 10000] [--threads 2] [--seed 0]

Each contender runs in its own process (so that its peak RSS is its own) on the first N rows of
bench/data/mnist_pca64.npy with perplexity 30 and otherwise default parameters (750 iterations,
250 of them with early exaggeration 12, PCA initialisation). Time is the embedding alone
(affinities + optimisation), data loading excluded. Every map is scored here with the same
10-NN accuracy (leave-one-out, majority vote, ties -> smallest label), and ours is also scored by
the Rust `knn_accuracy` as a cross-check. With `--worker bh|fft` the script runs one openTSNE
embedding and prints one JSON line.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def knn_accuracy(y, labels, k=10):
    """Leave-one-out k-NN accuracy: majority label of the k nearest other points, ties -> smallest."""
    from sklearn.neighbors import NearestNeighbors

    n = len(y)
    k = min(k, n - 1)
    _, ind = NearestNeighbors(n_neighbors=k + 1).fit(y).kneighbors(y)
    correct = 0
    for i in range(n):
        row = ind[i][ind[i] != i][:k]  # drop the point itself (or the farthest if a twin hid it)
        votes = np.bincount(labels[row], minlength=labels.max() + 1)
        correct += int(np.argmax(votes) == labels[i])  # argmax: first maximum = smallest label
    return correct / n


def load(n):
    x = np.load(os.path.join(DATA, "mnist_pca64.npy"))[:n].astype(np.float32)
    y = np.load(os.path.join(DATA, "mnist_labels.npy"))[:n].astype(np.int64)
    return x, y


def worker(method, n, threads, seed):
    from openTSNE import TSNE

    x, labels = load(n)
    kwargs = dict(perplexity=30, n_jobs=threads, random_state=seed, verbose=False)
    if method == "bh":
        kwargs["negative_gradient_method"] = "bh"
    t = time.perf_counter()
    emb = np.asarray(TSNE(**kwargs).fit(x))
    seconds = time.perf_counter() - t
    print(json.dumps({
        "method": f"openTSNE {method.upper()}",
        "seconds": round(seconds, 3),
        "knn10": round(knn_accuracy(emb, labels), 4),
        "n": n,
        "threads": threads,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", help="the tsne_peer example binary")
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker", choices=["bh", "fft"])
    a = ap.parse_args()
    if a.worker:
        worker(a.worker, a.n, a.threads, a.seed)
        return
    if not a.ours:
        sys.exit("tsne_peer.py: --ours is required")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        map_path = os.path.join(tmp, "ours.npy")
        ours = run_json([a.ours, os.path.join(DATA, "mnist_pca64.npy"),
                         os.path.join(DATA, "mnist_labels.npy"), "--n", str(a.n),
                         "--threads", str(a.threads), "--seed", str(a.seed), "--out", map_path])
        _, labels = load(a.n)
        ours["knn10_rust"] = ours["knn10"]
        ours["knn10"] = round(knn_accuracy(np.load(map_path), labels), 4)
        rows.append(ours)
    for m in ["bh", "fft"]:
        rows.append(run_json([sys.executable, os.path.abspath(__file__), "--worker", m,
                              "--n", str(a.n), "--threads", str(a.threads), "--seed", str(a.seed)]))
    base = rows[0]["seconds"]
    print(f"t-SNE, MNIST PCA-64, first {a.n} points, {a.threads} threads, perplexity 30, 750 iterations")
    print(f"{'method':<16} {'seconds':>8} {'vs ours':>8} {'knn10':>7} {'peak RSS MiB':>13}")
    for r in rows:
        print(f"{r['method']:<16} {r['seconds']:>8.2f} {r['seconds'] / base:>7.2f}x {r['knn10']:>7.4f} "
              f"{r['peak_rss_mib']:>13.1f}")
    print(f"(ours scored by Rust knn_accuracy: {rows[0]['knn10_rust']:.4f}; "
          f"RSS of the Python rows includes the interpreter, numpy and openTSNE)")
    print("json: " + json.dumps(rows))


if __name__ == "__main__":
    main()
