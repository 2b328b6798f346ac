#!/usr/bin/env python3
"""Clustering peers on MNIST PCA-64 (60,000 x 64): run by bench/peers.sh.

Every contender runs in its own process (so peak RSS is its own, read with os.wait4) and reports
the wall-clock seconds of the algorithm alone (imports and file reading excluded); the fast ones
run --repeat times and the fastest run counts. Assignments are
scored here, for everyone alike, with scikit-learn's NMI and ARI against the true digits.

    python bench/peers.py --ours target/release/examples/cluster_peer [--skip-slow]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
OUT = os.path.join(HERE, "out")
K = 10


def load():
    import numpy as np
    return np.load(os.path.join(DATA, "mnist_pca64.npy")), np.load(os.path.join(DATA, "mnist_labels.npy"))


# --- one contender per function; each returns a dict (seconds, optional labels file, notes) -----

def run_sklearn_kmeans():
    import numpy as np
    from sklearn.cluster import KMeans
    x, _ = load()
    t = time.perf_counter()
    km = KMeans(n_clusters=K, init="k-means++", n_init=1, max_iter=5, random_state=0).fit(x)
    s = time.perf_counter() - t
    path = os.path.join(OUT, "sklearn_kmeans.npy")
    np.save(path, km.labels_.astype(np.int64))
    return {"seconds": s, "labels": path, "note": f"n_iter={km.n_iter_}, inertia={km.inertia_:.6g}"}


def _faiss_kmeans(max_points_per_centroid):
    import faiss
    import numpy as np
    x, _ = load()
    x = np.ascontiguousarray(x)
    t = time.perf_counter()
    km = faiss.Kmeans(x.shape[1], K, niter=5, seed=1234, max_points_per_centroid=max_points_per_centroid)
    km.train(x)
    _, idx = km.index.search(x, 1)
    s = time.perf_counter() - t
    return s, idx[:, 0].astype(np.int64)


def run_faiss_kmeans():
    import numpy as np
    s, labels = _faiss_kmeans(256)
    path = os.path.join(OUT, "faiss_kmeans.npy")
    np.save(path, labels)
    return {"seconds": s, "labels": path,
            "note": "faiss default: trains on a 2,560-point subsample (256/centroid), then assigns all"}


def run_faiss_kmeans_all():
    import numpy as np
    s, labels = _faiss_kmeans(6000)
    path = os.path.join(OUT, "faiss_kmeans_all.npy")
    np.save(path, labels)
    return {"seconds": s, "labels": path, "note": "max_points_per_centroid=6000: trains on all 60,000"}


def _import_pckmeans():
    """The PyPI release (0.0.1) of active-semi-supervised-clustering cannot be imported as is: its
    subpackages import `..exceptions` and `..farthest_first_traversal` from `semi_supervised`,
    where they are not. Register the package's top-level modules under those names first."""
    import importlib.util
    root = importlib.util.find_spec("active_semi_supervised_clustering").submodule_search_locations[0]
    for f in sorted(os.listdir(root)):
        if f.endswith(".py") and f != "__init__.py":
            name = "active_semi_supervised_clustering.semi_supervised." + f[:-3]
            spec = importlib.util.spec_from_file_location(name, os.path.join(root, f))
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    from active_semi_supervised_clustering.semi_supervised.pairwise_constraints import PCKMeans
    from active_semi_supervised_clustering.semi_supervised.pairwise_constraints.constraints import (
        preprocess_constraints,
    )
    return PCKMeans, preprocess_constraints


def run_python_pckmeans():
    import numpy as np
    PCKMeans, preprocess_constraints = _import_pckmeans()
    x, _ = load()
    x = x.astype(np.float64)
    ml = [tuple(map(int, p)) for p in np.load(os.path.join(DATA, "mnist_ml.npy"))]
    cl = [tuple(map(int, p)) for p in np.load(os.path.join(DATA, "mnist_cl_sampled.npy"))]
    n_lab = len(np.load(os.path.join(DATA, "mnist_labelled.npy")))
    w = 2 * K / n_lab  # = 2k / (n f)
    t = time.perf_counter()
    _, cl_graph, _ = preprocess_constraints(ml, cl, x.shape[0])
    prep = time.perf_counter() - t
    n_cl = sum(len(v) for v in cl_graph.values()) // 2
    np.random.seed(0)
    t = time.perf_counter()
    try:
        model = PCKMeans(n_clusters=K, max_iter=5, w=w).fit(x, ml=ml, cl=cl)
    except Exception as e:  # the library raises on an empty cluster
        return {"seconds": time.perf_counter() - t, "prep_seconds": prep, "note": f"failed: {e!r}"}
    s = time.perf_counter() - t
    path = os.path.join(OUT, "python_pckmeans.npy")
    np.save(path, model.labels_.astype(np.int64))
    return {"seconds": s, "prep_seconds": prep, "labels": path,
            "note": f"fit incl. its own constraint preprocessing ({prep:.1f} s alone: "
                    f"{len(cl)} sampled cannot-links expanded to {n_cl}), w={w:.4f}"}


def run_sklearn_silhouette():
    import numpy as np
    from sklearn.metrics import silhouette_score
    x, _ = load()
    ours = os.path.join(OUT, "ours_kmeans.npy")
    labels = np.load(ours if os.path.exists(ours) else os.path.join(OUT, "sklearn_kmeans.npy"))
    t = time.perf_counter()
    score = silhouette_score(x, labels)
    s = time.perf_counter() - t
    return {"seconds": s, "note": f"silhouette={score:.6f} (k-means labels, all 60,000 points)"}


def run_sklearn_pca32():
    from sklearn.decomposition import PCA
    x, _ = load()
    t = time.perf_counter()
    PCA(n_components=32, whiten=True, svd_solver="covariance_eigh").fit_transform(x)
    return {"seconds": time.perf_counter() - t, "note": "PCA(32, whiten=True, covariance_eigh)"}


def run_faiss_pca32():
    import faiss
    import numpy as np
    x, _ = load()
    x = np.ascontiguousarray(x)
    t = time.perf_counter()
    m = faiss.PCAMatrix(64, 32, -0.5)
    m.train(x)
    m.apply_py(x)
    return {"seconds": time.perf_counter() - t, "note": "PCAMatrix(64, 32, eigen_power=-0.5), as DeepCluster"}


PEERS = {
    "sklearn_kmeans": run_sklearn_kmeans,
    "faiss_kmeans": run_faiss_kmeans,
    "faiss_kmeans_all": run_faiss_kmeans_all,
    "python_pckmeans": run_python_pckmeans,
    "sklearn_silhouette": run_sklearn_silhouette,
    "sklearn_pca32": run_sklearn_pca32,
    "faiss_pca32": run_faiss_pca32,
}


# --- orchestration -------------------------------------------------------------------------------

def spawn(cmd):
    """Runs cmd, returns (stdout, peak RSS in MiB) of that process alone."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed with exit code {p.returncode}")
    return out.decode(), usage.ru_maxrss / 1024.0


def run_ours(binary, algo):
    path = os.path.join(OUT, f"ours_{algo}.npy")
    out, rss = spawn([binary, algo, DATA, path])
    res = json.loads(out.strip().splitlines()[-1])
    res["labels"] = path if algo != "pca32" else None
    notes = {k: v for k, v in res.items() if k not in ("algo", "seconds", "labels")}
    res["note"] = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in notes.items())
    return res, rss


def run_peer(name):
    out, rss = spawn([sys.executable, os.path.abspath(__file__), "--one", name])
    return json.loads(out.strip().splitlines()[-1]), rss


def ours_silhouette(cli):
    """Our exact silhouette on all 60,000 points through `deepclust eval`, on our k-means labels."""
    out, rss = spawn([cli, "--quiet", "eval", "--json", "--features", os.path.join(DATA, "mnist_pca64.npy"),
                      "--pred", os.path.join(OUT, "ours_kmeans.npy"),
                      "--truth", os.path.join(DATA, "mnist_labels.npy")])
    r = json.loads(out.strip().splitlines()[-1])
    return {"seconds": r["silhouette_seconds"],
            "note": f"silhouette={r['silhouette']:.6f} (deepclust eval, exact, blocked)"}, rss


def run_cli(cli, algo):
    """The same task through the `deepclust cluster` CLI. Its constraints come from its own label
    scenario (1 % uniform, seed 42: the same recipe as the shared file, other random points), so the
    NMI/ARI can differ slightly from the `ours` row, which reads the shared constraint files."""
    path = os.path.join(OUT, f"cli_{algo}.npy")
    cmd = [cli, "--quiet", "--seed", "0", "cluster", "--json", "--features", os.path.join(DATA, "mnist_pca64.npy"),
           "--truth", os.path.join(DATA, "mnist_labels.npy"), "--algo", algo, "--max-iter", "5", "--out", path]
    if algo == "kmeans":
        cmd += ["--n-init", "1"]
    else:
        cmd += ["--labels", "1%"]
    out, rss = spawn(cmd)
    r = json.loads(out.strip().splitlines()[-1])
    note = f"constraints {r.get('constraint_seconds', 0):.3f} s + clustering {r.get('cluster_seconds', 0):.3f} s"
    return {"seconds": r["seconds"], "labels": path, "note": note}, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--ours", help="the cluster_peer binary")
    ap.add_argument("--cli", help="the deepclust binary (adds `deepclust cluster` rows and our silhouette)")
    ap.add_argument("--skip-slow", action="store_true", help="skip the Python PCK-means and silhouette")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each fast contender; the fastest counts (the slow ones run once)")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(PEERS[args.one]()))
        return
    # numpy and scikit-learn are imported only after the runs: a child's peak RSS as the kernel
    # reports it includes the parent's RSS at fork time, so the parent stays small until then.
    os.makedirs(OUT, exist_ok=True)
    rows = []  # (task, name, result, rss, ours_seconds)

    def add(task, name, res, rss, ours=None):
        rows.append((task, name, res, rss, ours))
        print(f"  {task:<10} {name:<26} {res['seconds']:.3f} s", file=sys.stderr, flush=True)

    tasks = [
        ("k-means", "kmeans", ["sklearn_kmeans", "faiss_kmeans", "faiss_kmeans_all"]),
        ("PCK-means", "pckmeans", [] if args.skip_slow else ["python_pckmeans"]),
        ("PCA-32 w", "pca32", ["sklearn_pca32", "faiss_pca32"]),
    ]
    def best_of(run, times):
        runs = [run() for _ in range(times)]
        res = min((r for r, _ in runs), key=lambda r: r["seconds"])
        return res, max(rss for _, rss in runs)

    slow = {"python_pckmeans", "sklearn_silhouette"}
    for task, algo, peers in tasks:
        res, rss = best_of(lambda: run_ours(args.ours, algo), args.repeat)
        add(task, "ours", res, rss)
        ours_s = res["seconds"]
        if args.cli and algo in ("kmeans", "pckmeans"):
            r, rss = best_of(lambda: run_cli(args.cli, algo), args.repeat)
            add(task, "ours (deepclust CLI)", r, rss, ours_s)
        for p in peers:
            r, rss = best_of(lambda: run_peer(p), 1 if p in slow else args.repeat)
            add(task, p, r, rss, ours_s)
    if not args.skip_slow:
        o = ours_silhouette(args.cli) if args.cli else None
        r, rss = run_peer("sklearn_silhouette")
        if o is not None:
            add("silhouette", "ours", o[0], o[1])
        add("silhouette", "sklearn_silhouette", r, rss, o[0]["seconds"] if o else None)

    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    truth = np.load(os.path.join(DATA, "mnist_labels.npy"))
    print()
    print(f"{'task':<11}{'implementation':<20}{'seconds':>9}{'peer/ours':>10}{'NMI':>8}{'ARI':>8}{'RSS MiB':>9}  note")
    for task, name, res, rss, ours in rows:
        ratio = f"{res['seconds'] / ours:.1f}x" if ours else ""
        nmi = ari = ""
        if res.get("labels"):
            pred = np.load(res["labels"])
            nmi = f"{normalized_mutual_info_score(truth, pred):.4f}"
            ari = f"{adjusted_rand_score(truth, pred):.4f}"
        print(f"{task:<11}{name:<20}{res['seconds']:>9.3f}{ratio:>10}{nmi:>8}{ari:>8}{rss:>9.0f}  {res.get('note', '')}")


if __name__ == "__main__":
    main()
