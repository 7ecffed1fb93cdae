#!/usr/bin/env bash
# The model-collection table of the README: trains each built-in config and evaluates it with `vae eval`,
# several models at a time, then prints one markdown row per model.
#
#   benchmarks/zoo.sh [--vae PATH] [--data DIR] [--binarize] [--jobs N] [--threads T] [--epochs E] [-k K]
#                     [--eval-limit N] [--eval-k-for MODEL=K]... [--phase train|eval|all] [--out DIR] [MODEL...]
#
#   MODEL     built-in config names, or LABEL=CONFIG with CONFIG a built-in name or YAML file (default: every
#             model config except conv64, which needs an image folder).
#   --binarize  dynamic binarisation for every model (the configs of the newer models set it themselves).
#   --jobs    models trained/evaluated at once (default 1); each uses --threads BLAS threads (default 2).
#   --epochs  overrides trainer_params.epochs (default: each config's own).
#   -k        importance samples of the NLL (default 5000) on the first --eval-limit test images (0 = all).
#   --phase   train only, evaluate existing runs in --out only, or both (default).
# Runs go to --out (default runs/zoo/MODEL); each run's eval.json holds the numbers; seed 1 throughout.
set -euo pipefail
cd "$(dirname "$0")/.."
vae=${VAE:-}; data=""; binarize=""; jobs=1; threads=2; epochs=""; k=5000; eval_limit=0; phase=all; out=runs/zoo
overrides=(); models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vae) vae=$2; shift 2;; --data) data=$2; shift 2;; --jobs) jobs=$2; shift 2;; --binarize) binarize=1; shift;;
    --threads) threads=$2; shift 2;; --epochs) epochs=$2; shift 2;; -k) k=$2; shift 2;;
    --eval-limit) eval_limit=$2; shift 2;; --eval-k-for) overrides+=("$2"); shift 2;;
    --phase) phase=$2; shift 2;; --out) out=$2; shift 2;;
    -h|--help) sed -n '2,16p' "$0"; exit 0;;
    -*) echo "zoo.sh: unknown option '$1' (see --help)" >&2; exit 2;;
    *) models+=("$1"); shift;;
  esac
done
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
[ ${#models[@]} -eq 0 ] && mapfile -t models < <("$vae" configs | grep -v '^conv64$')
mkdir -p "$out"

k_for() {
  local entry
  for entry in "${overrides[@]+"${overrides[@]}"}"; do [ "${entry%%=*}" = "$1" ] && { echo "${entry#*=}"; return; }; done
  echo "$k"
}

one() {
  local model=${1%%=*} config=${1#*=} run="$out/${1%%=*}" args=()
  if [ "$phase" != eval ]; then
    rm -rf "$run"
    args=(train --config "$config" --seed 1 --threads "$threads" --output "$run")
    [ -n "$binarize" ] && args+=(--binarize)
    [ -n "$data" ] && args+=(--data "$data")
    [ -n "$epochs" ] && args+=(--epochs "$epochs")
    local started=$SECONDS
    "$vae" "${args[@]}" > "$run.train.log" 2>&1 || { echo "zoo.sh: $model training failed, see $run.train.log" >&2; return 1; }
    echo $((SECONDS - started)) > "$run.train.seconds"
  fi
  if [ "$phase" != train ]; then
    args=(eval "$run" -k "$(k_for "$model")" --limit "$eval_limit" --json)
    [ -n "$data" ] && args+=(--data "$data")
    "$vae" "${args[@]}" > "$run.eval.json" 2> "$run.eval.log" || { echo "zoo.sh: $model evaluation failed, see $run.eval.log" >&2; return 1; }
  fi
}
export -f one k_for
export vae data binarize threads epochs k eval_limit phase out
export OVERRIDES="${overrides[*]+"${overrides[*]}"}"
printf '%s\n' "${models[@]}" | xargs -P "$jobs" -I{} bash -c 'overrides=($OVERRIDES); one {}' || true

echo "| model | epochs | train s | test −ELBO | NLL (k) | bits/dim | active units | eval s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for entry in "${models[@]}"; do
  model=${entry%%=*}; run="$out/$model"
  [ -f "$run.eval.json" ] || { echo "| $model | (no result) |"; continue; }
  python3 - "$model" "$run" <<'PY'
import json, sys, os
model, run = sys.argv[1], sys.argv[2]
report = json.load(open(run + ".eval.json"))
epochs = sum(1 for line in open(run + "/metrics.csv")) - 1
seconds = open(run + ".train.seconds").read().strip() if os.path.exists(run + ".train.seconds") else "–"
nll = report.get("negative_log_likelihood")
nll_text = f"{nll:.2f} (k = {report['importance_samples']}, {report['images']} images)" if nll is not None else "–"
bits = f"{report['bits_per_dimension']:.4f}" if report.get("bits_per_dimension") is not None else "–"
print(f"| {model} | {epochs} | {seconds} | {report['negative_elbo']:.2f} | {nll_text} | {bits} | "
      f"{report['active_units']} of {len(report['kl_per_dimension'])} | {report['seconds']:.0f} |")
PY
done
