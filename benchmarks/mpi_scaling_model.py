#!/usr/bin/env python3
"""Predicted data-parallel scaling of each built-in image model across machines, on paper.

For each built-in model, `vae bench --threads 1` measures here the parameter count and the milliseconds of one training step
of the config's batch on one core. A step on N ranks (the global batch split, each rank one such core) is modelled as

    compute  = t₁ / N                              (each rank computes B / N rows)
    exchange = ring all-reduce of the gradient:  2 (N − 1) / N · bytes / bandwidth + 2 (N − 1) · latency
               ordered all-gather (VAEKit's default, fixed order):  (N − 1) · bytes / bandwidth + (N − 1) · latency
    efficiency = compute / (compute + exchange)    (no overlap of the exchange with the backward pass)

at 10 Gb/s (latency 30 µs, TCP over Ethernet) and 100 Gb/s (5 µs, RDMA-class), for N = 2 … 64. Prints markdown.

    python3 benchmarks/mpi_scaling_model.py [--vae PATH] [--models mlp conv …] [--batch-scale K]

--batch-scale K times each model at K× its config's batch (the compute grows, the gradient does not): how much
larger a batch would keep a model efficient. Models whose loss couples a batch's rows (batch norm, MMD, a batch-level
estimator) cannot be split across ranks: they are listed in the first table, not in the efficiency tables.
"""
import argparse
import json
import re
import subprocess
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--vae", default=".build/release/vae")
parser.add_argument("--models", nargs="*", default=None, help="default: every built-in config (`vae configs`)")
parser.add_argument("--batch-scale", type=int, default=1)
args = parser.parse_args()

ranks = [2, 4, 8, 16, 32, 64]
links = {"10 Gb/s": (10e9 / 8, 30e-6), "100 Gb/s": (100e9 / 8, 5e-6)}


def bench(model, threads, steps, extra=()):
    command = [args.vae, "bench", "--model", model, "--threads", str(threads), "--steps", str(steps), "--warm-up", "2",
               "--eval-images", "0", "--importance-samples", "0", "--skip-shapes", "--json", *extra]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def ring(bytes_, n, bandwidth, latency):
    return 2 * (n - 1) / n * bytes_ / bandwidth + 2 * (n - 1) * latency


def gather(bytes_, n, bandwidth, latency):
    return (n - 1) * bytes_ / bandwidth + (n - 1) * latency


def parameters_by_training(model):
    # Models `vae bench` cannot time (conditional and text models): the parameter count from a tiny `vae train`.
    with tempfile.TemporaryDirectory() as directory:
        command = [args.vae, "train", "--config", model, "--epochs", "1", "--train-limit", "64", "--test-limit", "64",
                   "--output", directory + "/run"]
        result = subprocess.run(command, capture_output=True, text=True)
    found = re.search(r"\((\d+) parameters\)", result.stderr)
    return int(found.group(1)) if found else None


models = args.models or subprocess.run([args.vae, "configs"], check=True, capture_output=True, text=True).stdout.split()
rows = []
for model in models:
    try:
        one = bench(model, 1, 10)
    except subprocess.CalledProcessError:
        parameters = parameters_by_training(model)
        if parameters is not None:
            rows.append((model, parameters, None, None, None))
        continue
    splits = bench(model, 2, 1)["shards"] > 1  # one shard per thread only when the loss is a row mean
    if args.batch_scale > 1:
        one = bench(model, 1, 10, ["--batch-size", str(one["batch_size"] * args.batch_scale)])
    rows.append((model, one["parameters"], one["batch_size"], one["median_milliseconds_per_step"] / 1000, splits))

print(f"| model | parameters | gradient MB | batch | ms/step, 1 core | splits across ranks | "
      + " | ".join(f"all-reduce ms, N={n}, {name}" for name in links for n in (8, 64)) + " |")
print("|" + " --- |" * (6 + 2 * len(links)))
for model, parameters, batch, seconds, splits in rows:
    bytes_ = 4 * parameters
    cells = [f"{1000 * ring(bytes_, n, *links[name]):.2f}" for name in links for n in (8, 64)]
    timed = seconds is not None
    print(f"| `{model}` | {parameters:,} | {bytes_ / 1e6:.2f} | {batch if timed else '–'} | "
          f"{f'{1000 * seconds:.1f}' if timed else '– (not in `vae bench`)'} | {('yes' if splits else 'no') if timed else '–'} | "
          + " | ".join(cells) + " |")

for name, (bandwidth, latency) in links.items():
    print(f"\nPredicted efficiency at {name} (ring all-reduce / ordered all-gather), global batch fixed:\n")
    print("| model | " + " | ".join(f"N={n}" for n in ranks) + " |")
    print("|" + " --- |" * (1 + len(ranks)))
    for model, parameters, batch, seconds, splits in rows:
        if not splits:  # also the models vae bench cannot time
            continue
        bytes_ = 4 * parameters
        cells = []
        for n in ranks:
            compute = seconds / n
            cells.append("%.2f / %.2f" % (compute / (compute + ring(bytes_, n, bandwidth, latency)),
                                          compute / (compute + gather(bytes_, n, bandwidth, latency))))
        print(f"| `{model}` | " + " | ".join(cells) + " |")
