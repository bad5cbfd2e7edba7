// ClientOptions: where a Client connects and how it behaves.
//
// Thread-safety: a value type.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mnemo::client {

struct ClientOptions {
  // ---- behaviour ----
  // The server's address.  A host name is resolved on each (re)connect.
  std::string host = "127.0.0.1";
  uint16_t port = 7420;
  // Several nodes of a cluster ("host:port" or "[v6]:port" each); when not empty it replaces
  // host and port.  The client connects to the first that answers, and moves on to the next after
  // a node fails (cannot connect, connection lost, timeout).  Whichever node it reaches, a write
  // answered NOT_PRIMARY is sent once more to the primary that error names (see client.h).
  std::vector<std::string> addresses;
  // Follow NOT_PRIMARY to the primary it names (once per call).  false: return it to the caller.
  bool follow_primary = true;
  // The API key sent in the handshake.  Empty: no key, which the server accepts only in
  // protected mode (no keys created yet) on a loopback address, as a service principal.
  std::string api_key;
  // Reported to the server in the handshake (shows up in its logs).
  std::string client_name = "mnemo-cpp";

  // ---- performance and limits ----
  // TCP connections kept open; requests are spread over them and pipelined on each.  >= 1.
  int pool_size = 2;
  // Direct calls: the calling thread writes its request and reads its own response on one of up
  // to `pool_size` extra blocking connections (opened on first use), with no hand-off to the
  // client's I/O thread: 2 thread wake-ups per call instead of 4, i.e. lower latency for small
  // calls.  When all of them are busy, calls are pipelined over the pool as without it.  Costs
  // up to 2 x pool_size connections to the server.  false: every call goes through the pool.
  bool direct_calls = true;
  // How long one call waits for its response before failing with UNAVAILABLE.  The call is
  // abandoned, not cancelled on the server: a write that times out may still be applied.
  std::chrono::milliseconds request_timeout{30'000};
  // How long establishing one connection (resolve, TCP connect and handshake) may take.
  std::chrono::milliseconds connect_timeout{5'000};
  // The largest response frame accepted; a larger one breaks the connection.  Requests larger
  // than the server's announced limit fail locally with PAYLOAD_TOO_LARGE.
  uint32_t max_frame_bytes = 64u << 20;
};

}  // namespace mnemo::client
