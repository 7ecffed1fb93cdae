#!/usr/bin/env bash
# Side-by-side: VAEKit's `mlp` against the PyTorch reference (../shared/peers/torch_mlp_vae.py), same data,
# same machine, alternating rounds. Prints per-epoch medians, their ratio, peak RSS and the final test −ELBO.
#
#   benchmarks/compare_mlp.sh [EPOCHS=10] [ROUNDS=1] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-10}; rounds=${2:-1}; threads=${3:-2}
peer=${PEER:-../shared/peers/torch_mlp_vae.py}
swift build -c release --product vae >/dev/null
vae=$(swift build -c release --show-bin-path)/vae
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
have_torch=1
python3 -c "import torch, numpy" 2>/dev/null || { have_torch=0; echo "PyTorch not installed (pip install torch numpy): timing VAEKit alone"; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

for round in $(seq "$rounds"); do
  /usr/bin/time -f "%M" -o "$work/vae-rss-$round" "$vae" train --config mlp --epochs "$epochs" --seed 1 \
      --threads "$threads" --output "$work/run-$round" > "$work/vae-$round.log" 2>&1
  if [ "$have_torch" = 1 ]; then
    /usr/bin/time -f "%M" -o "$work/torch-rss-$round" python3 "$peer" --epochs "$epochs" --threads "$threads" \
        --seed 1 > "$work/torch-$round.log"
  fi
done

vae_seconds=$(cat "$work"/vae-*.log | grep -o ' [0-9.]* s ' | awk '{print $1}' | median)
vae_test=$(tail -n 1 "$work/run-1/metrics.csv" | cut -d, -f3)
vae_rss=$(cat "$work"/vae-rss-* | median)
echo "VAEKit   seconds/epoch (median) $vae_seconds  test -ELBO after $epochs epochs $vae_test  peak RSS ${vae_rss} KiB"
if [ "$have_torch" = 1 ]; then
  torch_seconds=$(cat "$work"/torch-*.log | grep -o 'seconds [0-9.]*' | awk '{print $2}' | median)
  torch_test=$(tail -n 1 "$work/torch-1.log" | grep -o 'test_negELBO [0-9.]*' | awk '{print $2}')
  torch_rss=$(cat "$work"/torch-rss-* | median)
  echo "PyTorch  seconds/epoch (median) $torch_seconds  test -ELBO after $epochs epochs $torch_test  peak RSS ${torch_rss} KiB"
  awk -v a="$vae_seconds" -v b="$torch_seconds" -v c="$vae_rss" -v d="$torch_rss" \
      'BEGIN {printf "ratio VAEKit/PyTorch: epoch time %.2f, peak RSS %.2f\n", a/b, c/d}'
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
