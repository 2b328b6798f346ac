#!/usr/bin/env bash
# Installs the libtorch that tch 0.26 expects (2.13.0, CPU) into a cache folder shared by all
# checkouts and links it as `.libtorch` in this repository, which `.cargo/config.toml` points
# LIBTORCH at. After it, plain `cargo build` / `cargo test` work. Idempotent and quick when cached.
# The cache folder defaults to ~/.cache/deepclust/libtorch-2.13.0; override with DEEPCLUST_LIBTORCH_DIR.
#
# Why wheels: libtorch's own zip lives on a host that is not always reachable; the PyTorch wheel from
# PyPI carries the very same shared libraries. The CPU wheel's libtorch_cpu.so still needs
# libcudart.so.13 and libcupti.so.13 at load time, hence the two small NVIDIA wheels. No Python import
# is needed: we only unzip. build.rs bakes the library folders into the binary's rpath.
set -euo pipefail
TORCH_VERSION=2.13.0
DIR="${DEEPCLUST_LIBTORCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deepclust/libtorch-$TORCH_VERSION}"

if [ ! -f "$DIR/.complete" ]; then
  echo "setup-libtorch: installing libtorch $TORCH_VERSION into $DIR (about 1.5 GB unpacked)" >&2
  command -v python3 >/dev/null || { echo "setup-libtorch: python3 (with pip) is needed to download the wheels" >&2; exit 1; }
  command -v unzip >/dev/null || python3 -c 'import zipfile' 2>/dev/null || { echo "setup-libtorch: need unzip or python3" >&2; exit 1; }
  tmp="$DIR.partial"
  rm -rf "$tmp"; mkdir -p "$tmp/wheels"
  python3 -m pip download --quiet --no-deps -d "$tmp/wheels" \
    "torch==$TORCH_VERSION" nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85 >&2
  for w in "$tmp"/wheels/*.whl; do
    # Only the shared libraries and headers are needed; skip the Python sources.
    python3 - "$w" "$tmp" <<'PY'
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for m in z.namelist():
        if m.startswith(("torch/lib/", "torch/include/", "torch/share/", "nvidia/")) or m == "torch/version.py":
            z.extract(m, out)
PY
  done
  rm -rf "$tmp/wheels"
  touch "$tmp/.complete"
  rm -rf "$DIR"; mv "$tmp" "$DIR"
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ln -sfn "$DIR" "$repo/.libtorch"
echo "setup-libtorch: libtorch $TORCH_VERSION ready at $DIR (linked as .libtorch)" >&2
