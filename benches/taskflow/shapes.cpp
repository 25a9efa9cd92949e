// Taskflow on the graph shapes of `examples/workloads/shapes.rs`, timed phase by phase
// the way `examples/bench_scheduler.rs --spread` times ours, so that the two run side by
// side on one machine (`scripts/bench-vs-taskflow.sh`) instead of against figures taken
// elsewhere.
//
// Each round builds the graph (a `tf::Taskflow`, every dependency a `precede`), runs it,
// runs it again and destroys it, timing the four phases; the table gives each phase's
// fastest, first-quartile and median round in ns per task.
//
// Payloads:
// - `empty`: tasks that do nothing, as `../shared/anchors/` measured Taskflow.
// - `u64`: the same counts our `u64` payload passes, kept in one array with a slot per
//   task (allocated by the build, freed by the teardown): how a Taskflow program passes
//   data, since its tasks return nothing. The final count is checked against the
//   shape's known value, as ours is.
//
//   taskflow_shapes [--threads T] [--n N] [--runs R] [--payload empty|u64] [--shape fan|chain|tree|wave|indep]

#include <taskflow/taskflow.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Built {
  std::unique_ptr<tf::Taskflow> flow;
  // One slot per task (u64 payload only): the values the tasks pass.
  std::unique_ptr<std::vector<uint64_t>> values;
  // The slot of the graph's output.
  size_t output = 0;
};

size_t tree_leaves(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p / 2;
}

size_t side_of(size_t n) { return static_cast<size_t>(std::sqrt(static_cast<double>(n))); }

struct Shape {
  const char* id;
  const char* name;
  size_t (*tasks)(size_t);
  uint64_t (*expected)(size_t);
};

// Builds `shape` for `n`. With `Data`, each task reads its inputs' slots and writes its own.
template <bool Data>
Built build(const std::string& shape, size_t n, size_t tasks) {
  Built b;
  b.flow = std::make_unique<tf::Taskflow>();
  tf::Taskflow& flow = *b.flow;
  uint64_t* v = nullptr;
  if constexpr (Data) {
    // One spare: independent tasks keep the fan-out's slots, root's unused.
    b.values = std::make_unique<std::vector<uint64_t>>(tasks + 1);
    v = b.values->data();
  }
  // A task running `body` when passing data, an empty one otherwise.
  auto task = [&flow](auto&& body) {
    if constexpr (Data) {
      return flow.emplace(std::forward<decltype(body)>(body));
    } else {
      return flow.emplace([] {});
    }
  };
  if (shape == "fan" || shape == "indep") {
    const bool fan = shape == "fan";
    // Slots: the parts at 0..n, the root (fan-out only) at n, the join at n + 1.
    tf::Task root;
    if (fan) root = task([v, n] { v[n] = 1; });
    tf::Task join = task([v, n] {
      uint64_t sum = 0;
      for (size_t i = 0; i < n; ++i) sum += v[i];
      v[n + 1] = sum;
    });
    for (size_t i = 0; i < n; ++i) {
      tf::Task part = fan ? task([v, n, i] { v[i] = v[n]; }) : task([v, i] { v[i] = 1; });
      if (fan) root.precede(part);
      part.precede(join);
    }
    b.output = n + 1;
  } else if (shape == "chain") {
    tf::Task last = task([v] { v[0] = 1; });
    for (size_t i = 1; i < n; ++i) {
      tf::Task link = task([v, i] { v[i] = v[i - 1] + 1; });
      last.precede(link);
      last = link;
    }
    b.output = n - 1;
  } else if (shape == "tree") {
    std::vector<std::pair<tf::Task, size_t>> level;
    const size_t leaves = tree_leaves(n);
    level.reserve(leaves);
    size_t slot = 0;
    for (size_t i = 0; i < leaves; ++i, ++slot) {
      level.emplace_back(task([v, slot] { v[slot] = 1; }), slot);
    }
    while (level.size() > 1) {
      std::vector<std::pair<tf::Task, size_t>> next;
      next.reserve(level.size() / 2);
      for (size_t i = 0; i + 1 < level.size(); i += 2, ++slot) {
        const size_t l = level[i].second, r = level[i + 1].second;
        tf::Task pair = task([v, l, r, slot] { v[slot] = v[l] + v[r]; });
        level[i].first.precede(pair);
        level[i + 1].first.precede(pair);
        next.emplace_back(pair, slot);
      }
      level = std::move(next);
    }
    b.output = level[0].second;
  } else if (shape == "wave") {
    const size_t side = side_of(n);
    std::vector<tf::Task> above(side), row(side);
    for (size_t i = 0; i < side; ++i) {
      for (size_t j = 0; j < side; ++j) {
        const size_t at = i * side + j;
        tf::Task cell;
        if (i == 0 && j == 0) {
          cell = task([v] { v[0] = 1; });
        } else if (i == 0) {
          cell = task([v, at] { v[at] = v[at - 1] + 1; });
          row[j - 1].precede(cell);
        } else if (j == 0) {
          cell = task([v, at, side] { v[at] = v[at - side] + 1; });
          above[0].precede(cell);
        } else {
          cell = task([v, at, side] { v[at] = std::max(v[at - 1], v[at - side]) + 1; });
          row[j - 1].precede(cell);
          above[j].precede(cell);
        }
        row[j] = cell;
      }
      std::swap(above, row);
    }
    b.output = side * side - 1;
  } else {
    std::fprintf(stderr, "unknown shape %s (fan, chain, tree, wave, indep)\n", shape.c_str());
    std::exit(2);
  }
  return b;
}

const Shape SHAPES[] = {
    {"fan", "fan-out + join", [](size_t n) { return n + 2; }, [](size_t n) { return uint64_t(n); }},
    {"chain", "chain", [](size_t n) { return n; }, [](size_t n) { return uint64_t(n); }},
    {"tree", "binary tree", [](size_t n) { return 2 * tree_leaves(n) - 1; },
     [](size_t n) { return uint64_t(tree_leaves(n)); }},
    {"wave", "wavefront", [](size_t n) { return side_of(n) * side_of(n); },
     [](size_t n) { return uint64_t(2 * side_of(n) - 1); }},
    {"indep", "independent + join", [](size_t n) { return n + 1; },
     [](size_t n) { return uint64_t(n); }},
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The phases of one round, in seconds: build, run, run again, teardown.
template <bool Data>
std::array<double, 4> round(tf::Executor& executor, const Shape& shape, size_t n) {
  const size_t tasks = shape.tasks(n);
  auto t = Clock::now();
  Built b = build<Data>(shape.id, n, tasks);
  const double built = seconds_since(t);
  t = Clock::now();
  executor.run(*b.flow).wait();
  const double ran = seconds_since(t);
  if constexpr (Data) {
    if ((*b.values)[b.output] != shape.expected(n)) {
      std::fprintf(stderr, "%s: computed %llu, expected %llu\n", shape.name,
                   static_cast<unsigned long long>((*b.values)[b.output]),
                   static_cast<unsigned long long>(shape.expected(n)));
      std::exit(1);
    }
  }
  t = Clock::now();
  executor.run(*b.flow).wait();
  const double again = seconds_since(t);
  t = Clock::now();
  b.flow.reset();
  b.values.reset();
  const double dropped = seconds_since(t);
  return {built, ran, again, dropped};
}

const char* option(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return argv[i + 1];
  }
  return nullptr;
}

size_t number(int argc, char** argv, const char* name, size_t otherwise) {
  const char* text = option(argc, argv, name);
  if (!text) return otherwise;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*end != '\0' || value == 0) {
    std::fprintf(stderr, "%s takes a positive number, not %s\n", name, text);
    std::exit(2);
  }
  return static_cast<size_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t threads = number(argc, argv, "--threads", 2);
  const size_t n = number(argc, argv, "--n", 1000000);
  const size_t runs = number(argc, argv, "--runs", 15);
  const std::string payload = option(argc, argv, "--payload") ? option(argc, argv, "--payload") : "u64";
  const char* only = option(argc, argv, "--shape");
  if (payload != "empty" && payload != "u64") {
    std::fprintf(stderr, "--payload takes empty or u64, not %s\n", payload.c_str());
    return 2;
  }
  tf::Executor executor(threads);
  std::printf(
      "Taskflow graph phases, N = %zu, %zu threads, %zu runs: min / first quartile / median "
      "(ns per task)\n",
      n, threads, runs);
  std::printf("| shape | payload | tasks | build | run | run again | drop |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Shape& shape : SHAPES) {
    if (only && std::string(only) != shape.id) continue;
    // Warm up: the first round faults memory in and wakes the workers.
    round<true>(executor, shape, n);
    std::array<std::vector<double>, 4> phases;
    for (size_t r = 0; r < runs; ++r) {
      const auto times = payload == "u64" ? round<true>(executor, shape, n)
                                          : round<false>(executor, shape, n);
      for (size_t p = 0; p < 4; ++p) phases[p].push_back(times[p] * 1e9 / shape.tasks(n));
    }
    std::printf("| %s | %s | %zu |", shape.name, payload.c_str(), shape.tasks(n));
    for (auto& phase : phases) {
      std::sort(phase.begin(), phase.end());
      std::printf(" %.1f / %.1f / %.1f |", phase[0], phase[phase.size() / 4],
                  phase[phase.size() / 2]);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
