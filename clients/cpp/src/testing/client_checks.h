// Checks shared by the client's transport tests (pipelined and direct paths).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/client/client.h"
#include "testing/fake_server.h"

namespace mnemo::client::testing {

// Options for a client of `server`: one pool connection, 5 s requests, 2 s connects, direct
// calls as given.
inline ClientOptions FakeServerOptions(const FakeServer& server, bool direct_calls) {
  using namespace std::chrono_literals;
  ClientOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.pool_size = 1;
  options.request_timeout = 5s;
  options.connect_timeout = 2s;
  options.direct_calls = direct_calls;
  return options;
}

// Connects, failing the test (and returning nullptr) when it cannot.
inline std::unique_ptr<Client> MustConnect(const ClientOptions& options) {
  auto client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.error().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

// `threads` threads each make `calls` CountDocuments calls for user "u<n>" against a server that
// answers total = n; returns how many replies failed or belonged to another caller.
inline int WrongRepliesFromThreads(Client& client, int threads, int calls) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i) {
        const int n = t * 1000 + i;
        auto counts = client.CountDocuments("u" + std::to_string(n));
        if (!counts.ok() || counts->total != n) ++wrong;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  return wrong.load();
}

}  // namespace mnemo::client::testing
