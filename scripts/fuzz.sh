#!/usr/bin/env bash
# Fuzzes dask-viz's readers with cargo-fuzz (libFuzzer); see fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (default: from_json from_dot) for SECONDS (default 60), one after
# the other, each as a single libFuzzer process. Not part of the test suite.
#
# Environment:
#   CARGO_TARGET_DIR  build directory (default: fuzz/target, ignored by git)
#   FUZZ_WORK         where new corpus entries go (default: $CARGO_TARGET_DIR/fuzz-work);
#                     the committed corpus in fuzz/corpus/ is only read
#   FUZZ_ARGS         extra libFuzzer flags, e.g. FUZZ_ARGS="-seed=1 -max_len=8192"
#   FUZZ_MODE         "structured": run the structure-aware generator of
#                     viz/tests/structured_fuzz.rs instead (about 40 documents a
#                     second per target in a debug build, 5 seeds); also what runs when
#                     there is no nightly toolchain or cargo-fuzz cannot be installed
#
# Exits non-zero when a target crashed, panicked, timed out (> 10 s for one input) or
# went over 2 GB of memory; the input is saved under fuzz/artifacts/<target>/.
set -euo pipefail

seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -eq 0 ]]; then
    echo "usage: $0 [SECONDS] [TARGET...]   (SECONDS: a positive whole number)" >&2
    exit 2
fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(from_json from_dot)
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$fuzz_dir/target}"
work="${FUZZ_WORK:-$CARGO_TARGET_DIR/fuzz-work}"
logs="$CARGO_TARGET_DIR/fuzz-logs"

# The structure-aware generator: nested subgraphs, HTML labels, strings, comments
# (DOT) and damaged documents (JSON), SECONDS split over 5 seeds.
structured() {
    local cases=$(( seconds * 40 / 5 + 1 ))
    echo "== structured generator: 5 seeds x $cases documents per test (viz/tests/structured_fuzz.rs)"
    local seed
    for seed in 1 2 3 4 5; do
        DASK_VIZ_FUZZ_SEED=$seed DASK_VIZ_FUZZ_CASES=$cases \
            cargo test --manifest-path "$root/Cargo.toml" -p dask-viz --test structured_fuzz \
            -- --nocapture 2>&1 | grep -E 'outcomes|test result|panicked|minimal failing' || return 1
    done
}

if [[ "${FUZZ_MODE:-}" == structured ]]; then
    structured
    exit $?
fi
# cargo-fuzz needs a nightly toolchain (for -Zsanitizer).
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "no nightly toolchain (rustup toolchain install nightly); running the structured generator instead" >&2
    structured
    exit $?
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing; installing it (cargo install cargo-fuzz --locked)"
    if ! cargo install cargo-fuzz --locked; then
        echo "cannot install cargo-fuzz; running the structured generator instead" >&2
        structured
        exit $?
    fi
fi

cd "$fuzz_dir"
mkdir -p "$logs"

# -a: debug assertions and overflow checks, so arithmetic overflow is a crash too.
# One process per target (no -jobs/-workers: with them libFuzzer forks a child and
# writes its output to fuzz-N.log in the current directory).
for target in "${targets[@]}"; do
    cargo +nightly fuzz build -a "$target"
done

failed=()
for target in "${targets[@]}"; do
    case "$target" in
        from_json) dict=json.dict ;;
        from_dot) dict=dot.dict ;;
        *) dict="" ;;
    esac
    mkdir -p "$work/$target"
    log="$logs/$target.log"
    echo "== $target: ${seconds}s; new corpus entries in $work/$target; log in $log"
    flags=(-timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1)
    if [[ -n "$dict" ]]; then flags+=(-dict="$dict"); fi
    # shellcheck disable=SC2206 # FUZZ_ARGS is a list of flags on purpose.
    flags+=(${FUZZ_ARGS:-})
    status=0
    cargo +nightly fuzz run -a "$target" "$work/$target" "corpus/$target" -- "${flags[@]}" \
        >"$log" 2>&1 || status=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$log" || true
    if [[ $status -ne 0 ]]; then
        echo "!! $target failed (exit $status):"
        grep -m 5 -E -A 1 'panicked at|ERROR: libFuzzer|SUMMARY: ' "$log" || true
        grep -A 2 -E '^Failing input:' "$log" || tail -n 12 "$log"
        echo "!! full log: $log"
        echo "!! inputs saved under $fuzz_dir/artifacts/$target/; minimize one with:"
        echo "   (cd fuzz && cargo +nightly fuzz tmin -a -r 20000 $target artifacts/$target/<file>)"
        failed+=("$target")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "ok: ${targets[*]} ran ${seconds}s each without a crash"
