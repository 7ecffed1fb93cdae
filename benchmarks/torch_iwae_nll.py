"""PyTorch implementation of VAEKit's IWAE NLL estimator (`vae eval RUN --limit 1000 -k 5000`), for timing.

Loads the `mlp` model (784-H-Z, ReLU, Bernoulli decoder on logits) from VAEKit's model.safetensors, or
initialises it randomly when no run directory is given, and estimates
    -log p(x) ≈ -(logsumexp_i log w_i - log k),  log w = log p(x|z) + log p(z) - log q(z|x),  z_i ~ q(z|x)
for each of the first N test images, k draws per image, the decoder run on chunks of at most --chunk rows
(VAEKit's Evaluator uses 2048). Prints the mean NLL and the seconds the estimate took.

    python3 benchmarks/torch_iwae_nll.py --run runs/mlp-seed1 --limit 1000 -k 5000 --threads 2
"""
import argparse, json, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "peers"))
from torch_mlp_vae import find, read_idx_images  # noqa: E402


def load_safetensors(path):
    """The F32 tensors of a safetensors file (no dependency on the safetensors package)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[start:end], np.float32).copy()).view(entry["shape"])
    return tensors


def random_weights(inputs=784, hidden=400, latent=20, seed=0):
    torch.manual_seed(seed)
    names = {}
    for name, (o, i) in {"encoder.layers.0": (hidden, inputs), "mean": (latent, hidden), "log_variance": (latent, hidden),
                         "decoder.layers.0": (hidden, latent), "decoder.layers.1": (inputs, hidden)}.items():
        layer = torch.nn.Linear(i, o)
        names[name + ".weight"], names[name + ".bias"] = layer.weight.detach(), layer.bias.detach()
    return names


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", help="VAEKit run directory of an mlp model (model.safetensors); random weights if absent")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("-k", "--importance-samples", type=int, default=5000)
    p.add_argument("--chunk", type=int, default=2048)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda (weights, images and draws on the GPU)")
    a = p.parse_args()
    device = torch.device(a.device)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    w = load_safetensors(os.path.join(a.run, "model.safetensors")) if a.run else random_weights()
    w = {name: tensor.to(device) for name, tensor in w.items()}
    images = read_idx_images(find(a.data, "t10k-images-idx3-ubyte"))
    x_all = torch.from_numpy(images[:a.limit] if a.limit > 0 else images).to(device)
    k = a.importance_samples
    log2pi = math.log(2 * math.pi)
    start = time.perf_counter()
    total = 0.0
    with torch.no_grad():
        h = F.relu(F.linear(x_all, w["encoder.layers.0.weight"], w["encoder.layers.0.bias"]))
        mu_all = F.linear(h, w["mean.weight"], w["mean.bias"])
        logvar_all = F.linear(h, w["log_variance.weight"], w["log_variance.bias"])
        for n in range(len(x_all)):
            x, mu, logvar = x_all[n], mu_all[n], logvar_all[n]
            pieces = []
            for drawn in range(0, k, a.chunk):
                take = min(a.chunk, k - drawn)
                eps = torch.randn(take, mu.shape[0], device=device)
                z = mu + torch.exp(0.5 * logvar) * eps
                d = F.relu(F.linear(z, w["decoder.layers.0.weight"], w["decoder.layers.0.bias"]))
                logits = F.linear(d, w["decoder.layers.1.weight"], w["decoder.layers.1.bias"])
                log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(1)
                log_pz = -0.5 * (z * z + log2pi).sum(1)
                log_qz = -0.5 * (eps * eps + logvar + log2pi).sum(1)
                pieces.append(log_px + log_pz - log_qz)
            log_w = torch.cat(pieces)
            total -= (torch.logsumexp(log_w, 0) - math.log(k)).item()
    seconds = time.perf_counter() - start
    print(f"images {len(x_all)} k {k} NLL {total / len(x_all):.2f} seconds {seconds:.2f}", flush=True)


if __name__ == "__main__":
    main()
