#!/usr/bin/env bash
# VAEKit against the PyTorch references on the same data and machine, in one invocation, alternating
# VAEKit / PyTorch round by round so that load from other work hits both alike. Prints the medians, their
# ratio (VAEKit / PyTorch: below 1 means VAEKit is faster or smaller) and the machine's load.
#
#   benchmarks/compare.sh [--rounds N] [--threads T] [--epochs E] [--conv-limit N] [--iwae-limit N] [-k K]
#                         [--conv64-data DIR] [--conv64-limit N] [--burgess-images N]
#                         [--only mlp|conv|iwae|conv64|burgess]... [--keep DIR]
#
#   mlp   `vae train --config mlp` vs ../shared/peers/torch_mlp_vae.py: seconds per epoch (median over all
#         epochs of all rounds) and peak RSS (median over rounds).
#   conv  `vae train --config conv --train-limit N` vs torch_conv_vae.py --limit N (a full conv epoch takes
#         50–220 s in PyTorch here; the limit trains both on the same first N images).
#   iwae  `vae eval RUN --limit N -k K` vs benchmarks/torch_iwae_nll.py on the same weights (the mlp run
#         trained in the first round): seconds of the estimate, and both NLLs.
#   conv64  (only with --only conv64: slow, and needs an image folder) `vae train --config conv64 --data DIR` vs
#         benchmarks/torch_vanilla_vae.py --data DIR (PyTorch-VAE's VanillaVAE, 64×64 RGB, batch 64), E epochs a
#         round: seconds per epoch (median over all epochs of all rounds) and peak RSS (median over rounds).
#         DIR (--conv64-data, default $SCRATCH/images64-200, i.e. .build/images64-200) is written when missing by
#         `python3 scripts/make_image_folder.py DIR --per-class 200 --test-per-class 20` (2000 train / 200 test
#         images, from Debian's dataset-fashion-mnist); --conv64-limit N trains both on its first N images (0 = all).
#   burgess  (only with --only burgess) `vae train` of a β-VAE (β = 4) on the `burgess` network on the first N
#         procedural dSprites training images (--burgess-images, default 20000; Adam 1e-4, batch 64) vs
#         benchmarks/torch_burgess_vae.py --images N (the same layers and loss on N rectangle images: the timing
#         does not depend on the pictures), E epochs a round: seconds per epoch and peak RSS, as for conv64.
#
# --keep DIR keeps every log (per-epoch lines of both sides, RSS, JSON) in DIR instead of deleting them.
# Without PyTorch (python3 -c "import torch" fails) VAEKit is timed alone and the script says so. VAE=PATH times
# that `vae` binary instead of building one (swift build -c release).
set -euo pipefail
caller=$PWD   # relative paths given to the script (--keep, VAE) are the caller's
cd "$(dirname "$0")/.."
rounds=3; threads=2; epochs=3; conv_limit=4096; iwae_limit=1000; k=5000; only=(); keep=; conv64_data=; conv64_limit=0
burgess_images=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2;; --threads) threads=$2; shift 2;; --epochs) epochs=$2; shift 2;;
    --conv-limit) conv_limit=$2; shift 2;; --iwae-limit) iwae_limit=$2; shift 2;; -k) k=$2; shift 2;;
    --only) only+=("$2"); shift 2;; --keep) keep=$2; [[ "$keep" = /* ]] || keep=$caller/$keep; shift 2;;
    --conv64-data) conv64_data=$2; [[ "$conv64_data" = /* ]] || conv64_data=$caller/$conv64_data; shift 2;;
    --conv64-limit) conv64_limit=$2; shift 2;; --burgess-images) burgess_images=$2; shift 2;;
    -h|--help) sed -n '2,29p' "$0"; exit 0;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
[ ${#only[@]} -eq 0 ] && only=(mlp conv iwae)
for x in "${only[@]}"; do
  case "$x" in mlp|conv|iwae|conv64|burgess) ;; *) echo "compare.sh: --only: unknown model '$x' (mlp, conv, iwae, conv64 or burgess)" >&2; exit 2;; esac
done
wants() { local x; for x in "${only[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
peers=${PEERS:-../shared/peers}
scratch=${SCRATCH:-.build}
vae=${VAE:-}
[ -z "$vae" ] || [[ "$vae" = /* ]] || vae=$caller/$vae
if [ -z "$vae" ]; then
  swift build -c release --product vae --scratch-path "$scratch" >/dev/null
  vae=$(swift build -c release --scratch-path "$scratch" --show-bin-path)/vae
fi
if [ -n "$keep" ]; then
  mkdir -p "$keep" || { echo "compare.sh: --keep: cannot create directory '$keep'" >&2; exit 2; }
  [ -z "$(ls -A "$keep")" ] || { echo "compare.sh: --keep: directory '$keep' is not empty" >&2; exit 2; }
  work=$keep
else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fi
have_torch=1
python3 -c "import torch, numpy" 2>/dev/null || {
  have_torch=0; echo "PyTorch not installed (python3 -c 'import torch' failed; pip install torch numpy): timing VAEKit alone"; }
if wants conv64; then
  conv64_data=${conv64_data:-$scratch/images64-200}
  if [ ! -e "$conv64_data" ]; then
    echo "writing the conv64 image folder $conv64_data (scripts/make_image_folder.py --per-class 200 --test-per-class 20)"
    python3 scripts/make_image_folder.py "$conv64_data" --per-class 200 --test-per-class 20 >/dev/null
  fi
fi

if wants burgess; then
  cat > "$work/burgess.yaml" <<YAML
model_params: {name: beta-vae, beta: 4, network: burgess, hidden_sizes: [32, 32, 32, 32], dense_sizes: [256, 256], latent_size: 10, likelihood: bernoulli}
data_params: {dataset: dsprites, batch_size: 64, test_batch_size: 200, train_limit: $burgess_images, test_limit: 1000}
exp_params: {optimizer: adam, learning_rate: 0.0001}
trainer_params: {epochs: $epochs}
YAML
fi

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
rss() { /usr/bin/time -f "%M" -o "$1" "${@:2}"; }
load() { cut -d' ' -f1 /proc/loadavg; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u '+%F %H:%M UTC'), $threads threads, load at start $(load)"

for round in $(seq "$rounds"); do
  if wants mlp || { wants iwae && [ "$round" = 1 ]; }; then
    rss "$work/mlp-vae-rss-$round" "$vae" train --config mlp --epochs "$epochs" --seed 1 --threads "$threads" \
        --output "$work/mlp-$round" > "$work/mlp-vae-$round.log" 2>&1
    [ "$have_torch" = 1 ] && wants mlp && rss "$work/mlp-torch-rss-$round" python3 "$peers/torch_mlp_vae.py" \
        --epochs "$epochs" --threads "$threads" --seed 1 > "$work/mlp-torch-$round.log"
  fi
  if wants conv; then
    rss "$work/conv-vae-rss-$round" "$vae" train --config conv --epochs 1 --seed 1 --threads "$threads" \
        --train-limit "$conv_limit" --test-limit 1000 --output "$work/conv-$round" > "$work/conv-vae-$round.log" 2>&1
    [ "$have_torch" = 1 ] && rss "$work/conv-torch-rss-$round" python3 "$peers/torch_conv_vae.py" --epochs 1 \
        --threads "$threads" --seed 1 --limit "$conv_limit" > "$work/conv-torch-$round.log"
  fi
  if wants conv64; then
    rss "$work/conv64-vae-rss-$round" "$vae" train --config conv64 --data "$conv64_data" --epochs "$epochs" --seed 1 \
        --threads "$threads" --train-limit "$conv64_limit" --output "$work/conv64-$round" > "$work/conv64-vae-$round.log" 2>&1
    [ "$have_torch" = 1 ] && rss "$work/conv64-torch-rss-$round" python3 benchmarks/torch_vanilla_vae.py \
        --data "$conv64_data" --epochs "$epochs" --threads "$threads" --seed 1 --limit "$conv64_limit" \
        > "$work/conv64-torch-$round.log"
  fi
  if wants burgess; then
    rss "$work/burgess-vae-rss-$round" "$vae" train --config "$work/burgess.yaml" --seed 1 --threads "$threads" \
        --output "$work/burgess-$round" > "$work/burgess-vae-$round.log" 2>&1
    [ "$have_torch" = 1 ] && rss "$work/burgess-torch-rss-$round" python3 benchmarks/torch_burgess_vae.py \
        --images "$burgess_images" --epochs "$epochs" --threads "$threads" --seed 1 > "$work/burgess-torch-$round.log"
  fi
  if wants iwae; then
    "$vae" eval "$work/mlp-1" --limit "$iwae_limit" -k "$k" --json > "$work/iwae-vae-$round.json"
    [ "$have_torch" = 1 ] && python3 benchmarks/torch_iwae_nll.py --run "$work/mlp-1" --limit "$iwae_limit" -k "$k" \
        --threads "$threads" > "$work/iwae-torch-$round.log"
  fi
  echo "round $round done, load $(load)"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
epochs_of() { grep -ho ' [0-9.]* s ' "$@" | awk '{print $1}'; }     # VAEKit's per-epoch seconds in these logs
estimate_seconds() { grep -ho '"seconds" : [0-9.]*' "$@" | awk '{print $3}'; }   # `vae eval --json` files
torch_seconds() { grep -ho 'seconds [0-9.]*' "$@" | awk '{print $2}'; }
per_round() {  # name VAEKit-extractor file-suffix: the ratio of each round's medians (the spread behind the ratio)
  [ "$have_torch" = 1 ] || return 0
  local r line=""
  for r in $(seq "$rounds"); do
    line+=" $(ratio "$($2 "$work/$1-vae-$r.$3" | median)" "$(torch_seconds "$work/$1-torch-$r.log" | median)")"
  done
  echo "      per round (VAEKit / PyTorch, each round's medians):$line"
}
report() {  # name vae_seconds torch_seconds vae_rss torch_rss extra
  if [ "$have_torch" = 1 ]; then
    printf '%-5s VAEKit %7.2f s  PyTorch %7.2f s  ratio %s   peak RSS %4d MiB vs %4d MiB  ratio %s  %s\n' "$1" "$2" "$3" \
      "$(ratio "$2" "$3")" "$(( $4 / 1024 ))" "$(( $5 / 1024 ))" "$(ratio "$4" "$5")" "$6"
  else
    printf '%-5s VAEKit %7.2f s  peak RSS %4d MiB  %s\n' "$1" "$2" "$(( $4 / 1024 ))" "$6"
  fi
}
epoch_summary() {  # name description: medians of the per-epoch seconds and peak RSS of both sides, and each round's ratio
  local v vr t=nan tr=1
  v=$(epochs_of "$work"/"$1"-vae-*.log | median)
  vr=$(cat "$work"/"$1"-vae-rss-* | median)
  if [ "$have_torch" = 1 ]; then
    t=$(torch_seconds "$work"/"$1"-torch-*.log | median); tr=$(cat "$work"/"$1"-torch-rss-* | median); fi
  report "$1" "$v" "$t" "$vr" "$tr" "$2"
  per_round "$1" epochs_of log
}
if wants mlp; then epoch_summary mlp "(seconds per epoch, median of $((rounds * epochs)) epochs)"; fi
if wants conv; then epoch_summary conv "(seconds per epoch of $conv_limit images, median of $rounds)"; fi
if wants conv64; then
  images=$(grep -o 'on [0-9]* images' "$work/conv64-vae-1.log" | awk '{print $2}')
  epoch_summary conv64 "(seconds per epoch of ${images:-?} 64×64 images, median of $((rounds * epochs)) epochs)"
fi
if wants burgess; then
  epoch_summary burgess "(seconds per epoch of $burgess_images 64×64 dSprites images, median of $((rounds * epochs)) epochs)"
fi
if wants iwae; then
  v=$(estimate_seconds "$work"/iwae-vae-*.json | median)
  vn=$(grep -o '"negative_log_likelihood" : [0-9.]*' "$work/iwae-vae-1.json" | awk '{print $3}'); t=nan; tn=
  if [ "$have_torch" = 1 ]; then
    t=$(torch_seconds "$work"/iwae-torch-*.log | median)
    tn=$(grep -o 'NLL [0-9.]*' "$work/iwae-torch-1.log" | awk '{print $2}'); fi
  if [ "$have_torch" = 1 ]; then
    printf 'iwae  VAEKit %7.2f s  PyTorch %7.2f s  ratio %s   NLL %s vs %s nats (k = %s, %s images, same weights)\n' \
      "$v" "$t" "$(ratio "$v" "$t")" "$vn" "$tn" "$k" "$iwae_limit"
    per_round iwae estimate_seconds json
  else
    printf 'iwae  VAEKit %7.2f s  NLL %s nats (k = %s, %s images)\n' "$v" "$vn" "$k" "$iwae_limit"
  fi
fi
echo "load at end $(load) (1-minute average; above ~2 other work shared the 2 cores: repeat and compare ratios)"
[ -z "$keep" ] || echo "logs kept in $keep"
