// Runs fn(i) for i in [0, n) on up to jobs threads (0: one per CPU); stops
// handing out work after the first error and returns it.
#pragma once

#include "common/error.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace berth {

template <class F> Result<> parallel_for(size_t n, unsigned jobs, F &&fn) {
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = unsigned(std::min<size_t>(jobs, n));
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first;
  auto worker = [&] {
    for (size_t i; !failed && (i = next.fetch_add(1)) < n;) {
      Result<> r = fn(i);
      if (r) continue;
      std::lock_guard g(mu);
      if (!first) first = std::move(r).error();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  if (jobs > 0) worker();
  for (auto &t : threads) t.join();
  if (first) return fail(std::move(*first));
  return {};
}

} // namespace berth
