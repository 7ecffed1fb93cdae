#!/usr/bin/env bash
# Builds the DocC documentation of every library module (swift-docc-plugin) and fails on any warning: a broken
# symbol link, an undocumented parameter of a documented function, an article that does not resolve.
#
#   scripts/check_docs.sh [OUT]     # archives in OUT (default .build/docs), one NAME.doccarchive per module
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/docs}
rm -rf "$out"
mkdir -p "$out"
status=0
for target in VAETensor VAECUDA VAECUDAChecks VAENN VAEOptimizers VAEDistributions VAEData VAEFormats VAEModels VAEPictures VAETraining VAEServe VAEKit; do
  log="$out/$target.log"
  swift package --allow-writing-to-directory "$out" generate-documentation --target "$target" \
    --output-path "$out/$target.doccarchive" > "$log" 2>&1 || { echo "check_docs: $target failed, see $log" >&2; status=1; continue; }
  # Warnings about the dependencies' own files (SwiftPM's "found N file(s) which are unhandled") and pkg-config's
  # hint for a system library not installed yet (Open MPI, which CI installs after this check) are not ours.
  not_ours="file\\(s\\) which are unhandled|may be able to install .* using your system-packager"
  if grep "warning:" "$log" | grep -Eqv "$not_ours"; then
    grep -A4 "warning:" "$log" | grep -Ev "$not_ours" >&2
    echo "check_docs: $target has documentation warnings" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "check_docs: documentation of every module built without warnings ($out)"
exit "$status"
