// Progress of a pull or a push, one row per blob. On a terminal the rows
// are redrawn in place (a bar, bytes, and a total row with the speed), at
// most ten times a second; otherwise a plain line is printed whenever a
// row's status changes, as docker does when its output is a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace berth::cli {

class Progress {
 public:
  // quiet: print nothing.
  Progress(std::FILE *out, bool quiet);
  // A row's state (rows appear in the order of their first update). Thread-safe.
  void update(const std::string &id, const std::string &status, uint64_t done = 0, uint64_t total = 0);
  // A line above the rows ("latest: Pulling from library/busybox").
  void line(const std::string &text);
  // Draws the last state (call before printing anything else).
  void finish();

 private:
  struct Row {
    std::string id, status;
    uint64_t done = 0, total = 0;
  };
  void draw(bool force);
  std::FILE *out_;
  bool quiet_, tty_;
  std::mutex mu_;
  std::vector<Row> rows_;
  size_t drawn_ = 0; // rows on screen (tty)
  std::chrono::steady_clock::time_point start_, last_draw_;
};

} // namespace berth::cli
