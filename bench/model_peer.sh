#!/usr/bin/env bash
# Speed of deepclust's CNN against PyTorch on the same workload, same thread count:
# training throughput (batch 256, SGD as the original) and feature extraction of 60,000 images.
#
#   bench/model_peer.sh [--threads N] [--train N] [--extract N] [--repeat N] [--arch paper|wide]
#
# Creates bench/.venv-torch (torch 2.13.0, the libtorch release tch 0.26 uses) on first run.
# PyPI only has the CUDA build of torch for Linux, so the venv pulls its NVIDIA wheels (several
# GB, once); it runs on the CPU. Set PIP_FIND_LINKS to a folder of already downloaded wheels to
# avoid downloading torch itself again.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/bench/.venv-torch"
args=("$@")
threads=2
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--threads" ] && threads="${args[$((i + 1))]}"
done
if ! [[ " ${args[*]-} " == *" --threads "* ]]; then args+=(--threads "$threads"); fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  echo "model_peer: creating $venv (torch 2.13.0)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "torch==2.13.0" numpy >&2
fi

cd "$repo"
[ -e .libtorch ] || scripts/setup-libtorch.sh
cargo build --quiet --release --example model_peer >&2
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"

torch_json="$("$venv/bin/python" bench/torch_peer.py "${args[@]}")"
ours_json="$(target/release/examples/model_peer "${args[@]}")"

python3 - "$torch_json" "$ours_json" <<'PY'
import json, sys
t, o = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert t["n_params"] == o["n_params"], (t["n_params"], o["n_params"])
print(f"network: {o['arch']}, {o['n_params']} parameters; threads: pytorch {t['threads']}, deepclust {o['threads']}")
print(f"{'':22}{'pytorch':>14}{'deepclust':>14}{'ratio':>8}")
for key, label in [("train", f"train img/s (b={o['train']['batch']})"), ("extract", f"features img/s")]:
    a, b = t[key]["img_per_s"], o[key]["img_per_s"]
    print(f"{label:22}{a:>14,.0f}{b:>14,.0f}{b / a:>7.2f}x")
print(f"{'features 60k seconds':22}{t['extract']['seconds']:>14.3f}{o['extract']['seconds']:>14.3f}")
print(f"{'peak RSS MiB':22}{t['peak_rss_mib']:>14.0f}{o['peak_rss_mib']:>14.0f}")
print(f"{'backend':22}{t['backend']:>14}  {o['backend']}")
print(json.dumps({"pytorch": t, "deepclust": o}))
PY
