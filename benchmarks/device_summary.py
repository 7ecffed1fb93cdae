"""Summarises benchmarks/device_check.sh's timings in DIR (its $OUT): for each `vae train` run (NAME.metrics.csv) and
PyTorch run (torch-*.txt), the median seconds per epoch over the epochs after the first (the first compiles kernels
and warms the caches), the ratios VAEKit / PyTorch on the same GPU, the test −ELBO of the cuda runs against the
CPU runs after the same epochs, the achieved TFLOP/s of the mlp's GEMMs (3 products of each layer per step:
forward, and the input's and weight's gradients), and the IWAE NLL's seconds and values (`vae eval`, PyTorch).

    python3 benchmarks/device_summary.py DIR
"""
import csv, os, re, statistics, sys

directory = sys.argv[1]
IMAGES, LAYERS = 60000, [(784, 400), (400, 20), (400, 20), (20, 400), (400, 784)]


def later_epochs(values):
    return values[1:] if len(values) > 1 else values


runs = {}
for name in sorted(os.listdir(directory)):
    path = os.path.join(directory, name)
    if name.endswith(".metrics.csv"):
        rows = list(csv.DictReader(open(path)))
        if rows:
            runs[name[:-len(".metrics.csv")]] = ([float(r["seconds"]) for r in rows], float(rows[-1]["test_loss"]))
    elif name.startswith("torch-") and name.endswith(".txt"):
        lines = [re.findall(r"test_negELBO ([\d.]+) seconds ([\d.]+)", line) for line in open(path)]
        pairs = [found[0] for found in lines if found]
        if pairs:
            runs[name[:-len(".txt")]] = ([float(s) for _, s in pairs], float(pairs[-1][0]))

for name, (seconds, test) in runs.items():
    median = statistics.median(later_epochs(seconds))
    which = f"median of epochs 2..{len(seconds)}; " if len(seconds) > 2 else ""
    line = f"{name}: {median:.3f} s/epoch ({which}all: {', '.join(f'{s:.3f}' for s in seconds)}), test -ELBO {test:.2f}"
    batch = re.search(r"-b(\d+)-", name + "-")
    if name.startswith(("mlp", "torch-mlp")) and batch:
        flops = 3 * 2 * IMAGES * sum(a * b for a, b in LAYERS)
        line += f", GEMMs {flops / median / 1e12:.3f} TFLOP/s"
    print(line)

for batch in ("128", "1024"):
    ours, theirs = runs.get(f"mlp-b{batch}-cuda"), runs.get(f"torch-mlp-b{batch}-cuda")
    if ours and theirs:
        ratio = statistics.median(later_epochs(ours[0])) / statistics.median(later_epochs(theirs[0]))
        print(f"mlp batch {batch} on the GPU: VAEKit / PyTorch = {ratio:.2f} (target <= 1.0)")
    cpu = runs.get(f"mlp-b{batch}-cpu")
    if ours and cpu:
        print(f"mlp batch {batch}: test -ELBO cuda - cpu = {ours[1] - cpu[1]:+.2f} nats (target within 0.5)")

import json
evaluations = {}
for name in ("eval-full-cuda", "eval-1000-cuda", "eval-1000-cpu"):
    try:
        report = json.load(open(os.path.join(directory, name + ".json")))
        evaluations[name] = (report["negative_log_likelihood"], report["seconds"], report["images"])
        print(f"{name}: NLL {report['negative_log_likelihood']:.3f} over {report['images']} images in {report['seconds']:.2f} s")
    except (OSError, ValueError, KeyError):
        pass
try:
    found = re.findall(r"images (\d+) k \d+ NLL ([\d.]+) seconds ([\d.]+)", open(os.path.join(directory, "torch-eval-full-cuda.out")).read())
    if found:
        images, nll, seconds = found[0]
        print(f"torch-eval-full-cuda: NLL {float(nll):.3f} over {images} images in {float(seconds):.2f} s")
        if "eval-full-cuda" in evaluations:
            print(f"IWAE NLL on the GPU: VAEKit / PyTorch time = {evaluations['eval-full-cuda'][1] / float(seconds):.2f}")
except OSError:
    pass
if "eval-1000-cuda" in evaluations and "eval-1000-cpu" in evaluations:
    print(f"IWAE NLL, 1000 images: cuda - cpu = {evaluations['eval-1000-cuda'][0] - evaluations['eval-1000-cpu'][0]:+.3f} nats")
