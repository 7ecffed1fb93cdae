"""PyTorch reference of VAEKit's `conv64` model: PyTorch-VAE's VanillaVAE on 64×64 RGB images, for side-by-side timing.

Encoder: per width of 32-64-128-256-512, Conv2d(3×3, stride 2, pad 1) + BatchNorm2d + LeakyReLU(0.01) (64×64 → 2×2),
flatten (512·2·2 = 2048), heads Linear(2048→128) for mean and log-variance. Decoder: Linear(128→2048) with no
activation, reshape 512×2×2, ConvTranspose2d(3×3, stride 2, pad 1, output_pad 1) + BatchNorm2d + LeakyReLU along
512→256→128→64→32 (→ 32×32), a last ConvTranspose2d(32→32, same) + BatchNorm2d + LeakyReLU (→ 64×64) and
Conv2d(32→3, 3×3, pad 1): the means of a Gaussian decoder, no output activation (PyTorch-VAE's tanh is not there).
Loss as VAEKit's conv64 config: −log N(x; μ, σ² = 0.1) summed over the 3·64·64 values of an image (log 2πσ² included,
so it can go below 0) + KL to N(0, I), mean over the batch (KL weight 1, not PyTorch-VAE's batch/N). Adam 5e-3,
batch 64, no learning-rate schedule, each training image mirrored left–right with probability ½ (horizontal_flip).
BatchNorm uses batch statistics in training and its running averages for the test −ELBO.

Data: an image folder as scripts/make_image_folder.py writes it (DIR/train/CLASS/*.png and DIR/test/CLASS/*.png;
without both train/ and test/, every 10th image in path order is test, as VAEKit's ImageFolder does), files in byte
order of their paths (so --limit N takes the same images as `vae train --train-limit N`), values scaled to [0, 1],
grey files replicated to RGB. Images must already be 64×64 (VAEKit would centre-crop and resize; this does not).
8-bit non-interlaced PNGs are decoded with zlib and numpy; other PNGs and JPEGs need pillow (pip install pillow).

    pip install torch numpy
    python3 scripts/make_image_folder.py /tmp/images64 --per-class 200 --test-per-class 20
    python3 torch_vanilla_vae.py --data /tmp/images64 --epochs 1 --threads 2
    python3 torch_vanilla_vae.py --data /tmp/images64 --epochs 3 --device cuda   # the data copied to the GPU once

Prints one line per epoch: train −ELBO (mean over the epoch's images), test −ELBO (nats per image), seconds of the
training loop and images per second.
"""
import argparse, math, os, struct, time, zlib

import numpy as np
import torch
import torch.nn as nn

from torch_mlp_vae import TF32_HELP, set_tf32

WIDTHS = (32, 64, 128, 256, 512)
VARIANCE = 0.1   # model_params.likelihood_variance of conv64.yaml: fixed σ² of the Gaussian decoder
SIZE, CHANNELS = 64, 3
EXTENSIONS = (".png", ".jpg", ".jpeg")


def unfilter_png(raw, height, stride, pixel_bytes):
    """Undoes the per-row PNG filters (None, Sub, Up, Average, Paeth) of 8-bit data; returns height×stride bytes."""
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.int64)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int64)
        if kind == 0:
            current = line
        elif kind == 1:   # Sub: running sum along each byte position of a pixel
            current = line.reshape(-1, pixel_bytes).cumsum(axis=0).reshape(-1) % 256
        elif kind == 2:   # Up
            current = (line + previous) % 256
        elif kind in (3, 4):
            current, above = [0] * stride, previous.tolist()
            for i, value in enumerate(line.tolist()):
                left = current[i - pixel_bytes] if i >= pixel_bytes else 0
                if kind == 3:
                    current[i] = (value + (left + above[i]) // 2) % 256
                    continue
                corner = above[i - pixel_bytes] if i >= pixel_bytes else 0
                estimate = left + above[i] - corner
                distances = (abs(estimate - left), abs(estimate - above[i]), abs(estimate - corner))
                predictor = left if distances[0] <= distances[1] and distances[0] <= distances[2] else (
                    above[i] if distances[1] <= distances[2] else corner)
                current[i] = (value + predictor) % 256
            current = np.array(current, np.int64)
        else:
            raise ValueError(f"unknown PNG filter {kind}")
        out[y], previous = current, current
    return out


def read_png(path):
    """An 8-bit non-interlaced grey/grey+alpha/RGB/RGBA PNG as a height×width×channels uint8 array, else None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    position, chunks, header = 8, [], None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += length + 12
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        return None
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 4: 2, 2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        return None   # palette, 16-bit or interlaced: left to pillow
    pixels = unfilter_png(zlib.decompress(b"".join(chunks)), height, width * channels, channels)
    return pixels.reshape(height, width, channels)


def read_image(path):
    """The image at `path` as a 3×64×64 float32 array in [0, 1]."""
    pixels = read_png(path) if path.lower().endswith(".png") else None
    if pixels is None:
        try:
            from PIL import Image
        except ImportError:
            raise SystemExit(f"{path}: needs pillow to decode (pip install pillow)")
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.shape[2] in (2, 4):   # drop alpha
        pixels = pixels[:, :, :-1]
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    if pixels.shape[:2] != (SIZE, SIZE):
        raise SystemExit(f"{path}: {pixels.shape[1]}×{pixels.shape[0]}, expected {SIZE}×{SIZE} "
                         f"(VAEKit centre-crops and resizes; this reference does not: "
                         f"write the folder with scripts/make_image_folder.py --size {SIZE})")
    return pixels.transpose(2, 0, 1).astype(np.float32) / 255.0


def list_images(root):
    """Image files under `root`, recursively, skipping names that start with '.', in byte order of their paths."""
    found = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [os.path.join(folder, name) for name in files
                  if not name.startswith(".") and name.lower().endswith(EXTENSIONS)]
    return sorted(found, key=os.fsencode)


def read_folder(data, split, limit=0):
    """One split of an image folder as an N×3×64×64 tensor (VAEKit's ImageFolder split rules)."""
    train_root, test_root = os.path.join(data, "train"), os.path.join(data, "test")
    if os.path.isdir(train_root) and os.path.isdir(test_root):
        files = list_images(train_root if split == "train" else test_root)
    else:
        files = [path for i, path in enumerate(list_images(data)) if (i % 10 == 9) == (split == "test")]
    if not files:
        raise SystemExit(f"{data}: no {split} images (*.png, *.jpg, *.jpeg)")
    if limit:
        files = files[:limit]
    return torch.from_numpy(np.stack([read_image(path) for path in files]))


def down(inputs, outputs):
    return [nn.Conv2d(inputs, outputs, 3, 2, 1), nn.BatchNorm2d(outputs), nn.LeakyReLU(0.01)]


def up(inputs, outputs):
    return [nn.ConvTranspose2d(inputs, outputs, 3, 2, 1, 1), nn.BatchNorm2d(outputs), nn.LeakyReLU(0.01)]


class VanillaVAE(nn.Module):
    def __init__(self, channels=CHANNELS, size=SIZE, widths=WIDTHS, latent=128):
        super().__init__()
        self.bottleneck = (widths[-1], size >> len(widths), size >> len(widths))
        flat = math.prod(self.bottleneck)
        steps = zip((channels,) + widths[:-1], widths)
        self.encoder = nn.Sequential(*[layer for a, b in steps for layer in down(a, b)], nn.Flatten())
        self.mean, self.logvar = nn.Linear(flat, latent), nn.Linear(flat, latent)
        self.decoder_input = nn.Linear(latent, flat)
        back = widths[::-1]
        self.decoder = nn.Sequential(*[layer for a, b in zip(back, back[1:]) for layer in up(a, b)])
        self.final_layer = nn.Sequential(*up(widths[0], widths[0]), nn.Conv2d(widths[0], channels, 3, 1, 1))

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.mean(h), self.logvar(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        y = self.decoder_input(z).view(-1, *self.bottleneck)
        return self.final_layer(self.decoder(y)), mu, logvar


def neg_elbo_mean(means, x, mu, logvar):
    """Batch mean of −log N(x; means, VARIANCE) (summed per image) + KL(q(z|x) ‖ N(0, I))."""
    squares = (x - means).pow(2).flatten(1).sum(1)
    rec = 0.5 * (squares / VARIANCE + x[0].numel() * math.log(2 * math.pi * VARIANCE))
    kl = 0.5 * torch.sum(mu.pow(2) + logvar.exp() - logvar - 1, dim=1)
    return (rec + kl).mean()


def flip_half(x):
    """Each image mirrored left–right with probability ½."""
    return torch.where((torch.rand(len(x), device=x.device) < 0.5).view(-1, 1, 1, 1), x.flip(3), x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/images64", help="image folder (scripts/make_image_folder.py)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda (the images are copied there once)")
    p.add_argument("--tf32", choices=("on", "off", "default"), default="default", help=TF32_HELP)
    a = p.parse_args()
    set_tf32(a.tf32)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    train, test = read_folder(a.data, "train", a.limit).to(device), read_folder(a.data, "test").to(device)
    model = VanillaVAE().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(1, a.epochs + 1):
        model.train()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train), device=device)
        for i in range(0, len(train), a.batch):
            x = flip_half(train[order[i:i + a.batch]])
            means, mu, logvar = model(x)
            loss = neg_elbo_mean(means, x, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        seconds = time.perf_counter() - start
        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for x in test.split(256):   # data_params.test_batch_size
                means, mu, logvar = model(x)
                test_loss += neg_elbo_mean(means, x, mu, logvar).item() * len(x)
        test_loss /= len(test)
        print(f"epoch {epoch} train_negELBO {total / len(train):.2f} test_negELBO {test_loss:.2f} "
              f"seconds {seconds:.2f} images_per_second {len(train) / seconds:.0f}", flush=True)


if __name__ == "__main__":
    main()
