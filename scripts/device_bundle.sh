#!/usr/bin/env bash
# Packs `vae` for the GPU machine, which has no Swift toolchain: a release build with the Swift runtime linked in
# (--static-swift-stdlib), stripped, with the shared libraries it needs beyond glibc (OpenBLAS and its Fortran
# runtime, libpng, zlib, libjpeg, libstdc++), as .device/vae-bundle.tar.xz, and Fashion-MNIST's four files (the
# timings' data) in .device/fashion-mnist (ignored by git; name `.device` in the device tool's `carry`: about 56 MB
# of its 64 MiB). benchmarks/device_check.sh unpacks and runs it there.
#
#   scripts/device_bundle.sh            # SCRATCH=DIR: the static build's scratch path (default .build-static)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-static}
swift build -c release --static-swift-stdlib --product vae --scratch-path "$scratch" >/dev/null
staging="$scratch/bundle"
rm -rf "$staging" && mkdir -p "$staging/lib" .device
cp "$scratch/release/vae" "$staging/vae"
strip "$staging/vae"
# Every library the loader resolves, but glibc's own (the machine has a glibc at least as new: the binary needs 2.35).
ldd "$staging/vae" | awk '/=> \// { print $3 }' | while read -r library; do
  case "$(basename "$library")" in
    libc.so.*|libm.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) ;;
    *) cp -L "$library" "$staging/lib/";;
  esac
done
# Every library resolves to the bundle or to glibc's own.
outside=$(LD_LIBRARY_PATH="$staging/lib" ldd "$staging/vae" | awk '/=>/ { print $1, $3 }' \
  | grep -v -E "^(libc\.so|libm\.so|ld-linux|libpthread\.so|libdl\.so|librt\.so)" | grep -v " $staging/lib/" || true)
if [ -n "$outside" ]; then
  echo "device_bundle: libraries not in the bundle: $outside" >&2; exit 1
fi
tar -C "$staging/.." -cJf .device/vae-bundle.tar.xz "$(basename "$staging")"
echo "device_bundle: .device/vae-bundle.tar.xz ($(du -h .device/vae-bundle.tar.xz | cut -f1)): vae and $(ls "$staging/lib" | wc -l) libraries ($(ls "$staging/lib" | tr '\n' ' '))"
mkdir -p .device/fashion-mnist
cp /usr/share/datasets/fashion-mnist/*-ubyte.gz .device/fashion-mnist/
echo "device_bundle: .device/fashion-mnist ($(du -sh .device/fashion-mnist | cut -f1))"
