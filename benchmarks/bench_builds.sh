#!/usr/bin/env bash
# Times two builds of `vae` on the same model, interleaved round by round (A, B, A, B, …): each build's median
# ms per training step (`vae bench`'s median step), and the ratio of medians B/A with its per-round spread — the
# check that a change did not slow a step down. Reads the JSON of builds before and after its keys became
# snake_case.
#
#   benchmarks/bench_builds.sh VAE_A VAE_B [--model mlp] [--rounds 7] [--steps 400]
set -euo pipefail
a=$1; b=$2; shift 2
model=mlp; rounds=7; steps=400
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2;; --rounds) rounds=$2; shift 2;; --steps) steps=$2; shift 2;;
    *) echo "bench_builds.sh: unknown option '$1'" >&2; exit 2;;
  esac
done
step_ms() {
  "$1" bench --model "$model" --steps "$steps" --eval-images 0 --importance-samples 0 --skip-shapes --json |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("median_milliseconds_per_step", d.get("medianMillisecondsPerStep")))'
}
times_a=(); times_b=()
for _ in $(seq "$rounds"); do
  times_a+=("$(step_ms "$a")"); times_b+=("$(step_ms "$b")")
done
python3 - "$model" "$steps" "$a" "$b" "${times_a[*]}" "${times_b[*]}" <<'PY'
import statistics, sys
model, steps, a, b = sys.argv[1:5]
ta, tb = ([float(x) for x in arg.split()] for arg in sys.argv[5:7])
ratios = [y / x for x, y in zip(ta, tb)]
print(f"model {model}, {len(ta)} interleaved rounds of {steps} steps")
print(f"A {a}: median {statistics.median(ta):.3f} ms/step ({' '.join(f'{t:.3f}' for t in ta)})")
print(f"B {b}: median {statistics.median(tb):.3f} ms/step ({' '.join(f'{t:.3f}' for t in tb)})")
print(f"B/A ratio of medians {statistics.median(tb) / statistics.median(ta):.3f}, per round {min(ratios):.3f}-{max(ratios):.3f}")
PY
