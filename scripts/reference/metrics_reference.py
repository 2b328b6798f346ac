#!/usr/bin/env python3
"""Reference values for deepclust's metrics, computed with scikit-learn / SciPy.

Writes tests/data/metrics_reference.json (label cases with inputs and outputs, feature cases with
labels and outputs) and tests/data/metrics_<case>.npy (the float32 feature matrices). The Rust tests in
tests/metrics_reference.rs compare against them.

Usage:  python3 scripts/reference/metrics_reference.py
On first use it creates scripts/reference/.venv (git-ignored) with pinned numpy/scipy/scikit-learn and
re-runs itself there. Deterministic: fixed numpy seeds.

Silhouette and Davies-Bouldin are computed by scikit-learn on a float64 copy of the float32 features
(the exact value for those points); the values scikit-learn returns for the float32 array itself
(which rounds distances and per-cluster sums to float32) are stored too, for information.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
VENV = os.path.join(HERE, ".venv")
PINS = ["numpy==2.2.6", "scipy==1.15.3", "scikit-learn==1.6.1"]


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        print(f"creating {VENV} with {' '.join(PINS)}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", *PINS])
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


ensure_venv()

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402
from sklearn import metrics  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

NORMS = ["arithmetic", "geometric", "min", "max"]


def label_case(name, truth, pred):
    truth = np.asarray(truth, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    cont = metrics.cluster.contingency_matrix(truth, pred)
    rows, cols = linear_sum_assignment(cont, maximize=True)
    out = {
        "name": name,
        "truth": truth.tolist(),
        "pred": pred.tolist(),
        "nmi": {m: float(metrics.normalized_mutual_info_score(truth, pred, average_method=m)) for m in NORMS},
        "ami": {m: float(metrics.adjusted_mutual_info_score(truth, pred, average_method=m)) for m in NORMS},
        "ari": float(metrics.adjusted_rand_score(truth, pred)),
        "mutual_info": float(metrics.mutual_info_score(truth, pred)),
        "entropy_truth": float(metrics.cluster.entropy(truth)),
        "accuracy": float(cont[rows, cols].sum() / len(truth)),
    }
    if len(truth) <= 1000:
        out["contingency"] = cont.tolist()
        labels = np.union1d(truth, pred)
        out["confusion_labels"] = labels.tolist()
        out["confusion"] = metrics.confusion_matrix(truth, pred, labels=labels).tolist()
    return out


def feature_case(name, x, labels, samples=False):
    x = np.ascontiguousarray(x, dtype=np.float32)
    labels = np.asarray(labels, dtype=np.int64)
    path = os.path.join(ROOT, "tests", "data", f"metrics_{name}.npy")
    np.save(path, x)
    x64 = x.astype(np.float64)
    out = {
        "name": name,
        "features": os.path.relpath(path, ROOT),
        "shape": list(x.shape),
        "labels": labels.tolist(),
        "silhouette": float(metrics.silhouette_score(x64, labels)),
        "davies_bouldin": float(metrics.davies_bouldin_score(x64, labels)),
        "silhouette_sklearn_f32": float(metrics.silhouette_score(x, labels)),
        "davies_bouldin_sklearn_f32": float(metrics.davies_bouldin_score(x, labels)),
    }
    if samples:
        out["silhouette_samples"] = metrics.silhouette_samples(x64, labels).tolist()
    return out


def noisy_copy(rng, truth, mapping, p_random, n_clusters):
    pred = np.asarray(mapping)[truth]
    flip = rng.random(len(truth)) < p_random
    pred[flip] = rng.integers(0, n_clusters, flip.sum())
    return pred


def main():
    rng = np.random.default_rng(20240611)
    labels = []

    labels.append(label_case("hand_small", [0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]))

    t = rng.integers(0, 10, 1000)
    relabel = np.array([100, 5, 17, 3, 99, 42, 0, 8, 64, 1000])
    labels.append(label_case("perfect_permuted", t, relabel[t]))

    t = rng.integers(0, 10, 500)
    labels.append(label_case("one_cluster_pred", t, np.full(500, 4)))
    labels.append(label_case("both_single_cluster", np.full(20, 2), np.full(20, 7)))

    sizes = [900, 50, 30, 15, 5]
    t = rng.permutation(np.repeat(np.arange(5), sizes))
    labels.append(label_case("unbalanced", t, noisy_copy(rng, t, [0, 1, 2, 3, 4], 0.3, 7)))

    labels.append(label_case("random_small", rng.integers(0, 3, 50), rng.integers(0, 4, 50)))
    labels.append(label_case("many_clusters", rng.integers(0, 5, 200), rng.integers(0, 150, 200)))

    t = rng.integers(0, 10, 2000)
    labels.append(label_case("fewer_clusters", t, noisy_copy(rng, t, [0, 0, 0, 1, 1, 1, 2, 2, 3, 3], 0.2, 4)))

    t = rng.integers(0, 10, 300) * 1_000_003 + 7
    labels.append(label_case("huge_label_values", t, rng.integers(0, 6, 300) * 10**12))

    t = rng.integers(0, 10, 60_000)
    labels.append(label_case("n60000_10x12_correlated", t,
                             noisy_copy(rng, t, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 0.35, 12)))
    labels.append(label_case("n60000_10x12_random", rng.integers(0, 10, 60_000), rng.integers(0, 12, 60_000)))

    features = []
    x, y = make_blobs(n_samples=200, n_features=2, centers=3, cluster_std=1.5, random_state=3)
    features.append(feature_case("blobs_200x2", x, y, samples=True))

    x, y = make_blobs(n_samples=3000, n_features=32, centers=10, cluster_std=6.0, random_state=7)
    y = y.copy()
    flip = rng.random(3000) < 0.1
    y[flip] = rng.integers(0, 10, flip.sum())
    features.append(feature_case("blobs_3000x32", x, y))

    x, y = make_blobs(n_samples=100, n_features=5, centers=4, random_state=11)
    y = y * 3 + 1  # non-contiguous label values
    y[17] = 50  # a singleton cluster
    x[40] = x[41]  # an exact duplicate
    x[42] = x[41]
    features.append(feature_case("singleton_duplicates_100x5", x, y, samples=True))

    x, y = make_blobs(n_samples=500, n_features=16, centers=5, cluster_std=2.0, random_state=5)
    features.append(feature_case("offset_500x16", x + 1000.0, y, samples=True))

    out = {
        "generator": "scripts/reference/metrics_reference.py",
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__,
                     "scipy": __import__("scipy").__version__},
        "labels": labels,
        "features": features,
    }
    path = os.path.join(ROOT, "tests", "data", "metrics_reference.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
