// Progress bars for long phases (on stderr) and the run's time budget.
//
// A Progress redraws one line ("ingest  [#####.....]  52%  52000/100000  31.2 s") at most 5 times
// a second on a terminal, and every 10% otherwise (so CI logs stay short).  A TimeBudget is the
// wall-clock allowance of the whole run; phases ask Expired() between units of work and stop
// early, recording that they did.
//
// Thread-safety: Progress::Advance may be called from several threads; TimeBudget is read-only
// after construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>

namespace mnemo::bench {

// Seconds on a monotonic clock.
double NowSeconds();

class Progress {
 public:
  Progress(std::string label, size_t total);
  ~Progress();  // finishes the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Advance(size_t units = 1);

 private:
  void Draw(size_t done, bool final_line);

  std::string label_;
  size_t total_;
  double start_;
  bool tty_;
  std::atomic<size_t> done_{0};
  std::mutex draw_mutex_;
  double last_draw_ = 0;    // guarded by draw_mutex_
  size_t last_decile_ = 0;  // guarded by draw_mutex_
};

class TimeBudget {
 public:
  explicit TimeBudget(double seconds) : deadline_(NowSeconds() + seconds) {}
  bool Expired() const { return NowSeconds() >= deadline_; }
  double Remaining() const { return deadline_ - NowSeconds(); }

 private:
  double deadline_;
};

}  // namespace mnemo::bench
