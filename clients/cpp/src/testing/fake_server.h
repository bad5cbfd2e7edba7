// FakeServer: an in-process stand-in for mnemod used by the client's unit tests.  It listens on
// 127.0.0.1 (an ephemeral port), speaks the framing, verifies every request and hands it to a
// test-supplied handler, which may answer at once, later (from any thread), or never.
//
// Plain POSIX sockets: one accept thread and one reader thread per connection; a peer's writes
// are serialized by its own mutex, so any thread may answer.
//
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::client::testing {

// One accepted connection.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}
  ~Peer();
  // Sends one framed payload; false when the connection is gone.
  bool Send(const std::string& payload);
  // Sends raw bytes (for malformed-framing tests).
  bool SendRaw(const std::string& bytes);
  // Shuts the socket down in both directions (the reader thread then exits).
  void Shutdown();
  int fd() const { return fd_; }

 private:
  const int fd_;
  std::mutex write_mu_;
};

class FakeServer {
 public:
  // Called for every verified request on the connection's reader thread, one call at a time
  // across the whole server.  `payload` holds the request's bytes (root: `request`).
  using Handler =
      std::function<void(const std::shared_ptr<Peer>& peer, const wire::Request& request)>;

  // Starts listening.  `handler` answers everything but Hello; `hello` (optional) replaces the
  // default handshake answer (a HelloReply with the settings below).
  explicit FakeServer(Handler handler, Handler hello = nullptr);
  ~FakeServer();

  uint16_t port() const { return port_; }
  // Defaults announced in the HelloReply; set before clients connect.
  std::atomic<uint32_t> max_in_flight{0};
  std::atomic<uint32_t> max_frame_bytes{64u << 20};

  int connections_accepted() const { return accepted_.load(); }
  int hellos() const { return hellos_.load(); }
  // Hello requests received, as (api_key, client_name, protocol_version).
  struct HelloSeen {
    std::string api_key;
    std::string client_name;
    uint32_t protocol_version = 0;
  };
  std::vector<HelloSeen> hellos_seen();
  // Shuts every open connection down (clients see a broken connection).
  void DropConnections();

 private:
  void AcceptLoop();
  void ReadLoop(std::shared_ptr<Peer> peer);

  Handler handler_;
  Handler hello_handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> hellos_{0};
  std::mutex mu_;          // guards peers_, threads_, hellos_seen_
  std::mutex handler_mu_;  // serializes handler calls
  std::vector<std::shared_ptr<Peer>> peers_;
  std::vector<std::thread> threads_;
  std::vector<HelloSeen> hellos_seen_;
  std::thread accept_thread_;
};

// ---- response builders ------------------------------------------------------------------------

std::string MakeHelloReply(uint64_t id, uint32_t max_in_flight, uint32_t max_frame_bytes,
                           uint32_t dimension = 8, const std::string& principal = "service");
std::string MakeErrorReply(uint64_t id, wire::StatusCode code, const std::string& message,
                           const std::string& field = "");
std::string MakeCountReply(uint64_t id, int64_t count);
std::string MakeDocumentCountsReply(uint64_t id, int64_t total, int64_t active, int64_t deleted);
std::string MakeDoneReply(uint64_t id);

}  // namespace mnemo::client::testing
