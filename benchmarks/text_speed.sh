#!/usr/bin/env bash
# The sequence VAE's training speed against its PyTorch reference (benchmarks/torch_sentence_vae.py: torch.nn.GRU,
# the same sizes, vocabulary, batch, word dropout, KL schedule and gradient clipping), on the same first N
# sentences of the WordNet corpus, alternating VAEKit / PyTorch round by round. Prints each side's median seconds
# per epoch, tokens per second (<eos> included, counted by PyTorch's side on the same sentences) and the ratio of
# the medians (VAEKit / PyTorch: below 1 means VAEKit is faster) with its per-round spread.
#
#   benchmarks/text_speed.sh [--rounds N] [--sentences N] [--threads T] [--cell gru|lstm] [--keep DIR]
#
# The corpus is written once by `vae corpus --output DIR` (tokenised WordNet glosses) into .build/wordnet-corpus.
# VAE=PATH times that `vae` binary instead of building one.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
rounds=3; sentences=4000; threads=2; cell=gru; keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2;; --sentences) sentences=$2; shift 2;; --threads) threads=$2; shift 2;;
    --cell) cell=$2; shift 2;; --keep) keep=$2; [[ "$keep" = /* ]] || keep=$caller/$keep; shift 2;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) echo "text_speed.sh: unknown argument '$1' (see --help)" >&2; exit 2;;
  esac
done
vae=${VAE:-}
[ -z "$vae" ] || [[ "$vae" = /* ]] || vae=$caller/$vae
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
python3 -c "import torch" 2>/dev/null || { echo "text_speed.sh: PyTorch is missing (pip install torch)" >&2; exit 2; }
corpus=.build/wordnet-corpus
[ -s "$corpus/train.txt" ] || "$vae" corpus --output "$corpus" >/dev/null
work=$(mktemp -d); [ -n "$keep" ] && mkdir -p "$keep" && work=$keep
"$vae" configs sentence-vae | sed "s/rnn_cell: gru/rnn_cell: $cell/" > "$work/sentence-vae.yaml"
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/run"
  "$vae" train --config "$work/sentence-vae.yaml" --data "$corpus" --train-limit "$sentences" --test-limit 200 --epochs 1 \
    --threads "$threads" --output "$work/run" > "$work/vae-$round.log" 2>&1 \
    || { cat "$work/vae-$round.log" >&2; exit 1; }
  python3 benchmarks/torch_sentence_vae.py "$corpus" --limit "$sentences" --epochs 1 --threads "$threads" --cell "$cell" \
    > "$work/torch-$round.log"
done
python3 - "$work" "$rounds" <<'PY'
import csv, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
vae, torch, tokens = [], [], []
for r in range(1, rounds + 1):
    line = open(f"{work}/vae-{r}.log").read()
    vae.append(float(re.search(r"\)  ([0-9.]+) s  ", line).group(1)))
    t = open(f"{work}/torch-{r}.log").read()
    m = re.search(r"([0-9.]+) s  ([0-9]+) sentences/s  ([0-9]+) tokens/s", t)
    torch.append(float(m.group(1))); tokens.append(float(m.group(3)) * float(m.group(1)))
mv, mt = statistics.median(vae), statistics.median(torch)
ratios = [a / b for a, b in zip(vae, torch)]
print(f"VAEKit   median {mv:.2f} s/epoch  {tokens[0] / mv:.0f} tokens/s  (rounds: {', '.join(f'{x:.2f}' for x in vae)})")
print(f"PyTorch  median {mt:.2f} s/epoch  {tokens[0] / mt:.0f} tokens/s  (rounds: {', '.join(f'{x:.2f}' for x in torch)})")
print(f"ratio VAEKit/PyTorch {mv / mt:.2f}  (per round {min(ratios):.2f}–{max(ratios):.2f})")
PY
[ -z "$keep" ] && rm -rf "$work"
