#!/usr/bin/env bash
# Training throughput across MPI ranks on this machine: 1 process × 2 threads against 2 ranks × 1 thread (gradients
# added in rank order, and with MPI_Allreduce), alternating the three round by round so that load from other work hits
# them alike. Prints, per model, the median images/s over all epochs of all rounds, the ratio of each 2-rank variant
# to the single process (with its spread: the ratios' min–max over rounds), and the gradient exchange's ms per step
# (and the part of it inside MPI's collective, waiting for the other rank included).
#
#   benchmarks/mpi_compare.sh [--rounds N] [--epochs E] [--limit N] [--models "mlp conv"] [--keep DIR]
#
# Needs `vae` built with MPI (VAE=PATH, or builds it: swift build -c release --traits MPI) and mpirun
# (scripts/setup.sh --mpi). --limit N trains on the first N Fashion-MNIST images (default 0: all 60 000 for mlp;
# conv takes --limit or 12 000).
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
rounds=3; epochs=2; limit=0; models="mlp conv"; keep=
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2;; --epochs) epochs=$2; shift 2;; --limit) limit=$2; shift 2;;
    --models) models=$2; shift 2;; --keep) keep=$2; [[ "$keep" = /* ]] || keep=$caller/$keep; shift 2;;
    -h|--help) sed -n '2,12p' "$0"; exit 0;;
    *) echo "mpi_compare.sh: unknown option '$1' (see --help)" >&2; exit 2;;
  esac
done
vae=${VAE:-}
if [ -z "$vae" ]; then
  swift build -c release --traits MPI --product vae >/dev/null
  vae=$(swift build -c release --traits MPI --show-bin-path)/vae
fi
[[ "$vae" = /* ]] || vae=$caller/$vae
work=${keep:-$(mktemp -d /tmp/vaekit-mpi-compare.XXXXXX)}
mkdir -p "$work"
[ -z "$keep" ] && trap 'rm -rf "$work"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start; $(mpirun --version | head -1)"
for model in $models; do
  model_limit=$limit
  [ "$model" = conv ] && [ "$limit" = 0 ] && model_limit=12000
  common=(--config "$model" --epochs "$epochs" --train-limit "$model_limit" --test-limit 1000 --seed 1)
  for round in $(seq "$rounds"); do
    "$vae" train "${common[@]}" --threads 2 --output "$work/$model-one-$round" > /dev/null 2> "$work/$model-one-$round.log"
    "${mpi[@]}" "$vae" train "${common[@]}" --threads 1 --output "$work/$model-ordered-$round" > /dev/null 2> "$work/$model-ordered-$round.log"
    "${mpi[@]}" "$vae" train "${common[@]}" --threads 1 --output "$work/$model-allreduce-$round" --mpi-reduction allreduce > /dev/null 2> "$work/$model-allreduce-$round.log"
  done
  python3 - "$work" "$model" "$rounds" <<'PY'
import csv, re, statistics, sys
work, model, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def speeds(variant, round_):
    return [float(r["images_per_second"]) for r in csv.DictReader(open(f"{work}/{model}-{variant}-{round_}/metrics.csv"))]
def exchange(variant):
    values = []
    for round_ in range(1, rounds + 1):
        try:
            text = open(f"{work}/{model}-{variant}-{round_}.log").read()
        except FileNotFoundError:
            continue
        values += [(float(a), float(b)) for a, b in re.findall(r"gradient exchange ([0-9.]+) ms/step, ([0-9.]+) in MPI", text)]
    if not values:
        return "no exchange lines"
    return "gradient exchange %.2f ms/step, %.2f of it in MPI" % (statistics.median(a for a, _ in values), statistics.median(b for _, b in values))
one = statistics.median(s for r in range(1, rounds + 1) for s in speeds("one", r))
print(f"{model}: 1 process × 2 threads {one:.0f} images/s")
for variant in ["ordered", "allreduce"]:
    median = statistics.median(s for r in range(1, rounds + 1) for s in speeds(variant, r))
    ratios = [statistics.median(speeds(variant, r)) / statistics.median(speeds("one", r)) for r in range(1, rounds + 1)]
    print(f"{model}: 2 ranks × 1 thread ({variant}) {median:.0f} images/s, throughput ratio {median / one:.2f} "
          f"({min(ratios):.2f}–{max(ratios):.2f} over rounds), {exchange(variant)} (medians of the epochs)")
PY
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
