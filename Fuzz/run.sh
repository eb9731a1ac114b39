#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift) with the fuzzer and address sanitizer,
# then fuzzes each for FUZZ_SECONDS. Inputs that crash, leak, time out or break a target's
# invariants are saved in FUZZ_CRASHES as <target>-crash-<sha1> (or leak-, timeout-, oom-);
# the run fails if there is any. See docs/fuzzing.md.
#
#   Fuzz/run.sh                  # every target, FUZZ_SECONDS (default 300) each
#   Fuzz/run.sh envelope         # one target
#   FUZZ_SECONDS=20 Fuzz/run.sh  # what `make fuzz-ci` runs
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
swift="${SWIFT:-swift}"
seconds="${FUZZ_SECONDS:-300}"
crashes="${FUZZ_CRASHES:-$root/.build-fuzz/crashes}"
scratch="${FUZZ_SCRATCH:-$root/.build-fuzz}"
if [ $# -gt 0 ]; then targets=("$@"); else targets=(envelope kubeconfig watch-events agent-plan); fi

# target name -> executable product
product() {
    case "$1" in
    envelope) echo FuzzEnvelope ;;
    kubeconfig) echo FuzzKubeconfig ;;
    watch-events) echo FuzzWatchEvents ;;
    agent-plan) echo FuzzAgentPlan ;;
    *) echo "unknown fuzz target $1 (envelope, kubeconfig, watch-events, agent-plan)" >&2; exit 1 ;;
    esac
}

flags=(--package-path Fuzz --scratch-path "$scratch" -c debug -Xswiftc -sanitize=fuzzer,address)
started=$(date +%s)
echo "fuzz: building the targets with -sanitize=fuzzer,address in $scratch"
# gold warns about every ASan helper symbol it cannot export; they are harmless.
set +e
"$swift" build "${flags[@]}" 2>&1 | grep -v "Cannot export local symbol"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then echo "fuzz: the build failed" >&2; exit "$status"; fi
bin="$scratch/debug"
echo "fuzz: built in $(($(date +%s) - started)) s"

mkdir -p "$crashes"
# Swift's own crash reporter would otherwise wait for a debugger-like unwind of the dying
# process; libFuzzer and ASan print the report and save the input.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
failed=()
for target in "${targets[@]}"; do
    exe="$bin/$(product "$target")"
    corpus="$scratch/corpus/$target" # grows between runs; the committed seeds stay as they are
    mkdir -p "$corpus"
    dict=()
    [ -f "Fuzz/Dictionaries/$target.dict" ] && dict=("-dict=Fuzz/Dictionaries/$target.dict")
    echo "fuzz: $target for $seconds s (corpus $corpus + Fuzz/Corpus/$target)"
    log="$scratch/$target.log"
    if "$exe" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes/$target-" \
        "$corpus" "Fuzz/Corpus/$target" >"$log" 2>&1; then
        grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::new_units_added)" "$log" | sed "s/^/fuzz: $target: /"
    else
        failed+=("$target")
        echo "fuzz: $target FAILED; the end of its log ($log):" >&2
        grep -v "^#[0-9]" "$log" | tail -40 >&2
    fi
done

echo "fuzz: done in $(($(date +%s) - started)) s"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzz: findings in ${failed[*]}; the inputs are in $crashes (reproduce: docs/fuzzing.md)" >&2
    ls -l "$crashes" >&2
    exit 1
fi
