// Upstream: mnemo-rest's one connection pool to mnemod (a mnemo::client::Client), created lazily
// so the sidecar can start, and keep answering 503, while mnemod is down.  Once a Client exists
// it is kept for the life of the Upstream: the client library re-establishes broken connections
// by itself when mnemod comes back.
//
// Thread-safety: thread-safe.  The Client* handed out stays valid until the Upstream is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "mnemo/client/client.h"

namespace mnemo::rest {

class Upstream {
 public:
  explicit Upstream(mnemo::client::ClientOptions options);

  // The connected client, connecting first if there is none yet.  UNAVAILABLE (or the
  // handshake's error) when mnemod cannot be reached; failed attempts are not repeated more
  // often than every kRetryInterval (callers in between get the last error at once).
  mnemo::client::Result<mnemo::client::Client*> Get();

  // The embedding dimension mnemod announced; 0 until the first successful connect.
  uint32_t dimension() const { return dimension_.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kRetryInterval{200};

 private:
  const mnemo::client::ClientOptions options_;
  std::mutex mu_;
  std::unique_ptr<mnemo::client::Client> client_;         // GUARDED_BY(mu_) until set
  std::atomic<mnemo::client::Client*> ready_{nullptr};    // client_.get() once connected
  std::chrono::steady_clock::time_point last_failure_{};  // GUARDED_BY(mu_)
  mnemo::client::Error last_error_;                       // GUARDED_BY(mu_)
  std::atomic<uint32_t> dimension_{0};
};

}  // namespace mnemo::rest
