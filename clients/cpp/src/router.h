// Router: the client's way to the right node.  It holds one Transport (connection pool) to the
// node in use and replaces it when that node turns out to be the wrong one:
//
//   - NOT_PRIMARY carrying a primary's address: the request was not applied (a follower or a
//     fenced primary refuses a write before running it), so the router opens a Transport to that
//     address and sends the same request there once.  Writes included: the error proves the first
//     attempt changed nothing.  A second NOT_PRIMARY is returned to the caller.
//   - A transport failure (cannot connect, connection lost, timeout) with several addresses
//     configured: the router drops the Transport and connects to the next address.  The request
//     is sent there once more when that is safe: a read (Retry::kIfBroken) always, a write only
//     when the failure proves it never left the client (the node could not be connected to).  A
//     write that may have reached the failed node returns the failure: it may have been applied.
//
// With one address and no NOT_PRIMARY the router only forwards to its Transport.
//
// Request ids come from the router, one sequence for every Transport it opens, so an id is never
// reused while its response may still arrive.
//
// Thread-safety: Call(), NextRequestId() and server_info() may be called from any thread.  A
// call keeps the Transport it uses alive (shared ownership) even when another call replaces it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mnemo/client/error.h"
#include "mnemo/client/options.h"
#include "mnemo/client/types.h"
#include "transport.h"

namespace mnemo::client::internal {

class Router {
 public:
  // Connects to the first reachable node of options.addresses (or options.host:port).
  // Errors: VALIDATION_ERROR for an address that is not host:port or other bad options;
  // otherwise the last node's failure.
  static Result<std::unique_ptr<Router>> Open(const ClientOptions& options);

  uint64_t NextRequestId() { return next_id_.fetch_add(1, std::memory_order_relaxed); }

  // Transport::Call on the node in use, with the redirects and failovers above.  Returns the
  // response payload (verified), which may carry the server's error.
  Result<std::string> Call(uint64_t request_id, std::string payload, Transport::Retry retry);

  // The handshake reply of the node in use, or of the last one (a copy: the node may change).
  ServerInfo server_info() const;
  // "host:port" of the node in use; empty between a failure and the next connection.
  std::string current_address() const;

 private:
  struct Node {
    std::string host;
    uint16_t port = 0;
    std::string Name() const;
  };
  explicit Router(ClientOptions options, std::vector<Node> nodes)
      : options_(std::move(options)), nodes_(std::move(nodes)) {}

  // The Transport in use, connecting (to the configured nodes in turn) when there is none.
  Result<std::shared_ptr<Transport>> Current();
  // Replaces `failed` (if still in use) by a Transport to `node`.
  Result<std::shared_ptr<Transport>> SwitchTo(const Node& node,
                                              const std::shared_ptr<Transport>& failed);
  // Forgets `failed` (if still in use), so the next call connects to the next configured node.
  void Drop(const std::shared_ptr<Transport>& failed);
  Result<std::unique_ptr<Transport>> OpenNode(const Node& node) const;

  const ClientOptions options_;
  const std::vector<Node> nodes_;  // the configured nodes, >= 1
  std::atomic<uint64_t> next_id_{1};

  mutable std::mutex mu_;
  std::shared_ptr<Transport> current_;  // GUARDED_BY(mu_); null: none
  Node current_node_;                   // GUARDED_BY(mu_)
  ServerInfo info_;                     // GUARDED_BY(mu_): the last node's handshake reply
  size_t next_node_ = 0;                // GUARDED_BY(mu_): where the next connect starts
  std::mutex connect_mu_;               // one connect at a time; taken before mu_
};

// Parses "host:port" or "[v6]:port".  VALIDATION_ERROR (field "addresses") otherwise.
Result<std::pair<std::string, uint16_t>> ParseNodeAddress(const std::string& text);

}  // namespace mnemo::client::internal
