#!/usr/bin/env python3
"""Compares the run directories written by scripts/identity_check.sh for two builds.

For each run in BEFORE: metrics.csv rows must match exactly except the timing columns (seconds,
images_per_second), and model.safetensors must hold the same tensors (names mapped from camelCase path parts to
snake_case, as checkpoints written before the rename are read) with identical bytes. Needs no packages.

    scripts/compare_runs.py /tmp/before /tmp/after
"""
import csv
import json
import os
import re
import struct
import sys

TIMING = {"seconds", "images_per_second"}


def snake(name):
    return ".".join(re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", part).lower() for part in name.split("."))


def tensors(path):
    with open(path, "rb") as handle:
        length = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(length))
        body = handle.read()
    header.pop("__metadata__", None)
    return {snake(name): (entry["dtype"], entry["shape"], body[entry["data_offsets"][0]:entry["data_offsets"][1]])
            for name, entry in header.items()}


def metrics(path):
    with open(path) as handle:
        return [{key: value for key, value in row.items() if key not in TIMING} for row in csv.DictReader(handle)]


def main(before, after):
    failures = 0
    # The runs both hold (identity_check.sh may have been given a few configs); a config only the newer build has
    # is listed as new, not compared.
    runs = sorted(name for name in os.listdir(after) if not name.startswith("."))
    new_configs = [run for run in runs if not os.path.isdir(os.path.join(before, run))]
    runs = [run for run in runs if run not in new_configs]
    for run in new_configs:
        print("%-16s new: not in %s" % (run, before))
    for run in runs:
        problems = []
        if metrics(os.path.join(before, run, "metrics.csv")) != metrics(os.path.join(after, run, "metrics.csv")):
            problems.append("metrics.csv rows differ")
        old, new = (tensors(os.path.join(root, run, "model.safetensors")) for root in (before, after))
        if set(old) != set(new):
            problems.append("tensor names differ: only before %s, only after %s"
                            % (sorted(set(old) - set(new)), sorted(set(new) - set(old))))
        changed = [name for name in sorted(set(old) & set(new)) if old[name] != new[name]]
        if changed:
            problems.append("%d tensors differ, e.g. %s" % (len(changed), changed[:3]))
        print("%-16s %s" % (run, "identical (%d tensors)" % len(new) if not problems else "; ".join(problems)))
        failures += bool(problems)
    print("%d of %d runs identical" % (len(runs) - failures, len(runs)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
