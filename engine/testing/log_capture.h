// LogCapture: collects what spdlog's default logger writes while a capture lives, without ever
// replacing the logger under threads that log.
//
// spdlog's default logger is read without a lock on every log call, so swapping it while an
// engine's background threads run is a data race.  Instead, the default logger is replaced once,
// by InstallLogDistributor() before any thread starts (call it from a namespace-scope initializer
// of the test file), with one that writes through a distributing sink; captures join and leave
// that sink under its lock.
#pragma once

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

namespace mnemo::testing {

// The default logger's distributing sink, installed on first call (which must come before any
// other thread logs); the previous logger's sinks keep receiving everything.
inline std::shared_ptr<spdlog::sinks::dist_sink_mt> InstallLogDistributor() {
  static const std::shared_ptr<spdlog::sinks::dist_sink_mt> distributor = [] {
    auto previous = spdlog::default_logger();
    auto dist = std::make_shared<spdlog::sinks::dist_sink_mt>(previous->sinks());
    auto logger = std::make_shared<spdlog::logger>(previous->name(), dist);
    logger->set_level(previous->level());
    spdlog::set_default_logger(logger);
    return dist;
  }();
  return distributor;
}

class LogCapture {
 public:
  // REQUIRES: InstallLogDistributor() ran before any other thread logged.
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    InstallLogDistributor()->add_sink(sink_);
  }
  ~LogCapture() { Stop(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Stops capturing (nothing is written to the capture afterwards) and returns what was logged.
  std::string Stop() {
    if (sink_) {
      InstallLogDistributor()->remove_sink(sink_);
      sink_.reset();
    }
    return text_.str();
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

}  // namespace mnemo::testing
