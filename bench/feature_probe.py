"""How well could k-means pseudo-labels do on a run's final features?

Reads RUN_DIR/features-final.npy and RUN_DIR/truth.npy (written by every finished `deepclust run`)
and prints, for the raw features and for the clustered space (PCA-32 whitened, L2 rows, as
deepclust's default preprocessing) built from the pre-ReLU and from the post-ReLU features:
  - logistic-regression and 10-NN accuracy (50,000/10,000 split of the rows, seed 0),
  - the NMI of assigning every point to the nearest *true* class mean (an upper bound for any
    k-means-like partition with good centroids),
  - the NMI of scikit-learn k-means (5 restarts).
Used for results/ablation.md (the post-ReLU lever). Needs numpy and scikit-learn
(bench/.venv from bench/peers.sh has both):

    bench/.venv/bin/python bench/feature_probe.py runs/ablation-2/combined/lr-0.03-rotate-20/seed-0
"""
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score as nmi
from sklearn.neighbors import KNeighborsClassifier


def l2(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def main(run_dir):
    truth = np.load(f"{run_dir}/truth.npy")
    feats = np.load(f"{run_dir}/features-final.npy")
    spaces = {
        "pre-ReLU, raw 64-d": feats,
        "pre-ReLU, PCA-32 whitened, L2": l2(PCA(32, whiten=True).fit_transform(feats)),
        "post-ReLU, PCA-32 whitened, L2": l2(PCA(32, whiten=True).fit_transform(np.maximum(feats, 0))),
    }
    idx = np.random.RandomState(0).permutation(len(truth))
    train, test = idx[:50000], idx[50000:]
    for name, x in spaces.items():
        lin = LogisticRegression(max_iter=2000).fit(x[train], truth[train]).score(x[test], truth[test])
        knn = KNeighborsClassifier(10).fit(x[train], truth[train]).score(x[test], truth[test])
        means = np.stack([x[truth == c].mean(0) for c in np.unique(truth)])
        nearest = ((x[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
        km = KMeans(len(means), n_init=5, random_state=0).fit(x)
        print(f"{name:32s} linear {lin:.3f}  10-NN {knn:.3f}  "
              f"true-mean NMI {nmi(truth, nearest):.3f}  k-means NMI {nmi(truth, km.labels_):.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: feature_probe.py RUN_DIR")
    main(sys.argv[1])
