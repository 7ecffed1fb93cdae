"""../shared/peers/torch_mlp_vae.py (VAEKit's default `mlp`: 784-400-20, ReLU, Bernoulli logits, Adam 1e-3,
summed BCE + KL per sample) with `--device`, for the GPU timings of benchmarks/device_check.sh: the data is copied
to the device once, each batch is indexed there, and one scalar (the loss) comes back per step, as in VAEKit.

    python3 benchmarks/torch_mlp_vae.py --device cuda --epochs 3 --batch 1024

Prints one line per epoch: train -ELBO, test -ELBO (nats per image), seconds and images per second.
"""
import argparse, gzip, os, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def images(directory, stem):
    for path in (os.path.join(directory, stem + ".gz"), os.path.join(directory, stem)):
        if os.path.exists(path):
            with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as file:
                raw = file.read()
            count, rows, columns = (int.from_bytes(raw[at:at + 4], "big") for at in (4, 8, 12))
            pixels = np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows * columns)
            return torch.from_numpy(pixels.astype(np.float32) / 255.0)
    raise SystemExit(f"torch_mlp_vae: no {stem}[.gz] in {directory}")


class GaussianMLPVAE(nn.Module):
    def __init__(self, pixels=784, hidden=400, latent=20):
        super().__init__()
        self.encode = nn.Linear(pixels, hidden)
        self.mean, self.log_variance = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.decode_hidden, self.decode_logits = nn.Linear(latent, hidden), nn.Linear(hidden, pixels)

    def negative_elbo(self, x):
        h = F.relu(self.encode(x))
        mean, log_variance = self.mean(h), self.log_variance(h)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        logits = self.decode_logits(F.relu(self.decode_hidden(z)))
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * torch.sum(mean.pow(2) + log_variance.exp() - 1 - log_variance)
        return reconstruction + kl


TF32_HELP = ("TF32 products on a GPU: on (matmuls and convolutions), off (FP32 throughout, as `vae train` without "
             "--tf32), or default (PyTorch's: convolutions in TF32 through cuDNN, matmuls in FP32)")


def set_tf32(choice):
    """Applies --tf32 and prints the setting in force (a line the summary keeps)."""
    if choice != "default":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = choice == "on"
    print(f"tf32 matmul {torch.backends.cuda.matmul.allow_tf32} convolution {torch.backends.cudnn.allow_tf32}", flush=True)


def main(make_model=GaussianMLPVAE):
    """Trains `make_model()` (a module with `negative_elbo(x)`, x a batch of flattened 28×28 images) and prints one
    line per epoch; benchmarks/torch_conv_vae.py passes its own model."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tf32", choices=("on", "off", "default"), default="default", help=TF32_HELP)
    arguments = parser.parse_args()
    set_tf32(arguments.tf32)
    torch.manual_seed(arguments.seed)
    torch.set_num_threads(arguments.threads)
    device = torch.device(arguments.device)
    train = images(arguments.data, "train-images-idx3-ubyte").to(device)
    test = images(arguments.data, "t10k-images-idx3-ubyte").to(device)
    model = make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(1, arguments.epochs + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train), device=device)
        for first in range(0, len(train), arguments.batch):
            loss = model.negative_elbo(train[order[first:first + arguments.batch]])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds = time.perf_counter() - started
        with torch.no_grad():
            test_loss = sum(model.negative_elbo(test[at:at + 1000]).item() for at in range(0, len(test), 1000)) / len(test)
        print(f"epoch {epoch} train_negELBO {total / len(train):.2f} test_negELBO {test_loss:.2f} "
              f"seconds {seconds:.3f} images_per_second {len(train) / seconds:.0f}", flush=True)


if __name__ == "__main__":
    main()
