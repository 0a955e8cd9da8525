#include "cli/progress.hpp"

#include "cli/format.hpp"

#include <unistd.h>

namespace berth::cli {
namespace {

std::string bar(uint64_t done, uint64_t total) {
  constexpr int width = 40;
  int filled = total ? static_cast<int>(width * std::min(done, total) / total) : 0;
  std::string b = "[";
  for (int i = 0; i < width; ++i) b += i < filled ? '=' : (i == filled ? '>' : ' ');
  return b + "]";
}

std::string size_text(uint64_t n) { return human_size(n); }

} // namespace

Progress::Progress(std::FILE *out, bool quiet)
    : out_(out), quiet_(quiet), tty_(::isatty(::fileno(out)) == 1), start_(std::chrono::steady_clock::now()) {}

void Progress::line(const std::string &text) {
  if (quiet_) return;
  std::lock_guard g(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void Progress::update(const std::string &id, const std::string &status, uint64_t done, uint64_t total) {
  if (quiet_) return;
  std::lock_guard g(mu_);
  Row *row = nullptr;
  for (auto &r : rows_)
    if (r.id == id) row = &r;
  if (!row) row = &rows_.emplace_back(Row{id, {}, 0, 0});
  bool changed = row->status != status;
  row->status = status;
  row->done = done;
  row->total = total;
  if (!tty_) {
    if (changed) {
      std::fprintf(out_, "%s: %s\n", id.c_str(), status.c_str());
      std::fflush(out_);
    }
    return;
  }
  draw(changed);
}

void Progress::finish() {
  if (quiet_ || !tty_) return;
  std::lock_guard g(mu_);
  draw(true);
}

void Progress::draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string s;
  if (drawn_ > 0) s += "\x1b[" + std::to_string(drawn_) + "A"; // back to the first row
  uint64_t done = 0, total = 0;
  for (auto &r : rows_) {
    s += "\r\x1b[2K" + r.id + ": " + r.status;
    if (r.total > 0 && r.done < r.total && r.done > 0)
      s += " " + bar(r.done, r.total) + " " + size_text(r.done) + "/" + size_text(r.total);
    s += "\n";
    done += r.done;
    total += r.total;
  }
  double secs = std::chrono::duration<double>(now - start_).count();
  s += "\r\x1b[2KTotal: " + size_text(done) + "/" + size_text(total);
  if (secs > 0.2) s += " (" + size_text(static_cast<uint64_t>(done / secs)) + "/s)";
  s += "\n";
  drawn_ = rows_.size() + 1;
  std::fputs(s.c_str(), out_);
  std::fflush(out_);
}

} // namespace berth::cli
