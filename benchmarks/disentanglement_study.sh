#!/usr/bin/env bash
# The disentanglement study of the README: each model of Locatello et al. (2019)'s study on dSprites, on the
# `burgess` network (four 4×4 stride-2 convs of 32, dense 256-256, 10 latents, Bernoulli decoder; Adam 1e-4,
# batch 64, as theirs), for a budget of steps this machine affords, with several seeds; then
# `vae disentanglement --json` on each run and one markdown row per model: the five scores as mean ± spread
# (half the range) over the seeds, and the mean seconds of training (median epoch × epochs, from metrics.csv).
#
#   benchmarks/disentanglement_study.sh [--vae PATH] [--steps N] [--seeds "1 2 3"] [--threads T] [--points N]
#                                       [--votes N] [--data FILE.npz] [--out DIR] [--pictures DIR] [MODEL...]
#
#   --steps    optimiser steps per run (default 5000: 320 000 images, ~0.4 epoch); trains for 5 epochs on
#              64·steps / 5 training images spread over the whole set (data_params.train_limit picks a fixed
#              pseudo-random subset on dSprites), so every shape, scale and position is seen.
#   MODEL      labels among: beta1 beta4 beta16 annealed beta-tcvae factor-vae dip-i dip-ii (default: all).
#              Settings (one of each model's range in Locatello et al.): β-VAE β = 1, 4, 16; AnnealedVAE (Burgess
#              et al.'s capacity objective) C_max = 25 nats reached over the run's steps, γ = 1000; β-TCVAE β = 6;
#              FactorVAE γ = 35; DIP-VAE-I λ_od = 10, λ_d = 100; DIP-VAE-II λ_od = λ_d = 10.
#   --points/--votes  sample counts of `vae disentanglement` (default 10000 each: disentanglement_lib's).
#   --pictures DIR    also draws each model's traversal of its first seed, all 10 latent dimensions most active first,
#              as DIR/traversal-MODEL.png (the README's pictures: docs/images).
# Runs go to --out (default runs/study/LABEL-sSEED), each with the pictures of `vae train`.
set -euo pipefail
cd "$(dirname "$0")/.."
vae=${VAE:-}; steps=5000; seeds="1 2 3"; threads=2; points=10000; votes=10000; data=; out=runs/study; pictures=; models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vae) vae=$2; shift 2;; --steps) steps=$2; shift 2;; --seeds) seeds=$2; shift 2;;
    --threads) threads=$2; shift 2;; --points) points=$2; shift 2;; --votes) votes=$2; shift 2;;
    --data) data=$2; shift 2;; --out) out=$2; shift 2;; --pictures) pictures=$2; shift 2;;
    -h|--help) sed -n '2,21p' "$0"; exit 0;;
    -*) echo "disentanglement_study.sh: unknown option '$1' (see --help)" >&2; exit 2;;
    *) models+=("$1"); shift;;
  esac
done
[ ${#models[@]} -eq 0 ] && models=(beta1 beta4 beta16 annealed beta-tcvae factor-vae dip-i dip-ii)
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
limit=$(( 64 * steps / 5 ))
network="network: burgess, hidden_sizes: [32, 32, 32, 32], dense_sizes: [256, 256], latent_size: 10, likelihood: bernoulli"
settings() {
  case "$1" in
    beta1) echo "name: beta-vae, beta: 1";;
    beta4) echo "name: beta-vae, beta: 4";;
    beta16) echo "name: beta-vae, beta: 16";;
    annealed) echo "name: beta-vae, capacity_max: 25, capacity_steps: $steps, gamma: 1000";;
    beta-tcvae) echo "name: beta-tcvae, tc_beta: 6";;
    factor-vae) echo "name: factor-vae, tc_weight: 35";;
    dip-i) echo "name: dip-vae, dip_type: i, lambda_od: 10, lambda_d: 100";;
    dip-ii) echo "name: dip-vae, dip_type: ii, lambda_od: 10, lambda_d: 10";;
    *) echo "disentanglement_study.sh: unknown model '$1'" >&2; exit 2;;
  esac
}
mkdir -p "$out"
for model in "${models[@]}"; do
  cat > "$out/$model.yaml" <<YAML
model_params: {$(settings "$model"), $network}
data_params: {dataset: dsprites, batch_size: 64, test_batch_size: 200, train_limit: $limit, test_limit: 1000${data:+, data_dir: $data}}
exp_params: {optimizer: adam, learning_rate: 0.0001}
trainer_params: {epochs: 5, picture_count: 64}
YAML
  for seed in $seeds; do
    run="$out/$model-s$seed"
    [ -s "$run/scores.json" ] && continue
    if ! [ -s "$run.seconds" ] || ! [ -s "$run/model.safetensors" ]; then  # not trained to the end yet
      rm -rf "$run" "$run.seconds"
      start=$(date +%s)
      "$vae" train --config "$out/$model.yaml" --seed "$seed" --threads "$threads" --output "$run" --quiet > "$run.train.log" 2>&1
      echo $(( $(date +%s) - start )) > "$run.seconds"  # wall clock; the table uses metrics.csv
    fi
    "$vae" disentanglement "$run" --points "$points" --votes "$votes" --json > "$run/scores.json.partial"
    mv "$run/scores.json.partial" "$run/scores.json"
  done
done
if [ -n "$pictures" ]; then
  mkdir -p "$pictures"
  first=${seeds%% *}
  for model in "${models[@]}"; do
    "$vae" plot "$out/$model-s$first" traversal --dimensions 10 --output "$pictures/traversal-$model.png" --quiet > /dev/null
  done
fi
echo "| model | seeds | MIG | FactorVAE score | BetaVAE score | SAP | DCI disentanglement | DCI completeness | DCI informativeness | train s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for model in "${models[@]}"; do
  python3 - "$out" "$model" $seeds <<'PY'
import json, sys
out, model, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
reports = [json.load(open(f"{out}/{model}-s{s}/scores.json")) for s in seeds]
def training_seconds(run):
    # The median epoch's seconds × the epochs, from metrics.csv: one epoch slowed by another job on the machine
    # (or a paused process) does not count, where the wall clock in RUN.seconds would.
    import csv, statistics
    rows = list(csv.DictReader(open(f"{run}/metrics.csv")))
    return statistics.median(float(r["seconds"]) for r in rows) * len(rows)
seconds = [training_seconds(f"{out}/{model}-s{s}") for s in seeds]
def cell(key):
    values = [r[key] for r in reports]
    return "%.3f ± %.3f" % (sum(values) / len(values), (max(values) - min(values)) / 2)
keys = ["mutual_information_gap", "factor_vae_score", "beta_vae_score", "sap_score", "dci_disentanglement",
        "dci_completeness", "dci_informativeness"]
print("| `%s` | %d | %s | %.0f |" % (model, len(seeds), " | ".join(cell(k) for k in keys), sum(seconds) / len(seconds)))
PY
done
