#!/usr/bin/env python3
"""PyTorch half of bench/model_peer.sh: the original DeepCluster MNIST network (11,706 parameters
with k = 10), its initialisation and optimisers, timed on the same workload as
`examples/model_peer.rs`: training with batch 256 on N samples of preloaded synthetic 28x28
images, then eval-mode feature extraction (pre-ReLU Linear(128->64)) of 60,000 images.
Prints one JSON object."""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    """Same layers as deepclust::model::Network with Arch::Paper / Arch::Wide."""

    def __init__(self, k=10, channels=(8, 16, 32), feature_dim=64, dropout=0.5):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.BatchNorm2d(c1), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c1, c2, 2, stride=1, padding=1), nn.BatchNorm2d(c2), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c2, c3, 2, stride=1, padding=1), nn.BatchNorm2d(c3), nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * c3, feature_dim))
        self.top_layer = nn.Linear(feature_dim, k)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def body(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))

    def forward(self, x):
        return self.top_layer(F.relu(self.body(x)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train", type=int, default=61440)
    ap.add_argument("--extract", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--eval-batch", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--arch", choices=["paper", "wide"], default="paper")
    ap.add_argument("--channels-last", action="store_true",
                    help="convert the network to channels-last layout (the original did not)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    n, k = a.extract, 10
    raw = (torch.rand(n, 1, 28, 28) < 0.2).to(torch.uint8) * torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8)
    # torchvision ToTensor + Normalize, done once on the whole set (as deepclust's Images).
    images = raw.float().div(255).sub_(0.1307).div_(0.3081)
    targets = torch.randint(0, k, (n,))
    order = torch.randint(0, n, (a.train,))
    channels = (8, 16, 32) if a.arch == "paper" else (32, 64, 128)
    net = Net(k, channels)
    if a.channels_last:
        net = net.to(memory_format=torch.channels_last)
    body_params = [p for name, p in net.named_parameters() if not name.startswith("top_layer")]
    opt = torch.optim.SGD(body_params, lr=0.01, momentum=0.9, weight_decay=1e-5)
    head_opt = torch.optim.SGD(net.top_layer.parameters(), lr=0.01, weight_decay=1e-5)
    n_params = sum(p.numel() for p in net.parameters())

    def train(idx_all):
        net.train()
        total = 0.0
        for s in range(0, len(idx_all), a.batch):
            idx = idx_all[s : s + a.batch]
            x = images.index_select(0, idx)
            y = targets.index_select(0, idx)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            head_opt.zero_grad()
            loss.backward()
            opt.step()
            head_opt.step()
            total += loss.item() * len(idx)
        return total / len(idx_all)

    def extract():
        net.eval()
        out = torch.empty(n, 64)
        with torch.no_grad():
            for s in range(0, n, a.eval_batch):
                out[s : s + a.eval_batch] = net.body(images[s : s + a.eval_batch])
        return out.numpy()

    train(order[: 8 * a.batch])  # warm-up
    train_best = extract_best = train_cpu = extract_cpu = math.inf
    loss = float("nan")
    for _ in range(a.repeat):
        t, c = time.perf_counter(), time.process_time()
        loss = train(order)
        train_best = min(train_best, time.perf_counter() - t)
        train_cpu = min(train_cpu, time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        f = extract()
        extract_best = min(extract_best, time.perf_counter() - t)
        extract_cpu = min(extract_cpu, time.process_time() - c)
        assert f.shape == (n, 64)
    print(json.dumps({
        "impl": "pytorch",
        "backend": f"torch {torch.__version__} (cpu{', channels-last' if a.channels_last else ''})",
        "threads": torch.get_num_threads(),
        "arch": a.arch,
        "n_params": n_params,
        "train": {"images": a.train, "batch": a.batch, "seconds": train_best,
                  "img_per_s": a.train / train_best, "loss": loss, "cpu_seconds": train_cpu},
        "extract": {"images": n, "batch": a.eval_batch, "seconds": extract_best,
                    "img_per_s": n / extract_best, "cpu_seconds": extract_cpu},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
