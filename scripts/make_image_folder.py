#!/usr/bin/env python3
"""Writes a small image-folder dataset from Fashion-MNIST, for testing `ImageDataset.folder` and the conv64 model.

Layout (what `ImageDataset.folder` reads as two splits with labels from the class folders):

    OUTPUT/train/0-t-shirt-top/00000.png … OUTPUT/train/9-ankle-boot/…
    OUTPUT/test/0-t-shirt-top/00000.png  …

The first N training images and the first M test images of each class are upsampled from 28×28 to SIZE×SIZE by
bilinear interpolation (pixel centres aligned, edges clamped). By default each image is written as RGB, tinted with
one colour per class so that colour carries information; with --grey the files are 8-bit greyscale. PNGs are
written with zlib and struct only (no imaging library).

    python3 scripts/make_image_folder.py /tmp/fashion64 --per-class 100 --test-per-class 20
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

CLASS_NAMES = ["t-shirt-top", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
# One tint per class (RGB multipliers in [0, 1]); grey pixels are scaled by them channel by channel.
TINTS = [(1.0, 0.35, 0.35), (0.35, 1.0, 0.35), (0.35, 0.35, 1.0), (1.0, 1.0, 0.3), (1.0, 0.3, 1.0),
         (0.3, 1.0, 1.0), (1.0, 0.65, 0.2), (0.6, 0.4, 1.0), (0.75, 0.75, 0.75), (0.5, 1.0, 0.7)]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dimensions = struct.unpack(">" + "I" * data[3], data[4:4 + 4 * data[3]])
    return dimensions, data[4 + 4 * data[3]:]


def locate(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    sys.exit(f"{directory}: neither {stem} nor {stem}.gz found (install Debian's dataset-fashion-mnist)")


def bilinear_taps(source, target):
    """For each target position, (lower index, upper index, weight of upper) along one axis."""
    taps = []
    for position in range(target):
        centre = min(max((position + 0.5) * source / target - 0.5, 0.0), source - 1.0)
        lower = int(centre)
        upper = min(lower + 1, source - 1)
        taps.append((lower, upper, centre - lower))
    return taps


def upsample(pixels, side, size, taps):
    """Bilinear resize of a side×side byte image to size×size floats in 0…255."""
    rows = []
    for row in range(side):
        line = pixels[row * side:(row + 1) * side]
        rows.append([line[a] * (1 - t) + line[b] * t for a, b, t in taps])
    return [[rows[a][column] * (1 - t) + rows[b][column] * t for column in range(size)] for a, b, t in taps]


def png_bytes(width, height, channels, rows):
    """An 8-bit grey (channels 1) or RGB (channels 3) PNG from rows of byte values."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 (None) on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if channels == 1 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def write_split(images, labels, count, side, output, split, per_class, size, grey, taps):
    written = [0] * 10
    for index in range(count):
        label = labels[index]
        if written[label] >= per_class:
            continue
        folder = os.path.join(output, split, f"{label}-{CLASS_NAMES[label]}")
        os.makedirs(folder, exist_ok=True)
        grid = upsample(images[index * side * side:(index + 1) * side * side], side, size, taps)
        if grey:
            rows = [[int(value + 0.5) for value in row] for row in grid]
        else:
            tint = TINTS[label]
            rows = [[int(value * weight + 0.5) for value in row for weight in tint] for row in grid]
        with open(os.path.join(folder, f"{index:05d}.png"), "wb") as handle:
            handle.write(png_bytes(size, size, 1 if grey else 3, rows))
        written[label] += 1
        if min(written) >= per_class:
            break
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="folder to create (train/ and test/ are written inside it)")
    parser.add_argument("--per-class", type=int, default=100, help="training images per class (default 100)")
    parser.add_argument("--test-per-class", type=int, default=None,
                        help="test images per class (default: a fifth of --per-class, at least 1)")
    parser.add_argument("--size", type=int, default=64, help="side of the square images written (default 64)")
    parser.add_argument("--grey", action="store_true", help="write greyscale PNGs instead of class-tinted RGB")
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                        help="Fashion-MNIST IDX folder (default: Debian's dataset-fashion-mnist)")
    arguments = parser.parse_args()
    if arguments.per_class < 1 or arguments.size < 1:
        parser.error("--per-class and --size must be 1 or more")
    test_per_class = arguments.test_per_class or max(1, arguments.per_class // 5)

    for split, stem, per_class in (("train", "train", arguments.per_class), ("test", "t10k", test_per_class)):
        image_dimensions, images = read_idx(locate(arguments.source, f"{stem}-images-idx3-ubyte"))
        _, labels = read_idx(locate(arguments.source, f"{stem}-labels-idx1-ubyte"))
        count, side = image_dimensions[0], image_dimensions[1]
        taps = bilinear_taps(side, arguments.size)
        written = write_split(images, labels, count, side, arguments.output, split, per_class, arguments.size,
                              arguments.grey, taps)
        kind = "grey" if arguments.grey else "RGB"
        print(f"{os.path.join(arguments.output, split)}: {sum(written)} {kind} {arguments.size}x{arguments.size} "
              f"PNGs, per class {written}")


if __name__ == "__main__":
    main()
