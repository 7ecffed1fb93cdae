#!/usr/bin/env bash
# Tests of `vae train` across MPI ranks (CI runs this after the README's test command). Needs Open MPI
# (`scripts/setup.sh --mpi`). Builds `vae` without and with the MPI trait (with the test build's flags, so only
# VAEKit's own modules are rebuilt; .build/release/vae is the MPI build afterwards), then checks, on Fashion-MNIST:
#   1. a build without MPI started by mpirun with 2 ranks refuses, saying how to build with MPI; commands other than
#      train and eval refuse to run as ranks;
#   2. 2 ranks × 1 thread give the metrics and weights of 1 process × 2 threads, bit for bit (the same two shards of
#      every batch and of the test set, the gradients added in rank order); a rerun gives the same bits; allreduce too;
#      `vae eval` split across the ranks gives one process's report;
#   3. --resume with the same N continues exactly (= the uninterrupted run); with another N it continues and notes it;
#   4. a model whose loss couples a batch's rows is refused with a message naming it; an error on one rank ends all;
#   5. a rank killed with SIGKILL brings the job down with the survivors' message naming the kept checkpoint, and
#      --resume then finishes the run with the weights of an uninterrupted one;
#   6. a rank that hangs (SIGSTOP) stops the job after --mpi-timeout with a message from the rank that waited.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpirun >/dev/null || { echo "test_mpi: mpirun not found; run scripts/setup.sh --mpi" >&2; exit 1; }
work=$(mktemp -d /tmp/vaekit-mpi.XXXXXX)
trap 'rm -rf "$work"' EXIT
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
flags=(-c release -Xswiftc -enable-testing --product vae)
failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1" >&2; failures=$((failures + 1)); }
same() { cmp -s "$1" "$2"; }
# metrics.csv without the timing columns (seconds, images_per_second).
losses() { cut -d, -f1-5,8- "$1"; }

swift build "${flags[@]}" >/dev/null
cp "$(swift build "${flags[@]}" --show-bin-path)/vae" "$work/vae-plain"
swift build "${flags[@]}" --traits MPI >/dev/null
cp "$(swift build "${flags[@]}" --traits MPI --show-bin-path)/vae" "$work/vae"
vae="$work/vae"
cd "$work"
small=(--train-limit 3000 --test-limit 500 --seed 5 --quiet)

# 1. Without MPI.
if "${mpi[@]}" ./vae-plain train --config mlp "${small[@]}" --epochs 1 --output plain > plain.log 2>&1; then
  fail "a build without MPI trained under mpirun"
elif grep -q "built without MPI" plain.log && grep -q -- "--traits MPI" plain.log && [ ! -e plain ]; then
  pass "a build without MPI refuses to run as 2 ranks and writes nothing"
else fail "a build without MPI: unexpected output"; cat plain.log; fi

if "${mpi[@]}" "$vae" configs mlp > configs.log 2>&1; then fail "vae configs ran as 2 ranks"
else grep -q 'only `vae train` and `vae eval` run across MPI ranks' configs.log && pass "other commands refuse to run as 2 ranks" \
  || { fail "vae configs under mpirun: unexpected output"; cat configs.log; }; fi

# 2. Same numbers as one process with the same shards.
"$vae" train --config mlp "${small[@]}" --epochs 2 --threads 2 --output one > /dev/null
"${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 2 --threads 1 --output two > two.log 2>&1 || { cat two.log; exit 1; }
"${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 2 --threads 1 --output again > again.log 2>&1 || { cat again.log; exit 1; }
"${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 2 --threads 1 --output reduced --mpi-reduction allreduce > reduced.log 2>&1 || { cat reduced.log; exit 1; }
if [ "$(losses one/metrics.csv)" = "$(losses two/metrics.csv)" ] && same one/model.safetensors two/model.safetensors; then
  pass "2 ranks × 1 thread = 1 process × 2 threads (metrics.csv losses and model.safetensors identical)"
else fail "2 ranks differ from 1 process × 2 threads"; diff <(losses one/metrics.csv) <(losses two/metrics.csv) || true; fi
same two/model.safetensors again/model.safetensors && pass "a rerun with 2 ranks is bit-identical" || fail "a rerun with 2 ranks differs"
# With two ranks a + b = b + a: MPI_Allreduce's sum has the same bits (with more ranks its order is MPI's).
same two/model.safetensors reduced/model.safetensors && pass "--mpi-reduction allreduce (2 ranks) gives the same weights" \
  || fail "--mpi-reduction allreduce with 2 ranks differs"
ls two | grep -q . && [ "$(ls two | wc -l)" = "$(ls one | wc -l)" ] && pass "rank 0 wrote the run directory ($(ls two | wc -l) entries, as one process)" \
  || fail "the 2-rank run directory differs from one process's"

# vae eval split across 2 ranks of 1 thread = one process of 2 threads (the runs' weights are the same): the sharded
# estimates bit for bit; the KL per dimension (computed whole on each rank, with the BLAS of 1 thread against 2) to
# rounding.
"$vae" eval one -k 20 --limit 300 --json > eval-one.json
"${mpi[@]}" "$vae" eval two -k 20 --limit 300 --json > eval-two.json
if python3 - eval-one.json eval-two.json <<'PY'
import json, sys
one, two = (json.load(open(path)) for path in sys.argv[1:3])
exact = ["negative_elbo", "reconstruction", "kl", "negative_log_likelihood", "bits_per_dimension", "images"]
assert all(one[key] == two[key] for key in exact), [(key, one[key], two[key]) for key in exact]
assert all(abs(a - b) <= 1e-4 * max(abs(a), 1) for a, b in zip(one["kl_per_dimension"], two["kl_per_dimension"]))
PY
then pass "vae eval across 2 ranks = 1 process × 2 threads (−ELBO, NLL identical; KL per dimension to 1e-4)"
else fail "vae eval across 2 ranks differs"; fi

# 3. Resume with the same N (exact) and with another N.
"${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 1 --threads 1 --output resumed > resumed.log 2>&1 || { cat resumed.log; exit 1; }
"${mpi[@]}" "$vae" train --resume resumed --epochs 2 --quiet >> resumed.log 2>&1 || { cat resumed.log; exit 1; }
same two/model.safetensors resumed/model.safetensors && [ "$(losses two/metrics.csv)" = "$(losses resumed/metrics.csv)" ] \
  && pass "--resume with 2 ranks continues exactly (weights and metrics = the uninterrupted run)" || fail "--resume with 2 ranks differs"
"${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 1 --threads 1 --output other > other-start.log 2>&1 || { cat other-start.log; exit 1; }
"$vae" train --resume other --epochs 2 > other.log 2>&1
if [ "$(wc -l < other/metrics.csv)" = 3 ] && grep -q "1 MPI rank(s), this one has\|2 MPI rank(s), this one has 1" other.log; then
  pass "--resume of a 2-rank run as one process finishes it and notes the different rank count"
else fail "--resume with another rank count"; cat other.log; fi

# 4. A model whose loss couples the rows of a batch.
if "${mpi[@]}" "$vae" train --config beta-tcvae "${small[@]}" --epochs 1 --threads 1 --output coupled > coupled.log 2>&1; then
  fail "beta-tcvae trained across ranks"
else grep -q "beta-tcvae: its loss couples the rows" coupled.log && pass "beta-tcvae is refused across ranks, by name" \
  || { fail "beta-tcvae: unexpected output"; cat coupled.log; }; fi

# An error on rank 0 alone (its run directory cannot be made) ends every rank at once (MPI_Abort), where the others
# would wait for it in their first exchange until --mpi-timeout.
started=$(date +%s)
if "${mpi[@]}" "$vae" train --config mlp "${small[@]}" --epochs 1 --threads 1 --output /dev/null/run > alone.log 2>&1; then
  fail "training into /dev/null/run succeeded"
else
  seconds=$(( $(date +%s) - started ))
  grep -q "error: /dev/null/run: cannot create the run directory" alone.log && [ "$seconds" -lt 60 ] \
    && pass "an error on rank 0 alone ends the job in $seconds s, with its message" || { fail "an error on rank 0 alone ($seconds s)"; cat alone.log; }
fi

# The rank-1 process of the job writing to run directory $1.
rank1() {
  for pid in $(pgrep -f "vae train .*--output $1( |$)" || true); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && { echo "$pid"; return; }
  done
}
# Waits until run directory $1 has a checkpoint of epoch ≥ 1 (at most 120 s).
checkpointed() {
  for _ in $(seq 1200); do
    grep -q '"epoch" *: *[1-9]' "$1/checkpoint.json" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
long=(--config mlp --test-limit 1000 --seed 6 --threads 1 --epochs 3 --quiet)

# 5. A rank killed.
"${mpi[@]}" "$vae" train "${long[@]}" --output whole > whole.log 2>&1 || { cat whole.log; exit 1; }
"${mpi[@]}" "$vae" train "${long[@]}" --output killed > killed.log 2>&1 &
job=$!
pid=$(checkpointed killed && rank1 killed || true)
[ -n "$pid" ] && kill -9 "$pid" || fail "no rank 1 of the 'killed' job to kill (did it checkpoint?)"
started=$(date +%s)
if wait "$job"; then fail "the job went on after a rank was killed"; fi
seconds=$(( $(date +%s) - started ))
epoch=$(grep -o '"epoch" *: *[0-9]*' killed/checkpoint.json | grep -o '[0-9]*$')
if grep -q "stopped by the MPI launcher" killed.log && grep -q "last checkpoint (epoch $epoch) in killed is kept" killed.log && [ "$seconds" -lt 60 ]; then
  pass "a killed rank ends the job in $seconds s; the survivor names the checkpoint (epoch $epoch) and how to resume"
else fail "a killed rank: unexpected end ($seconds s)"; cat killed.log; fi
"${mpi[@]}" "$vae" train --resume killed --quiet > resume-killed.log 2>&1 || { fail "--resume after the kill"; cat resume-killed.log; }
same whole/model.safetensors killed/model.safetensors && pass "--resume after the kill finishes with the uninterrupted run's weights" \
  || fail "--resume after the kill differs from the uninterrupted run"

# 6. A rank that hangs.
"${mpi[@]}" "$vae" train "${long[@]}" --output hung --mpi-timeout 5 > hung.log 2>&1 &
job=$!
pid=$(checkpointed hung && rank1 hung || true)
[ -n "$pid" ] && kill -STOP "$pid" || fail "no rank 1 of the 'hung' job to stop (did it checkpoint?)"
started=$(date +%s)
if wait "$job"; then fail "the job went on after a rank hung"; fi
seconds=$(( $(date +%s) - started ))
if grep -q "rank 0 of 2): error: no answer from every rank after" hung.log && grep -q "last checkpoint (epoch" hung.log && [ "$seconds" -lt 60 ]; then
  pass "a hung rank ends the job after the 5 s timeout ($seconds s), the waiting rank says why"
else fail "a hung rank: unexpected end ($seconds s)"; cat hung.log; fi
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true

[ "$failures" -eq 0 ] && echo "test_mpi: all passed" || { echo "test_mpi: $failures failed" >&2; exit 1; }
