#!/usr/bin/env bash
# The sample-quality table of the README: trains each model (its built-in config on grey levels, binarisation
# turned off where the config sets it; seed 1) and measures its samples with `vae eval --sample-quality` on the whole test set: the Fréchet
# distance in the features of VAEKit's classifier, precision and recall (k = 3). Prints one markdown row per model.
#
#   benchmarks/sample_quality.sh [--vae PATH] [--epochs E] [--threads T] [--out DIR] [MODEL...]
#
#   --threads  BLAS threads of each training (default 2).
#   MODEL  built-in config names (default: every unconditional model config but conv64, which needs an image
#          folder, and vq-vae, whose prior fit takes minutes; cvae is conditional: its samples need labels).
set -euo pipefail
cd "$(dirname "$0")/.."
vae=${VAE:-}; epochs=10; threads=2; out=runs/sample-quality; models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --vae) vae=$2; shift 2;; --epochs) epochs=$2; shift 2;; --out) out=$2; shift 2;; --threads) threads=$2; shift 2;;
    -h|--help) sed -n '2,11p' "$0"; exit 0;;
    -*) echo "sample_quality.sh: unknown option '$1' (see --help)" >&2; exit 2;;
    *) models+=("$1"); shift;;
  esac
done
if [ -z "$vae" ]; then
  swift build -c release --product vae >/dev/null
  vae=$(swift build -c release --show-bin-path)/vae
fi
[ ${#models[@]} -eq 0 ] && mapfile -t models < <("$vae" configs | grep -v -x -e conv64 -e vq-vae -e cvae)
mkdir -p "$out"
echo "| model | epochs | test −ELBO | Fréchet classifier distance | precision | recall |"
echo "| --- | --- | --- | --- | --- | --- |"
for model in "${models[@]}"; do
  rm -rf "${out:?}/$model"
  # Grey levels for every model: the configs that binarise (iwae, hvae, …) are trained here without it.
  "$vae" configs "$model" | sed 's/^  binarize: true$/  binarize: false/' > "$out/$model.yaml"
  "$vae" train --config "$out/$model.yaml" --epochs "$epochs" --seed 1 --threads "$threads" --output "$out/$model" > "$out/$model.train.log" 2>&1
  "$vae" eval "$out/$model" -k 0 --sample-quality --json > "$out/$model.eval.json"
  python3 - "$model" "$epochs" "$out/$model.eval.json" <<'PY'
import json, sys
model, epochs, path = sys.argv[1:4]
report = json.load(open(path))
quality = report["sample_quality"]
print("| `%s` | %s | %.2f | %.2f | %.3f | %.3f |" % (model, epochs, report["negative_elbo"],
      quality["frechet_classifier_distance"], quality["precision"], quality["recall"]))
PY
done
