#!/usr/bin/env bash
# Installs what VAEKit needs on Debian/Ubuntu when it is missing: OpenBLAS, zlib, libpng, libjpeg, pkg-config and the
# Fashion-MNIST IDX files (Debian's dataset-fashion-mnist) and WordNet (wordnet-base: the text corpus). Safe to run
# again; does nothing when all is there.
#   scripts/setup.sh --mpi   also installs Open MPI (libopenmpi-dev, openmpi-bin) for `swift build --traits MPI`.
set -euo pipefail
packages=(libopenblas-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev pkg-config dataset-fashion-mnist wordnet-base)
for option in "$@"; do
  case "$option" in
    --mpi) packages+=(libopenmpi-dev openmpi-bin);;
    *) echo "setup: unknown option '$option' (expected --mpi)" >&2; exit 2;;
  esac
done
needed=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || needed+=("$package")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "setup: installing ${needed[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: Swift 6 is required (https://swift.org/install)" >&2; exit 1; }
