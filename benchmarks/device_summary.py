"""Summarises benchmarks/device_check.sh's timings in DIR (its $OUT): for each `vae train` run (NAME.metrics.csv) and
PyTorch run (torch-*.txt), the median seconds per epoch over the epochs after the first (the first compiles kernels
and warms the caches), the ratios VAEKit / PyTorch on the same GPU, the test −ELBO of the cuda runs against the
CPU runs after the same epochs (FP32 on both sides, then conv and conv64 in TF32 on both), the achieved TFLOP/s of
the mlp's GEMMs (3 products of each layer per step: forward, and the input's and weight's gradients), the GPU's
GEMM peak as `vae bench` timed it, and the IWAE NLL's seconds and values (`vae eval`, PyTorch).

    python3 benchmarks/device_summary.py DIR
"""
import csv, os, re, statistics, sys

directory = sys.argv[1]
IMAGES, LAYERS = 60000, [(784, 400), (400, 20), (400, 20), (20, 400), (400, 784)]
CONV64_IMAGES = 5000   # device_check.sh's image folder: 500 training images per class


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
        lines = [re.findall(r"test_negELBO (-?[\d.]+) seconds ([\d.]+)", line) for line in open(path)]
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

for model, images in (("mlp-b128", IMAGES), ("mlp-b1024", IMAGES), ("conv", IMAGES), ("conv64", CONV64_IMAGES),
                      ("conv-tf32", IMAGES), ("conv64-tf32", CONV64_IMAGES)):
    ours, theirs = runs.get(f"{model}-cuda"), runs.get(f"torch-{model}-cuda")
    if ours and theirs:
        seconds = [statistics.median(later_epochs(run[0])) for run in (ours, theirs)]
        print(f"{model} on the GPU: VAEKit / PyTorch = {seconds[0] / seconds[1]:.2f} (target <= 1.0); "
              f"images/s {images / seconds[0]:.0f} vs {images / seconds[1]:.0f}")
    cpu = runs.get(f"{model.replace('-tf32', '')}-cpu")   # a TF32 run against the CPU's FP32 one
    if ours and cpu:
        print(f"{model}: test -ELBO cuda - cpu = {ours[1] - cpu[1]:+.2f} nats (target within 0.5)")

# The GEMM work each cuda run reports at its end, over the whole run's seconds (start-up, every epoch and the test
# passes): a lower bound on the GEMMs' own rate.
timings = dict(re.findall(r"^(\S+): exit \d+, ([\d.]+) s$", open(os.path.join(directory, "timings.txt")).read(), re.M)) \
    if os.path.exists(os.path.join(directory, "timings.txt")) else {}
for name in sorted(runs):
    log = os.path.join(directory, name + ".log")
    work = re.findall(r"GEMMs \(([\d.]+) GFLOP\)", open(log).read()) if os.path.exists(log) else []
    if work and name in timings:
        print(f"{name}: GEMMs {float(work[-1]):.1f} GFLOP in the run's {float(timings[name]):.1f} s: "
              f">= {float(work[-1]) / float(timings[name]) / 1e3:.3f} TFLOP/s on average")

# `vae bench` on the GPU against the same steps on the dispatch-only device (the host's cost of issuing them).
for model in ("mlp", "conv", "conv64", "conv64-tf32", "sentence-vae"):
    medians = {}
    for device in ("cuda", "dispatch"):
        try:
            text = open(os.path.join(directory, f"bench-{model}-{device}.txt")).read()
        except OSError:
            continue
        found = re.findall(r"median ([\d.]+),", text)
        if found:
            medians[device] = float(found[0])
        for line in text.splitlines():
            if line.startswith("gemm   4096"):   # the GPU's GEMM peak, timed in the same run
                print(f"  {model} {line.strip()}")
    if "cuda" in medians:
        host = f"; issuing it costs the host {medians['dispatch']:.3f} ms" if "dispatch" in medians else ""
        print(f"bench {model}: {medians['cuda']:.3f} ms per step on the GPU (median){host}")
    # `vae bench --profile`: the step's GPU time by kind of work (CUDA events around each op).
    try:
        for line in open(os.path.join(directory, f"bench-{model}-profile.txt")):
            if line.startswith("profile ") or line.lstrip().startswith("kernels by device time"):
                print(f"  {model} {line.strip()}")
    except OSError:
        pass

import json
evaluations = {}
for name in ("eval-full-cuda", "eval-full-cuda-chunk32768", "eval-1000-cuda", "eval-1000-cpu"):
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
        for name, what in (("eval-full-cuda", "passes of 2048 rows, as PyTorch's"), ("eval-full-cuda-chunk32768", "passes of 32768 rows")):
            if name in evaluations:
                print(f"IWAE NLL on the GPU ({what}): VAEKit / PyTorch time = {evaluations[name][1] / float(seconds):.2f}")
except OSError:
    pass
if "eval-1000-cuda" in evaluations and "eval-1000-cpu" in evaluations:
    print(f"IWAE NLL, 1000 images: cuda - cpu = {evaluations['eval-1000-cuda'][0] - evaluations['eval-1000-cpu'][0]:+.3f} nats")
