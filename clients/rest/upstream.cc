// Lazy, rate-limited connection of the shared client.
#include "upstream.h"

#include <spdlog/spdlog.h>

namespace mnemo::rest {

namespace mc = mnemo::client;

Upstream::Upstream(mc::ClientOptions options) : options_(std::move(options)) {}

mc::Result<mc::Client*> Upstream::Get() {
  if (mc::Client* client = ready_.load(std::memory_order_acquire)) return client;
  std::lock_guard<std::mutex> lock(mu_);
  if (client_) return client_.get();
  const auto now = std::chrono::steady_clock::now();
  if (last_failure_ != std::chrono::steady_clock::time_point{} &&
      now - last_failure_ < kRetryInterval) {
    return last_error_;
  }
  auto connected = mc::Client::Connect(options_);
  if (!connected.ok()) {
    last_failure_ = std::chrono::steady_clock::now();
    last_error_ = connected.error();
    spdlog::warn("upstream {}:{} not reachable: {}", options_.host, options_.port,
                 last_error_.ToString());
    return last_error_;
  }
  client_ = std::move(connected.value());
  dimension_.store(client_->server_info().dimension, std::memory_order_relaxed);
  spdlog::info("connected to mnemod {} at {}:{} (dimension {}, principal {})",
               client_->server_info().server_version, options_.host, options_.port,
               client_->server_info().dimension, client_->server_info().principal);
  ready_.store(client_.get(), std::memory_order_release);
  return client_.get();
}

}  // namespace mnemo::rest
