#!/usr/bin/env bash
# The explorer under load: serves the given runs (default: an `mlp` and a `conv` run trained for one epoch on
# Fashion-MNIST into runs/serve-load/), then for each run `POST /api/decode` with 1 and 32 concurrent clients,
# REQUESTS requests each (default 3000), and prints a markdown table (latency p50/p99 in ms, requests/s, the
# server's RSS in MiB before → after each load).
#
#   benchmarks/serve_load.sh [--requests N] [--vae PATH] [RUN_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=3000; vae=; runs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) requests=$2; shift 2;; --vae) vae=$2; shift 2;;
    -h|--help) sed -n '2,8p' "$0"; exit 0;;
    -*) echo "serve_load.sh: unknown option '$1'" >&2; exit 2;;
    *) runs+=("$1"); shift;;
  esac
done
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
if [ ${#runs[@]} -eq 0 ]; then
  for model in mlp conv; do
    run=runs/serve-load/$model
    [ -f "$run/checkpoint.json" ] || "$vae" train --config "$model" --epochs 1 --output "$run" --quiet >/dev/null
    runs+=("$run")
  done
fi
log=$(mktemp)
"$vae" serve "${runs[@]}" --port 0 > "$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "http://" "$log" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$log" | head -1)
echo "| run | clients | answered | errors | p50 ms | p99 ms | requests/s | server RSS MiB |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for run in "${runs[@]}"; do
  name=$(basename "$run")
  for clients in 1 32; do
    python3 benchmarks/serve_load.py "$url" "$name" --pid "$server" --requests "$requests" --clients "$clients"
  done
done
