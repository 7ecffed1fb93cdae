#!/usr/bin/env bash
# Builds and runs every program in Examples/ on tiny data (CI runs this); each exits non-zero when its result is
# not what it should be (a fit that does not converge, a network that does not learn).
set -euo pipefail
cd "$(dirname "$0")/.."
for example in example-autodiff-regression example-custom-network example-latent-explorer; do
  echo "== $example"
  swift run -c release -Xswiftc -enable-testing "$example"   # the flags of the test build: no second build
done
