#!/usr/bin/env bash
# Taskflow and this scheduler side by side, on this machine, in one run (issue #17):
# `benches/taskflow/shapes.cpp` builds, runs, runs again and destroys Taskflow graphs of
# the shapes `examples/bench_scheduler.rs --spread` times for ours, both passing `u64`
# counts from task to task (Taskflow's through an array with a slot per task). The two
# programs run alternately, round after round, so that drifts of a noisy host fall on
# both; the table gives, per phase, the median over rounds of each round's fastest of 15,
# and ours ÷ Taskflow's.
#
#   scripts/bench-vs-taskflow.sh               # 3 rounds, 2 threads then 1 (about 8 minutes)
#   ROUNDS=5 THREADS="2" scripts/bench-vs-taskflow.sh
#   scripts/bench-vs-taskflow.sh --smoke       # N = 10,000, one round: checks the harness
#
# Taskflow (header-only, pinned to TASKFLOW_TAG, default v4.1.0) is cloned into
# target/taskflow-<tag> unless TASKFLOW_DIR names a checkout. Without a C++20 compiler or
# network access a plain run prints a notice and stops; under CI=true it fails.
# Outputs: target/bench-vs-taskflow/{taskflow,ours}-<threads>-<round>.md and table.md.
set -euo pipefail
cd "$(dirname "$0")/.."

n=1000000
runs=15
rounds=${ROUNDS:-3}
threads_list=${THREADS:-"2 1"}
for arg in "$@"; do
  case "$arg" in
    --smoke) n=10000; rounds=1; threads_list=2 ;;
    *) echo "usage: $0 [--smoke]" >&2; exit 2 ;;
  esac
done

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "bench-vs-taskflow: $1" >&2
    exit 1
  fi
  echo "bench-vs-taskflow: $1; skipping the comparison with Taskflow" >&2
  exit 0
}

tag=${TASKFLOW_TAG:-v4.1.0}
taskflow=${TASKFLOW_DIR:-target/taskflow-$tag}
out=target/bench-vs-taskflow
mkdir -p "$out"
cxx=${CXX:-g++}
command -v "$cxx" >/dev/null 2>&1 || skip_or_fail "no C++ compiler ($cxx; Debian: apt-get install g++)"
if [ ! -f "$taskflow/taskflow/taskflow.hpp" ]; then
  command -v git >/dev/null 2>&1 || skip_or_fail "git is not installed"
  rm -rf "$taskflow"
  git clone --quiet --depth 1 --branch "$tag" https://github.com/taskflow/taskflow "$taskflow" \
    || { rm -rf "$taskflow"; skip_or_fail "could not clone Taskflow $tag (no network?)"; }
fi
"$cxx" -O2 -DNDEBUG -std=c++20 -pthread -I"$taskflow" benches/taskflow/shapes.cpp \
  -o "$out/taskflow_shapes" || skip_or_fail "$cxx could not build benches/taskflow/shapes.cpp"
cargo build --quiet --release --example bench_scheduler
ours=target/release/examples/bench_scheduler

echo "bench-vs-taskflow: Taskflow $tag, N = $n, $rounds rounds of $runs runs," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
for threads in $threads_list; do
  for round in $(seq "$rounds"); do
    "$out/taskflow_shapes" --threads "$threads" --n "$n" --runs "$runs" --payload u64 \
      > "$out/taskflow-$threads-$round.md"
    "$ours" --spread --payload u64 --threads "$threads" --n "$n" \
      > "$out/ours-$threads-$round.md"
  done
done

# Each table row: | shape | payload | tasks | min / q1 / median | ... (build, run, run
# again, drop). The fastest of each round is kept; the median over rounds is reported.
{
  echo "Taskflow $tag and ours, u64 payloads, N = $n, ns per task: median over $rounds rounds"
  echo "of each round's fastest of $runs (ours ÷ Taskflow in brackets)"
  echo
  echo "| threads | shape | build | run | run again | drop | one-shot (build + run + drop) |"
  echo "|---|---|---|---|---|---|---|"
  for threads in $threads_list; do
    for file in "$out"/taskflow-"$threads"-*.md; do echo "taskflow $file"; cat "$file"; done
    for file in "$out"/ours-"$threads"-*.md; do echo "ours $file"; cat "$file"; done
  done | awk -v list="$threads_list" '
    /^taskflow / { side = "tf"; split($2, p, "-"); threads = p[length(p) - 1]; next }
    /^ours / { side = "ours"; split($2, p, "-"); threads = p[length(p) - 1]; next }
    /^\| / && $0 !~ /^\| shape/ && $0 !~ /^\|---/ {
      split($0, cell, "|")
      shape = cell[2]; gsub(/^ +| +$/, "", shape)
      for (phase = 1; phase <= 4; phase++) {
        split(cell[4 + phase], spread, "/")
        key = side SUBSEP threads SUBSEP shape SUBSEP phase
        count[key]++
        value[key, count[key]] = spread[1] + 0
      }
      if (!((threads, shape) in seen)) { seen[threads, shape] = 1; order[threads, ++shapes[threads]] = shape }
    }
    function median(key,    k, i, j, t, a) {
      k = count[key]
      if (k == 0) return -1
      for (i = 1; i <= k; i++) a[i] = value[key, i]
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
    }
    function cell_of(o, t) {
      if (o < 0 || t <= 0) return "n/a"
      return sprintf("%.1f vs %.1f (%.2f)", o, t, o / t)
    }
    END {
      n = split(list, ts, " ")
      for (x = 1; x <= n; x++) {
        threads = ts[x]
        for (s = 1; s <= shapes[threads]; s++) {
          shape = order[threads, s]
          line = "| " threads " | " shape
          ot = 0; tt = 0
          for (phase = 1; phase <= 4; phase++) {
            o = median("ours" SUBSEP threads SUBSEP shape SUBSEP phase)
            t = median("tf" SUBSEP threads SUBSEP shape SUBSEP phase)
            line = line " | " cell_of(o, t)
            if (phase != 3) { ot += o; tt += t }
          }
          print line " | " cell_of(ot, tt) " |"
        }
      }
    }'
} > "$out/table.md"
cat "$out/table.md"
