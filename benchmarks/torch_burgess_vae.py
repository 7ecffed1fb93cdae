"""PyTorch reference of VAEKit's `burgess` network (the disentanglement studies' dSprites network, Burgess et al. 2018
and Locatello et al. 2019) trained as a β-VAE, for side-by-side timing of training on 64×64 binary images.

Encoder: Conv2d(4×4, stride 2, pad 1) + ReLU over 1→32→32→32→32 (64×64 → 4×4), flatten (512), Linear(512→256) + ReLU,
Linear(256→256) + ReLU, heads Linear(256→10) for mean and log-variance. Decoder: Linear(10→256) + ReLU,
Linear(256→256) + ReLU, Linear(256→512) + ReLU, reshape 32×4×4, ConvTranspose2d(4×4, stride 2, pad 1) + ReLU
32→32→32→32 and a last ConvTranspose2d(32→1) to Bernoulli logits. Loss: binary cross-entropy with logits summed over
the 64·64 pixels + β·KL(q(z|x) ‖ N(0, I)), mean over the batch; Adam 1e-4, batch 64 (as disentanglement_lib).

Data: `--npz FILE` reads `imgs` of the original dSprites file (or any [n, 64, 64] 0/1 array in an .npz); without
it, n images of one random axis-aligned white rectangle each (timing does not depend on the pictures: every layer
is dense). `vae train --config <burgess yaml>` on `data_params.dataset: dsprites` is the VAEKit side
(benchmarks/compare.sh --only burgess runs both).

    pip install torch numpy
    python3 torch_burgess_vae.py --images 20000 --epochs 1 --threads 2

Prints one line per epoch: train −ELBO (mean over the epoch's images), seconds of the training loop and images per
second.
"""
import argparse, os, time

import numpy as np
import torch
import torch.nn as nn

WIDTHS, DENSE, LATENT = (32, 32, 32, 32), (256, 256), 10


class BurgessVAE(nn.Module):
    def __init__(self):
        super().__init__()
        convs, channels = [], 1
        for width in WIDTHS:
            convs += [nn.Conv2d(channels, width, 4, 2, 1), nn.ReLU()]
            channels = width
        flat = WIDTHS[-1] * 4 * 4
        dense, size = [], flat
        for width in DENSE:
            dense += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.encoder = nn.Sequential(*convs, nn.Flatten(), *dense)
        self.mean, self.logvar = nn.Linear(size, LATENT), nn.Linear(size, LATENT)
        back, size = [], LATENT
        for width in DENSE[::-1] + (flat,):
            back += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.decoder_input = nn.Sequential(*back)
        ups = []
        for width in WIDTHS[::-1][1:]:
            ups += [nn.ConvTranspose2d(WIDTHS[-1], width, 4, 2, 1), nn.ReLU()]
        self.decoder = nn.Sequential(*ups, nn.ConvTranspose2d(WIDTHS[0], 1, 4, 2, 1))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mean(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(self.decoder_input(z).view(-1, WIDTHS[-1], 4, 4)), mu, logvar


def rectangles(count, seed):
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 64, 64), np.float32)
    for image in images:
        top, left = rng.integers(0, 48, 2)
        height, width = rng.integers(4, 16, 2)
        image[top:top + height, left:left + width] = 1
    return images


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npz", help="an .npz with imgs [n, 64, 64] of 0/1 (the original dSprites file)")
    p.add_argument("--images", type=int, default=20000, help="training images (the first n of --npz)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--beta", type=float, default=4.0)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    images = np.load(a.npz)["imgs"][:a.images].astype(np.float32) if a.npz else rectangles(a.images, a.seed)
    train = torch.from_numpy(images).unsqueeze(1)
    model = BurgessVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    bce = nn.BCEWithLogitsLoss(reduction="none")
    for epoch in range(1, a.epochs + 1):
        start, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train))
        for i in range(0, len(train), a.batch):
            x = train[order[i:i + a.batch]]
            logits, mu, logvar = model(x)
            rec = bce(logits, x).flatten(1).sum(1)
            kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - logvar - 1, dim=1)
            loss = (rec + a.beta * kl).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        seconds = time.perf_counter() - start
        print(f"epoch {epoch} train_negELBO {total / len(train):.2f} seconds {seconds:.2f} "
              f"images_per_second {len(train) / seconds:.0f}", flush=True)


if __name__ == "__main__":
    main()
