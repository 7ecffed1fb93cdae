#!/usr/bin/env bash
# Posterior collapse and its remedies (Bowman et al. 2016, Table 2): the language model `rnnlm` and `sentence-vae`
# with and without KL annealing and word dropout, trained on the same data for the same epochs, then `vae eval` on
# the first N test sentences: −ELBO, importance-weighted NLL per sentence, per-word perplexity, KL, I(x; z) (He et
# al. 2019) and active units. Prints one markdown row per variant.
#
#   benchmarks/text_ablation.sh [--epochs E] [--train-limit N] [--test-limit N] [-k K] [--jobs J] [--out DIR]
#                               [--data DIR] [--kl-k K] [--kl-midpoint X0] [VARIANT...]
#
#   VARIANT among: rnnlm, vae (the config: logistic annealing, word dropout 0.25), vae-plain (constant KL weight,
#   no word dropout), vae-annealed (annealing, no word dropout), vae-dropout (word dropout, no annealing),
#   vae-free-bits (the config plus free bits λ = 0.5 per dimension). Default: all six.
#   --jobs J trains J variants at once, each with 1 thread (default 2: the machine's cores).
#   --kl-k / --kl-midpoint replace the logistic schedule's k and x₀ (the config's 0.0025 and 2500 steps suit a full
#   WordNet epoch of 5178 steps; scale them to a shorter budget).
# Runs go to --out (default runs/text-ablation/VARIANT); a variant whose eval.json exists is not run again.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
epochs=1; train_limit=0; test_limit=1000; k=100; jobs=2; out=runs/text-ablation; data=; variants=(); kl_k=; kl_midpoint=
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2; shift 2;; --train-limit) train_limit=$2; shift 2;; --test-limit) test_limit=$2; shift 2;;
    -k) k=$2; shift 2;; --jobs) jobs=$2; shift 2;; --out) out=$2; shift 2;; --data) data=$2; shift 2;;
    --kl-k) kl_k=$2; shift 2;; --kl-midpoint) kl_midpoint=$2; shift 2;;
    -h|--help) sed -n '2,17p' "$0"; exit 0;;
    -*) echo "text_ablation.sh: unknown option '$1' (see --help)" >&2; exit 2;;
    *) variants+=("$1"); shift;;
  esac
done
[ ${#variants[@]} -eq 0 ] && variants=(rnnlm vae vae-plain vae-annealed vae-dropout vae-free-bits)
vae=${VAE:-}
[ -z "$vae" ] || [[ "$vae" = /* ]] || vae=$caller/$vae
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
mkdir -p "$out"
settings() {
  case "$1" in
    rnnlm) echo "rnnlm|";;
    vae) echo "sentence-vae|";;
    vae-plain) echo "sentence-vae|s/kl_annealing: logistic/kl_annealing: constant/; s/word_dropout: 0.25/word_dropout: 0/";;
    vae-annealed) echo "sentence-vae|s/word_dropout: 0.25/word_dropout: 0/";;
    vae-dropout) echo "sentence-vae|s/kl_annealing: logistic/kl_annealing: constant/";;
    vae-free-bits) echo "sentence-vae|s/free_bits: 0.0/free_bits: 0.5/";;
    *) echo "text_ablation.sh: unknown variant '$1'" >&2; exit 2;;
  esac
}
one() {
  local variant=$1 run="$out/$1" base edit
  [ -s "$run/eval.json" ] && return 0
  IFS='|' read -r base edit <<< "$(settings "$variant")"
  "$vae" configs "$base" | sed "${edit:-s/^//}" \
    | sed "${kl_k:+s/kl_k: .*/kl_k: $kl_k/}${kl_k:+;}${kl_midpoint:+s/kl_midpoint: .*/kl_midpoint: $kl_midpoint/}" > "$out/$variant.yaml"
  rm -rf "$run"
  "$vae" train --config "$out/$variant.yaml" --epochs "$epochs" --train-limit "$train_limit" --threads 1 \
    --output "$run" ${data:+--data "$data"} > "$out/$variant.train.log" 2>&1
  "$vae" eval "$run" -k "$k" --limit "$test_limit" --json > "$out/$variant.eval.log" 2>&1
}
running=0
for variant in "${variants[@]}"; do
  settings "$variant" > /dev/null
  one "$variant" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
echo "| model | KL weight | word dropout | −ELBO | NLL (k = $k) | perplexity | KL | I(x; z) | active units | train s |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for variant in "${variants[@]}"; do
  python3 - "$out" "$variant" <<'PY'
import json, re, sys
out, variant = sys.argv[1], sys.argv[2]
report = json.load(open(f"{out}/{variant}/eval.json"))
config = open(f"{out}/{variant}.yaml").read()
def setting(key, default="–"):
    match = re.search(rf"^\s*{key}: (\S+)", config, re.M)
    return match.group(1) if match else default
seconds = sum(float(line.split(",")[5]) for line in open(f"{out}/{variant}/metrics.csv").read().splitlines()[1:])
name = "rnnlm" if setting("name") == "rnnlm" else f"sentence-vae ({variant})"
annealing = "–" if name == "rnnlm" else setting("kl_annealing") + ("" if setting("free_bits", "0") in ("0", "0.0") else f", free bits {setting('free_bits')}")
units = "–" if name == "rnnlm" else f"{report['active_units']} of {len(report['kl_per_dimension'])}"
print(f"| {name} | {annealing} | {setting('word_dropout')} | {report['negative_elbo']:.2f} | {report['negative_log_likelihood']:.2f} "
      f"| {report['perplexity']:.1f} | {report['kl']:.2f} | {report['mutual_information']:.2f} | {units} | {seconds:.0f} |")
PY
done
