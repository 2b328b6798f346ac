#!/usr/bin/env bash
# Speed of deepclust's CNN against PyTorch on the same workload, same thread count:
# training throughput (batch 256, SGD as the original) and feature extraction of 60,000 images.
# Rates are given per wall-clock second and per CPU second (steadier on a busy machine); the
# ratio columns are deepclust / PyTorch. Run it on an otherwise idle machine for real numbers.
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

# PyTorch as the original ran it (default NCHW layout), PyTorch converted to channels-last (what
# deepclust does internally), then deepclust.
torch_json="$("$venv/bin/python" bench/torch_peer.py "${args[@]}")"
torch_cl_json="$("$venv/bin/python" bench/torch_peer.py "${args[@]}" --channels-last)"
ours_json="$(target/release/examples/model_peer "${args[@]}")"

python3 - "$torch_json" "$torch_cl_json" "$ours_json" <<'PY'
import json, sys
t, tc, o = (json.loads(a) for a in sys.argv[1:4])
assert t["n_params"] == o["n_params"] == tc["n_params"], (t["n_params"], o["n_params"])
print(f"network: {o['arch']}, {o['n_params']} parameters; threads: {o['threads']}; "
      f"train {o['train']['images']} images (batch {o['train']['batch']}), features {o['extract']['images']} images")
print(f"{'':26}{'pytorch':>12}{'pytorch-CL':>12}{'deepclust':>12}{'ratio':>8}{'ratio CL':>9}")
rows = [("train img/s", "train", False), ("train img/CPU-s", "train", True),
        ("features img/s", "extract", False), ("features img/CPU-s", "extract", True)]
for label, key, cpu in rows:
    rate = lambda d: d[key]["images"] / (d[key]["cpu_seconds"] if cpu else d[key]["seconds"])
    a, b, c = rate(t), rate(tc), rate(o)
    print(f"{label:26}{a:>12,.0f}{b:>12,.0f}{c:>12,.0f}{c / a:>7.2f}x{c / b:>8.2f}x")
print(f"{'features wall seconds':26}{t['extract']['seconds']:>12.2f}{tc['extract']['seconds']:>12.2f}{o['extract']['seconds']:>12.2f}")
print(f"{'peak RSS MiB':26}{t['peak_rss_mib']:>12.0f}{tc['peak_rss_mib']:>12.0f}{o['peak_rss_mib']:>12.0f}")
print(f"backends: {t['backend']} | {o['backend']}")
print(json.dumps({"pytorch": t, "pytorch_channels_last": tc, "deepclust": o}))
PY
