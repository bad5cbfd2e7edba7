// Progress bars on stderr and the run's clock (see progress.h).
#include "progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace mnemo::bench {
namespace {
constexpr size_t kBarWidth = 30;
constexpr double kRedrawSeconds = 0.2;
}  // namespace

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total == 0 ? 1 : total),
      start_(NowSeconds()),
      tty_(::isatty(STDERR_FILENO) != 0) {
  if (!tty_) std::fprintf(stderr, "%s: started (%zu)\n", label_.c_str(), total);
}

Progress::~Progress() { Draw(done_.load(), true); }

void Progress::Advance(size_t units) {
  const size_t done = done_.fetch_add(units) + units;
  const double now = NowSeconds();
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (tty_) {
    if (now - last_draw_ < kRedrawSeconds) return;
    last_draw_ = now;
    Draw(done, false);
    return;
  }
  const size_t decile = done * 10 / total_;
  if (decile > last_decile_ && decile < 10) {
    last_decile_ = decile;
    Draw(done, false);
  }
}

void Progress::Draw(size_t done, bool final_line) {
  const size_t shown = done > total_ ? total_ : done;
  const size_t filled = shown * kBarWidth / total_;
  std::string bar(filled, '#');
  bar.append(kBarWidth - filled, '.');
  const double elapsed = NowSeconds() - start_;
  std::fprintf(stderr, "%s%-28s [%s] %3zu%%  %zu/%zu  %.1f s%s", tty_ ? "\r" : "", label_.c_str(),
               bar.c_str(), shown * 100 / total_, done, total_, elapsed,
               (final_line || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace mnemo::bench
