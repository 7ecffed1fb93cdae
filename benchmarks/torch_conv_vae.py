"""../shared/peers/torch_conv_vae.py (VAEKit's `conv`: the Keras VAE example's network, Bernoulli logits, Adam 1e-3,
batch 128, summed BCE + KL per image) with `--device`, for the GPU timings of benchmarks/device_check.sh: the data
is copied to the device once, each batch is indexed there, and one scalar (the loss) comes back per step, as in
VAEKit. The network is the peer's: Conv2d(1→32, 3, s2, p1) ReLU, Conv2d(32→64, same) ReLU, Linear(3136→16) ReLU,
Linear(16→2) heads; Linear(2→3136) ReLU, ConvTranspose2d(64→64, 3, s2, p1, op1) ReLU, ConvTranspose2d(64→32, same)
ReLU, ConvTranspose2d(32→1, 3, s1, p1) → logits.

    python3 benchmarks/torch_conv_vae.py --device cuda --epochs 3

Prints one line per epoch: train -ELBO, test -ELBO (nats per image), seconds and images per second.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_mlp_vae import main


class ConvVAE(nn.Module):
    def __init__(self, latent=2):
        super().__init__()
        self.down = nn.ModuleList([nn.Conv2d(1, 32, 3, 2, 1), nn.Conv2d(32, 64, 3, 2, 1)])
        self.dense = nn.Linear(64 * 7 * 7, 16)
        self.mean, self.log_variance = nn.Linear(16, latent), nn.Linear(16, latent)
        self.expand = nn.Linear(latent, 64 * 7 * 7)
        self.up = nn.ModuleList([nn.ConvTranspose2d(64, 64, 3, 2, 1, 1), nn.ConvTranspose2d(64, 32, 3, 2, 1, 1)])
        self.logits = nn.ConvTranspose2d(32, 1, 3, 1, 1)

    def negative_elbo(self, x):
        h = x.view(-1, 1, 28, 28)
        for layer in self.down:
            h = F.relu(layer(h))
        h = F.relu(self.dense(h.flatten(1)))
        mean, log_variance = self.mean(h), self.log_variance(h)
        z = mean + torch.exp(0.5 * log_variance) * torch.randn_like(mean)
        h = F.relu(self.expand(z)).view(-1, 64, 7, 7)
        for layer in self.up:
            h = F.relu(layer(h))
        logits = self.logits(h).flatten(1)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = 0.5 * torch.sum(mean.pow(2) + log_variance.exp() - 1 - log_variance)
        return reconstruction + kl


if __name__ == "__main__":
    main(ConvVAE)
