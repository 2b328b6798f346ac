#!/usr/bin/env python3
"""Reference numbers for the clustering tests, computed with scikit-learn.

Writes tests/data/cluster_reference.json, read by src/cluster/tests.rs. The data are generated
here with a fixed numpy seed and stored as float32 values in the JSON, so the Rust side reads the
very same inputs. scikit-learn runs in float64 on those float32 values.

Run it with scripts/reference/cluster_reference.sh (creates its own venv), or by hand:
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scikit-learn
    /tmp/venv/bin/python scripts/reference/cluster_reference.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "cluster_reference.json")


def f32_list(a):
    return [[float(v) for v in row] for row in np.asarray(a, dtype=np.float32)]


def kmeans_case(rng):
    # Four overlapping Gaussian blobs in 5-D: enough overlap that several Lloyd iterations are
    # needed, well-defined enough that the result is not decided by rounding.
    k, d, per = 4, 5, 75
    centres = rng.normal(scale=3.0, size=(k, d))
    x = np.concatenate([c + rng.normal(scale=1.5, size=(per, d)) for c in centres])
    x = x[rng.permutation(len(x))].astype(np.float32)
    init = x[:k].copy()
    runs = []
    for max_iter in (300, 2):
        km = KMeans(n_clusters=k, init=init.astype(np.float64), n_init=1, max_iter=max_iter,
                    tol=1e-4, algorithm="lloyd")
        km.fit(x.astype(np.float64))
        runs.append({
            "max_iter": max_iter,
            "inertia": float(km.inertia_),
            "labels": [int(v) for v in km.labels_],
            "n_iter": int(km.n_iter_),
            "centroids": [[float(v) for v in row] for row in km.cluster_centers_],
        })
    return {"x": f32_list(x), "init": f32_list(init), "tol": 1e-4, "runs": runs}


def pca_case(rng):
    # Correlated 8-D data with distinct variances, shifted away from the origin.
    n, d = 500, 8
    mixing = rng.normal(size=(d, d)) * np.linspace(3.0, 0.2, d)[:, None]
    x = (rng.normal(size=(n, d)) @ mixing + 5.0).astype(np.float32)
    pca = PCA(n_components=d, svd_solver="full").fit(x.astype(np.float64))
    return {
        "x": f32_list(x),
        "explained_variance": [float(v) for v in pca.explained_variance_],
        "explained_variance_ratio": [float(v) for v in pca.explained_variance_ratio_],
        "components": [[float(v) for v in row] for row in pca.components_],
        "mean": [float(v) for v in pca.mean_],
    }


def main():
    rng = np.random.default_rng(20240517)
    ref = {
        "generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
        "kmeans": kmeans_case(rng),
        "pca": pca_case(rng),
    }
    with open(OUT, "w") as f:
        json.dump(ref, f)
    print(f"wrote {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
