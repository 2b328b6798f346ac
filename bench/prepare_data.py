#!/usr/bin/env python3
"""Benchmark data for the clustering peers and `cargo bench --bench cluster`.

Reads MNIST's training set (gzip IDX) from $MNIST_DIR or ../shared/data/mnist (relative to the
repository root), and writes into bench/data/:

  mnist_pca64.npy    float32 60000 x 64: pixels/255 projected on the top 64 principal axes
  mnist_labels.npy   int64   60000: true digits
  mnist_ml.npy       int64   m x 2: must-links, all within-class pairs of the labelled points
  mnist_cl.npy       int64   c x 2: cannot-links, all cross-class pairs of the labelled points
                     (the original's expanded constraint set, ~162k pairs)
  mnist_cl_sampled.npy int64 c' x 2: the original's sampled cannot-links before expansion
                     (int(0.1 * n_a * n_b) random pairs per class pair); the Python PCK-means
                     expands them itself to the same graph as mnist_cl.npy
  mnist_labelled.npy int64   600: the labelled points (1 %, uniform without replacement, seed 42)
"""
import gzip
import os
import sys

import numpy as np
from sklearn.decomposition import PCA

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "data")


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def main():
    mnist = os.environ.get("MNIST_DIR", os.path.join(ROOT, "..", "shared", "data", "mnist"))
    images = os.path.join(mnist, "train-images-idx3-ubyte.gz")
    labels_path = os.path.join(mnist, "train-labels-idx1-ubyte.gz")
    if not os.path.exists(images):
        sys.exit(f"prepare_data: {images} not found; set MNIST_DIR to the folder with MNIST's gzip IDX files")
    os.makedirs(OUT, exist_ok=True)
    target = os.path.join(OUT, "mnist_cl_sampled.npy")
    if os.path.exists(target) and os.environ.get("FORCE") is None:
        print(f"prepare_data: {OUT} is ready (FORCE=1 to rebuild)")
        return
    x = read_idx(images).reshape(-1, 28 * 28).astype(np.float32) / 255.0
    y = read_idx(labels_path).astype(np.int64)
    assert x.shape == (60000, 784) and y.shape == (60000,)
    pca64 = PCA(n_components=64, random_state=0).fit_transform(x).astype(np.float32)
    np.save(os.path.join(OUT, "mnist_pca64.npy"), pca64)
    np.save(os.path.join(OUT, "mnist_labels.npy"), y)

    rng = np.random.default_rng(42)
    labelled = np.sort(rng.choice(len(y), size=int(0.01 * len(y)), replace=False))
    np.save(os.path.join(OUT, "mnist_labelled.npy"), labelled.astype(np.int64))
    by_class = {c: labelled[y[labelled] == c] for c in range(10)}
    ml = [(a, b) for c in range(10) for i, a in enumerate(by_class[c]) for b in by_class[c][i + 1:]]
    cl = [(a, b) for c in range(10) for e in range(c + 1, 10) for a in by_class[c] for b in by_class[e]]
    sampled = []
    for c in range(10):
        for e in range(c + 1, 10):
            pairs = [(a, b) for a in by_class[c] for b in by_class[e]]
            m = int(0.1 * len(pairs))
            pick = rng.choice(len(pairs), size=m, replace=False)
            sampled.extend(pairs[i] for i in pick)
    np.save(os.path.join(OUT, "mnist_ml.npy"), np.array(ml, dtype=np.int64).reshape(-1, 2))
    np.save(os.path.join(OUT, "mnist_cl.npy"), np.array(cl, dtype=np.int64).reshape(-1, 2))
    np.save(target, np.array(sampled, dtype=np.int64).reshape(-1, 2))
    print(f"prepare_data: wrote {OUT}: 60000 x 64 features, {len(labelled)} labelled points, "
          f"{len(ml)} must-links, {len(cl)} cannot-links ({len(sampled)} before expansion)")


if __name__ == "__main__":
    main()
