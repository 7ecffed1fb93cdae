#!/usr/bin/env bash
# Fuzzes VAEKit's loaders with libFuzzer (swiftc -sanitize=fuzzer,address):
#   idx          IDXReader.decode        (Sources/VAEData/IDX.swift, with Gzip from Sources/VAEFormats)
#   safetensors  SafeTensors.decode      (Sources/VAEFormats/SafeTensors.swift)
#   config       ConfigLoader.parse      (Sources/VAETraining/Config, over Yams built from the package checkout)
#
#   fuzz/run.sh SECONDS [TARGET…]   fuzz each target for SECONDS (default 60) from its seed corpus
#   fuzz/run.sh 0 [TARGET…]         replay the seed corpora once (what CI runs; a few seconds)
#
# New inputs found go to fuzz/.work/corpus-TARGET (not committed); crashes to fuzz/.work/crash-*; the summary
# line per target gives executions, seconds and findings. Needs the package's dependencies checked out
# (`swift package resolve` or any `swift build`).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(idx safetensors config)
work=fuzz/.work
mkdir -p "$work"

yams=""
for candidate in .build/checkouts/Yams .build-*/checkouts/Yams; do
    [ -d "$candidate/Sources/Yams" ] && { yams=$candidate; break; }
done

build_yams() {
    [ -f "$work/yams/Yams.swiftmodule" ] && return
    [ -n "$yams" ] || { swift package resolve >/dev/null; yams=.build/checkouts/Yams; }
    mkdir -p "$work/yams"
    for file in "$yams"/Sources/CYaml/src/*.c; do
        clang -O1 -fPIC -c "$file" -I "$yams/Sources/CYaml/include" -o "$work/yams/$(basename "$file").o"
    done
    swiftc -O -parse-as-library -D SWIFT_PACKAGE -module-name Yams -emit-module -emit-module-path "$work/yams/Yams.swiftmodule" \
        -Xcc -I -Xcc "$yams/Sources/CYaml/include" -I "$yams/Sources/CYaml/include" \
        -wmo -c "$yams"/Sources/Yams/*.swift -o "$work/yams/Yams.o"
}

build() {
    local target=$1 binary="$work/fuzz-$1"
    local formats=(Sources/VAEFormats/*.swift)
    # IDX.swift imports VAEFormats, which is part of the same module here.
    sed '/^import VAEFormats$/d' Sources/VAEData/IDX.swift > "$work/IDX.swift"
    case $target in
        idx) swiftc -sanitize=fuzzer,address -parse-as-library -O -D FUZZ_IDX -I Sources/CZlib \
                 "${formats[@]}" "$work/IDX.swift" fuzz/Harness.swift -lz -o "$binary" ;;
        safetensors) swiftc -sanitize=fuzzer,address -parse-as-library -O -D FUZZ_SAFETENSORS -I Sources/CZlib \
                 "${formats[@]}" fuzz/Harness.swift -lz -o "$binary" ;;
        config) build_yams
            swiftc -sanitize=fuzzer,address -parse-as-library -O -D FUZZ_CONFIG -I "$work/yams" \
                -Xcc -I -Xcc "$yams/Sources/CYaml/include" -I "$yams/Sources/CYaml/include" \
                Sources/VAETraining/Config/*.swift fuzz/BundleShim.swift fuzz/Harness.swift \
                "$work/yams/Yams.o" "$work"/yams/*.c.o -o "$binary" ;;
        *) echo "unknown target '$target' (expected idx, safetensors or config)" >&2; exit 2 ;;
    esac
}

status=0
for target in "${targets[@]}"; do
    if ! { [ -x "$work/fuzz-$target" ] && [ "$work/fuzz-$target" -nt fuzz/Harness.swift ]; }; then
        # The linker warns about every ASan symbol; keep that out of sight unless the build fails.
        build "$target" > "$work/build-$target.log" 2>&1 || { tail -30 "$work/build-$target.log"; exit 1; }
    fi
    mkdir -p "$work/corpus-$target"
    log="$work/$target.log"
    if [ "$seconds" = 0 ]; then
        "$work/fuzz-$target" -runs=0 fuzz/corpus/"$target" > "$log" 2>&1 || status=1
    else
        "$work/fuzz-$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
            -artifact_prefix="$work/crash-$target-" -print_final_stats=1 \
            "$work/corpus-$target" fuzz/corpus/"$target" > "$log" 2>&1 || status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -z "$runs" ] && runs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    findings=$( (ls "$work"/crash-"$target"-* 2>/dev/null || true) | wc -l)
    echo "fuzz $target: ${runs:-?} executions in ${seconds}s, $findings crash files, exit $([ $status = 0 ] && echo ok || echo FAILED) (log $log)"
done
exit $status
