// Session: one client connection.  It reads length-prefixed frames, verifies each payload,
// answers the Hello itself, runs bounded reads (and, while an inline slot is free, searches and
// single-row writes) on the I/O thread, and hands everything else to the worker pool; replies come
// back to the I/O thread that owns the connection.  Replies are written at once with a
// non-blocking write (the replies to the requests of one read together), and only what the socket
// does not take then waits for an asynchronous write, with one write in flight.  A session knows
// framing, limits and timeouts — not the engine.
//
// Lifetime: owned by the shared_ptrs its pending operations hold (STYLE §4); it ends when its
// last handler returns.  Backpressure: reading pauses while `max_in_flight` requests are
// unanswered or `max_queued_bytes` of replies are unsent, and resumes as they drain.  A client
// that sends nothing (with nothing in flight) or stops reading its replies for `idle_timeout` is
// disconnected.  Fatal framing errors get one Response with id 0, then a clean close.
//
// Thread-safety: Start/BeginShutdown/ForceClose may be called from any thread; everything else
// runs on the I/O thread that owns the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mnemo/status.h"
#include "server/auth/key_store.h"
#include "server/auth/principal.h"
#include "server/dispatcher.h"
#include "server/hello.h"
#include "server/inline_slots.h"
#include "server/session_registry.h"
#include "server/stats.h"
#include "server/worker_pool.h"

namespace mnemo::server {

struct SessionLimits {
  uint32_t max_frame_bytes = 0;
  uint32_t max_in_flight = 64;
  size_t max_queued_bytes = size_t{16} << 20;
  std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(300);
  // After the last reply of a closing session: how long to wait for the client's EOF.
  std::chrono::steady_clock::duration linger = std::chrono::seconds(1);
  // false: writes never run on an I/O thread (under semi-sync their answer waits for a replica,
  // whose FollowRequest may arrive on that very thread).
  bool inline_writes = true;
};

// What every session borrows from the server; all of it outlives the sessions.
struct SessionServices {
  KeyStore& keys;
  Dispatcher& dispatcher;
  WorkerPool& workers;
  InlineSlots& inline_slots;  // heavy requests an I/O thread may run itself (see op_table.h)
  ServerStats& stats;
  SessionRegistry& registry;
  HelloSettings hello;
  SessionLimits limits;
  // Replicas' FollowRequests run here when set (cluster mode): a primary whose workers all wait
  // for acknowledgements (semi-sync) must still serve the requests that carry them.
  WorkerPool* follow_workers = nullptr;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `socket`'s executor is the io_context of one I/O thread, which runs every handler of the
  // session (listener.h).
  Session(boost::asio::ip::tcp::socket socket, const SessionServices& services);
  ~Session();

  // Registers the session and starts reading.  With a non-OK `reject`, sends it as the id-0
  // error response and closes instead (e.g. too many connections).
  void Start(Status reject = Status::Ok());
  // Stops taking requests; closes once in-flight requests are answered and written.
  void BeginShutdown();
  // Closes the socket now.
  void ForceClose();

 private:
  void MaybeRead();
  bool WantRead() const;
  void OnRead(boost::system::error_code ec, size_t bytes);
  void ProcessFrames();
  void HandleFrame(std::string payload);
  void Submit(std::string payload, const Principal& principal, uint64_t request_id,
              uint8_t body_type);
  void OnReply(std::string response);
  void Send(const std::string& payload);
  void SendFatal(const Status& status);
  void Flush();
  void DoWrite();
  void OnWrite(boost::system::error_code ec, size_t bytes);
  void FinishAndClose();
  void MaybeFinish();
  void Close(const char* why);
  void ArmTimer(std::chrono::steady_clock::time_point deadline);
  void OnTimer(uint64_t generation);
  void Touch();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  const SessionServices& services_;
  std::string peer_;
  uint64_t registry_id_ = 0;

  // Input: bytes read are inbuf_[0, inbuf_len_); frames start at inbuf_pos_.  Bytes past
  // inbuf_len_ are room for the next read (inbuf_ only grows while in use, so a read does not
  // clear the room it reads into).
  std::string inbuf_;
  size_t inbuf_len_ = 0;
  size_t inbuf_pos_ = 0;
  bool reading_ = false;
  bool peer_closed_ = false;  // EOF seen

  // Output: framed replies waiting, and the batch being written.
  std::deque<std::string> outq_;
  size_t outq_front_written_ = 0;  // bytes of outq_.front() a non-blocking write already sent
  std::vector<std::string> writing_batch_;
  std::vector<boost::asio::const_buffer> gather_;  // reused for each write
  size_t out_bytes_ = 0;                           // queued + being written
  bool writing_ = false;                           // an asynchronous write is in flight
  bool batching_ = false;  // replies wait in outq_ until the frames of one read are handled

  uint32_t in_flight_ = 0;              // requests at the workers
  std::optional<Principal> principal_;  // set by a successful Hello
  uint64_t keys_generation_ = 0;        // KeyStore::generation() principal_ was last checked at
  bool closing_ = false;                // no more requests; close when answered and flushed
  bool draining_ = false;               // send side shut; waiting (bounded) for the client's EOF
  bool closed_ = false;

  std::chrono::steady_clock::time_point deadline_;
  uint64_t timer_generation_ = 0;
};

}  // namespace mnemo::server
