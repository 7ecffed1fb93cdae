#!/usr/bin/env bash
# Kills `vae train` with SIGKILL at random moments, TRIALS times, and checks after each kill that the run's
# checkpoint (when an epoch had finished) loads with `vae eval` and continues with `vae train --resume`.
# Epochs of 256 synthetic images take milliseconds, so a large share of kills land inside a save.
#
#   fuzz/kill.sh [TRIALS] [VAE_BINARY]      e.g. fuzz/kill.sh 200 .build/release/vae
#
# Prints one line per failure and a summary: trials, kills after a checkpoint, kills that interrupted a save
# (left a temporary file or an unreferenced epoch folder), checkpoints lost (should be 0).
set -uo pipefail
trials=${1:-100}
vae=${2:-.build/release/vae}
[ -x "$vae" ] || { echo "no vae binary at $vae (build with swift build -c release)" >&2; exit 2; }
vae=$(cd "$(dirname "$vae")" && pwd)/$(basename "$vae")
work=$(mktemp -d /tmp/vae-kill-XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 - "$work/data" <<'PY'
import os, struct, sys, random
random.seed(1)
os.makedirs(sys.argv[1], exist_ok=True)
for stem, count in (("train", 256), ("t10k", 64)):
    pixels = bytearray()
    for index in range(count):
        quadrant = index % 4
        for row in range(28):
            for column in range(28):
                inside = row // 14 == quadrant // 2 and column // 14 == quadrant % 2
                pixels.append((160 if inside else 0) + random.randrange(90))
    with open(f"{sys.argv[1]}/{stem}-images-idx3-ubyte", "wb") as file:
        file.write(bytes([0, 0, 8, 3]) + struct.pack(">III", count, 28, 28) + bytes(pixels))
PY
with_checkpoint=0; interrupted=0; lost=0
for trial in $(seq 1 "$trials"); do
    run="$work/run-$trial"
    "$vae" train --data "$work/data" --epochs 100000 --batch-size 128 --output "$run" >/dev/null 2>&1 &
    pid=$!
    # 0.15 … 2.5 s: before the first epoch, during epochs and during saves.
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.15 + 2.35 * r / 32768 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -f "$run/checkpoint.json" ] || { rm -rf "$run"; continue; }
    with_checkpoint=$((with_checkpoint + 1))
    epoch=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["epoch"])' "$run/checkpoint.json")
    # Inside a save: metrics.csv already has the next epoch's row (written just before the save), the next
    # epoch's folder exists, or a temporary file was left.
    logged=$(tail -n 1 "$run/metrics.csv" | cut -d, -f1)
    if [ "$logged" != "$epoch" ] || [ -d "$run/checkpoints/epoch-$((epoch + 1))" ] || find "$run" -name '.*.tmp-*' | grep -q .; then
        interrupted=$((interrupted + 1))
    fi
    if ! "$vae" eval "$run" -k 0 --limit 8 >/dev/null 2>"$work/eval.err"; then
        lost=$((lost + 1)); echo "trial $trial: checkpoint of epoch $epoch does not load: $(cat "$work/eval.err")"
    elif ! "$vae" train --resume "$run" --epochs $((epoch + 1)) >/dev/null 2>"$work/resume.err"; then
        lost=$((lost + 1)); echo "trial $trial: resume after epoch $epoch failed: $(cat "$work/resume.err")"
    elif [ "$(tail -n +2 "$run/metrics.csv" | cut -d, -f1 | tr '\n' ' ')" != "$(seq -s ' ' 1 $((epoch + 1))) " ]; then
        lost=$((lost + 1)); echo "trial $trial: metrics.csv epochs after resume: $(tail -n +2 "$run/metrics.csv" | cut -d, -f1 | tr '\n' ' ')"
    fi
    rm -rf "$run"
done
echo "kill trials: $trials, with a checkpoint: $with_checkpoint, interrupted a save: $interrupted, checkpoints lost: $lost"
[ "$lost" = 0 ]
