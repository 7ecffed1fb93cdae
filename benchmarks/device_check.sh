#!/usr/bin/env bash
# The GPU session's checks, run on the GPU machine by the device tool (carry: .device, made by
# scripts/device_bundle.sh: the static `vae` bundle and Fashion-MNIST): unpacks the bundle, then into $OUT:
#   gpu.csv       nvidia-smi's name, driver and memory
#   devices.txt   `vae devices --compile`: the libraries found there, and the kernels compiled for the GPU
#   checks.txt    `vae devices --check`: every kernel and cuBLAS's SGEMM against the CPU backend
#   checks.json   the same as JSON
# then, unless --checks-only, the timings (each run bounded by `timeout`, its log beside it):
#   NAME.log, NAME.metrics.csv   `vae train` runs: mlp at batch 128 and 1024 and conv on cuda and on the CPU
#                 (the −ELBO comparison), conv64 (VanillaVAE) on cuda on 5000 64×64 RGB images that
#                 scripts/make_image_folder.py writes there from Fashion-MNIST; conv and conv64 again with --tf32
#   bench-*.txt   `vae bench` of mlp, conv, conv64 and sentence-vae (synthetic sentences): 200 steps on cuda, and
#                 on the dispatch-only device (the host's cost of issuing them), with launches per kernel;
#                 bench-*-profile.txt: 100 steps on cuda with --profile (each kernel, GEMM and copy timed by CUDA
#                 events: where a step's GPU time goes, idle time included)
#   eval-*.json   `vae eval` (IWAE NLL, k = 5000) of the cuda mlp run: the whole test set on cuda (passes of 2048
#                 rows, and of 32768), 1000 images on cuda and on the CPU
#   torch-*.txt   benchmarks/torch_mlp_vae.py on cuda at batch 128 and 1024, torch_conv_vae.py and
#                 torch_vanilla_vae.py (PyTorch-VAE's VanillaVAE, the same images) on cuda, in FP32 (--tf32 off), and
#                 the last two again in TF32 (--tf32 on, beside VAEKit's --tf32 runs); torch-eval-full-cuda.out
#                 benchmarks/torch_iwae_nll.py on cuda (when the machine's Python has torch with CUDA)
#   summary.txt   benchmarks/device_summary.py: median epoch seconds (epochs after the first), VAEKit/PyTorch
#                 ratios, test −ELBO against the CPU run, and the GEMMs' achieved TFLOP/s
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/vae-device-out}
mkdir -p "$out"
directory=/tmp/vae-bundle
rm -rf "$directory" && mkdir -p "$directory"
tar -C "$directory" -xJf .device/vae-bundle.tar.xz || { echo "device_check: no .device/vae-bundle.tar.xz (run scripts/device_bundle.sh, carry .device)"; exit 1; }
export LD_LIBRARY_PATH="$directory/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
vae="$directory/bundle/vae"
export VAEKIT_CACHE_DIR=/tmp/vae-cache
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/gpu.csv"
"$vae" devices --compile 2>&1 | tee "$out/devices.txt"
"$vae" devices --check 2>&1 | tee "$out/checks.txt"
status=${PIPESTATUS[0]}
"$vae" devices --check --json > "$out/checks.json" 2> "$out/checks.err"
[ "${1:-}" = "--checks-only" ] && exit "$status"

data="$PWD/.device/fashion-mnist"
epochs=${EPOCHS:-3}
images64=/tmp/vae-images64
train() {  # NAME ARGS…: a `vae train` run of $epochs epochs on $TRAIN_DATA (default Fashion-MNIST), at most 150 s
  local name=$1; shift
  rm -rf "/tmp/vae-runs/$name"
  local started=$EPOCHREALTIME
  timeout 150 "$vae" train --data "${TRAIN_DATA:-$data}" --epochs "$epochs" --output "/tmp/vae-runs/$name" "$@" > "$out/$name.log" 2>&1
  local status=$?
  echo "$name: exit $status, $(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $started }") s" | tee -a "$out/timings.txt"
  cp "/tmp/vae-runs/$name/metrics.csv" "$out/$name.metrics.csv" 2>/dev/null
}
# Most wanted first (the device tool stops a command at 10 minutes; what is in $OUT by then comes back): the cuda
# epochs and PyTorch's on the same GPU, then the CPU epochs (−ELBO comparison), the IWAE NLL, the step benches.
have_torch=0
python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null && have_torch=1 || echo "no PyTorch with CUDA in this Python" | tee -a "$out/timings.txt"
torch_run() {  # NAME SECONDS SCRIPT ARGS…: a PyTorch reference on the GPU
  local name=$1 seconds=$2; shift 2
  [ "$have_torch" = 1 ] || return 0
  timeout "$seconds" python3 "$@" --device cuda > "$out/$name.txt" 2>&1
  echo "$name: exit $?" | tee -a "$out/timings.txt"
}
rm -rf "$images64"
timeout 120 python3 scripts/make_image_folder.py "$images64" --per-class 500 --test-per-class 20 --source "$data" > /dev/null
echo "image folder: exit $?" | tee -a "$out/timings.txt"
train mlp-b128-cuda --config mlp --device cuda
# FP32 against FP32 first (PyTorch's convolutions would run in TF32 by default: --tf32 off); TF32 pairs come later.
torch_run torch-mlp-b128-cuda 120 benchmarks/torch_mlp_vae.py --data "$data" --epochs "$epochs" --batch 128 --tf32 off
train mlp-b1024-cuda --config mlp --device cuda --batch-size 1024
torch_run torch-mlp-b1024-cuda 120 benchmarks/torch_mlp_vae.py --data "$data" --epochs "$epochs" --batch 1024 --tf32 off
train conv-cuda --config conv --device cuda
torch_run torch-conv-cuda 150 benchmarks/torch_conv_vae.py --data "$data" --epochs "$epochs" --tf32 off
TRAIN_DATA=$images64 train conv64-cuda --config conv64 --device cuda
torch_run torch-conv64-cuda 150 benchmarks/torch_vanilla_vae.py --data "$images64" --epochs "$epochs" --tf32 off
train mlp-b128-cpu --config mlp --device cpu --threads "$(nproc)"
train mlp-b1024-cpu --config mlp --device cpu --threads "$(nproc)" --batch-size 1024
train conv-cpu --config conv --device cpu --threads "$(nproc)"
# The IWAE NLL (k = 5000) of the cuda-trained mlp (the CPU-trained one if that run failed): the whole test set on the
# GPU against PyTorch's estimator there, and the first 1000 images on both (the estimates must agree).
evaluated=/tmp/vae-runs/mlp-b128-cuda
[ -s "$evaluated/model.safetensors" ] || evaluated=/tmp/vae-runs/mlp-b128-cpu
echo "evaluating $evaluated" | tee -a "$out/timings.txt"
evaluate() {  # NAME ARGS…: `vae eval` of that run, at most 200 s
  local name=$1; shift
  timeout 200 "$vae" eval "$evaluated" --data "$data" -k 5000 --json --quiet "$@" > "$out/$name.json" 2> "$out/$name.err"
  echo "$name: exit $?" | tee -a "$out/timings.txt"
}
evaluate eval-full-cuda --device cuda --limit 0
evaluate eval-full-cuda-chunk32768 --device cuda --limit 0 --chunk 32768   # 6 images per pass: fewer launches and syncs
if [ "$have_torch" = 1 ]; then
  timeout 200 python3 benchmarks/torch_iwae_nll.py --run "$evaluated" --data "$data" --device cuda --limit 0 -k 5000 \
    > "$out/torch-eval-full-cuda.out" 2>&1
  echo "torch-eval-full-cuda: exit $?" | tee -a "$out/timings.txt"
fi
evaluate eval-1000-cuda --device cuda --limit 1000
evaluate eval-1000-cpu --device cpu --limit 1000
# TF32 on both sides (`vae train --tf32`; PyTorch's matmuls and convolutions in TF32): the convolutional models.
train conv-tf32-cuda --config conv --device cuda --tf32
torch_run torch-conv-tf32-cuda 150 benchmarks/torch_conv_vae.py --data "$data" --epochs "$epochs" --tf32 on
TRAIN_DATA=$images64 train conv64-tf32-cuda --config conv64 --device cuda --tf32
torch_run torch-conv64-tf32-cuda 150 benchmarks/torch_vanilla_vae.py --data "$images64" --epochs "$epochs" --tf32 on
# Steps alone on the GPU (synthetic batches, each step ending with its loss read back) and the work per step by
# kernel; the same steps on a device that does no work give the host's share.
for model in mlp conv conv64 sentence-vae; do
  for device in cuda dispatch; do
    timeout 60 "$vae" bench --model "$model" --device "$device" --steps 200 --warm-up 20 --eval-images 0 --importance-samples 0 \
      > "$out/bench-$model-$device.txt" 2>&1
    echo "bench-$model-$device: exit $?" | tee -a "$out/timings.txt"
  done
  [ "$model" = conv64 ] && { timeout 60 "$vae" bench --model conv64 --device cuda --tf32 --steps 200 --warm-up 20 --eval-images 0 \
    --importance-samples 0 > "$out/bench-conv64-tf32-cuda.txt" 2>&1; echo "bench-conv64-tf32-cuda: exit $?" | tee -a "$out/timings.txt"; }
  timeout 60 "$vae" bench --model "$model" --device cuda --profile --steps 100 --warm-up 20 --eval-images 0 --importance-samples 0 \
    > "$out/bench-$model-profile.txt" 2>&1
  echo "bench-$model-profile: exit $?" | tee -a "$out/timings.txt"
done
python3 benchmarks/device_summary.py "$out" 2>&1 | tee "$out/summary.txt"
exit "$status"
