#!/usr/bin/env bash
# Trains every built-in config for a few epochs on a few thousand images at a fixed seed, so that two builds of
# VAEKit can be compared run by run (scripts/compare_runs.py): the same metrics.csv rows (timing columns aside)
# and the same weights, tensor by tensor, after mapping checkpoint names written before the snake_case rename.
#
#   scripts/identity_check.sh VAE_BINARY OUT_DIR [CONFIG...]
#   scripts/compare_runs.py BEFORE_DIR AFTER_DIR
#
# conv64 trains on a 64×64 RGB folder written by scripts/make_image_folder.py (20 + 5 images per class).
set -euo pipefail
vae=$1; out=$2; shift 2
cd "$(dirname "$0")/.."
configs=("$@")
[ ${#configs[@]} -eq 0 ] && mapfile -t configs < <("$vae" configs)
mkdir -p "$out"
folder="$out/.images64"
[ -d "$folder" ] || python3 scripts/make_image_folder.py "$folder" --per-class 20 --test-per-class 5 >/dev/null
for config in "${configs[@]}"; do
  args=(train --config "$config" --seed 1 --threads 2 --epochs 2 --train-limit 2000 --test-limit 500 --output "$out/$config")
  [ "$config" = conv64 ] && args+=(--data "$folder")
  rm -rf "${out:?}/$config"
  echo "== $config"
  "$vae" "${args[@]}" 2>&1 | grep -E '^(epoch|prior epoch)' || { echo "identity_check: $config failed" >&2; exit 1; }
done
