#!/usr/bin/env bash
# The GPU session's checks, run on the GPU machine by the device tool (carry: .device, made by
# scripts/device_bundle.sh): unpacks the bundle, then into $OUT:
#   gpu.csv       nvidia-smi's name, driver and memory
#   devices.txt   `vae devices --compile`: the libraries found there, and the kernels compiled for the GPU
#   checks.txt    `vae devices --check`: every kernel and cuBLAS's SGEMM against the CPU backend
#   checks.json   the same as JSON
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/vae-device-out}
mkdir -p "$out"
directory=/tmp/vae-bundle
rm -rf "$directory" && mkdir -p "$directory"
tar -C "$directory" -xJf .device/vae-bundle.tar.xz || { echo "device_check: no .device/vae-bundle.tar.xz (run scripts/device_bundle.sh, carry .device)"; exit 1; }
export LD_LIBRARY_PATH="$directory/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
vae="$directory/bundle/vae"
export VAEKIT_CACHE_DIR=/tmp/vae-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/gpu.csv"
"$vae" devices --compile 2>&1 | tee "$out/devices.txt"
"$vae" devices --check 2>&1 | tee "$out/checks.txt"
status=${PIPESTATUS[0]}
"$vae" devices --check --json > "$out/checks.json" 2> "$out/checks.err"
exit "$status"
