#include "router.h"

#include <utility>

#include "codec.h"

namespace mnemo::client::internal {

Result<std::pair<std::string, uint16_t>> ParseNodeAddress(const std::string& text) {
  const auto bad = [&text] {
    return Error{Code::kValidationError,
                 "address \"" + text + "\" is not host:port (port 1..65535)", "addresses"};
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  if (host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  const unsigned long value = std::stoul(port);
  if (value < 1 || value > 65535) return bad();
  return std::pair<std::string, uint16_t>(std::move(host), static_cast<uint16_t>(value));
}

std::string Router::Node::Name() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<std::unique_ptr<Router>> Router::Open(const ClientOptions& options) {
  std::vector<Node> nodes;
  for (const std::string& address : options.addresses) {
    auto parsed = ParseNodeAddress(address);
    if (!parsed.ok()) return parsed.error();
    nodes.push_back(Node{parsed->first, parsed->second});
  }
  if (nodes.empty()) nodes.push_back(Node{options.host, options.port});
  std::unique_ptr<Router> router(new Router(options, std::move(nodes)));
  auto first = router->Current();
  if (!first.ok()) return first.error();
  return router;
}

Result<std::unique_ptr<Transport>> Router::OpenNode(const Node& node) const {
  ClientOptions options = options_;
  options.host = node.host;
  options.port = node.port;
  options.addresses.clear();
  return Transport::Open(options);
}

Result<std::shared_ptr<Transport>> Router::Current() {
  {
    std::lock_guard lock(mu_);
    if (current_) return current_;
  }
  std::lock_guard connecting(connect_mu_);
  size_t start = 0;
  {
    std::lock_guard lock(mu_);
    if (current_) return current_;  // another caller connected meanwhile
    start = next_node_;
  }
  std::optional<Error> last_error;
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const size_t index = (start + k) % nodes_.size();
    auto opened = OpenNode(nodes_[index]);
    if (!opened.ok()) {
      // Wrong key, bad options: the same everywhere, so not a reason to try the next node.
      if (opened.error().code != Code::kUnavailable) return opened.error();
      last_error = opened.error();
      continue;
    }
    std::shared_ptr<Transport> fresh(std::move(opened).value());
    std::lock_guard lock(mu_);
    current_ = fresh;
    current_node_ = nodes_[index];
    info_ = fresh->server_info();
    next_node_ = (index + 1) % nodes_.size();
    return fresh;
  }
  if (nodes_.size() > 1) {
    last_error->message =
        "no node answered (last: " + nodes_[(start + nodes_.size() - 1) % nodes_.size()].Name() +
        ": " + last_error->message + ")";
  }
  return *last_error;
}

Result<std::shared_ptr<Transport>> Router::SwitchTo(const Node& node,
                                                    const std::shared_ptr<Transport>& failed) {
  std::lock_guard connecting(connect_mu_);
  {
    std::lock_guard lock(mu_);
    // Another caller already moved on to this node.
    if (current_ && current_ != failed && current_node_.Name() == node.Name()) return current_;
  }
  auto opened = OpenNode(node);
  if (!opened.ok()) return opened.error();
  std::shared_ptr<Transport> fresh(std::move(opened).value());
  std::lock_guard lock(mu_);
  current_ = fresh;
  current_node_ = node;
  info_ = fresh->server_info();
  return fresh;
}

void Router::Drop(const std::shared_ptr<Transport>& failed) {
  std::lock_guard lock(mu_);
  if (current_ == failed) current_.reset();
}

Result<std::string> Router::Call(uint64_t request_id, std::string payload, Transport::Retry retry) {
  bool redirected = false;
  bool failed_over = false;
  for (;;) {
    auto transport = Current();
    if (!transport.ok()) return transport.error();
    const std::shared_ptr<Transport> used = *transport;
    bool not_sent = false;
    auto result = used->Call(request_id, payload, retry, &not_sent);
    if (!result.ok()) {
      if (result.error().code != Code::kUnavailable) return result;
      // Several nodes (or a redirect away from the one configured): try another next time.
      bool elsewhere = nodes_.size() > 1;
      {
        std::lock_guard lock(mu_);
        elsewhere = elsewhere || current_node_.Name() != nodes_.front().Name();
      }
      if (!elsewhere) return result;
      Drop(used);
      // A read may be sent again anywhere; a write only when it never left the client.
      const bool may_resend = retry == Transport::Retry::kIfBroken || not_sent;
      if (!may_resend || failed_over) return result;
      failed_over = true;
      continue;
    }
    // Verified by the transport; only the error is looked at here.
    const auto* response = flatbuffers::GetRoot<wire::Response>(result->data());
    if (response->error() == nullptr || redirected || !options_.follow_primary ||
        CodeFromWire(response->error()->code()) != Code::kNotPrimary) {
      return result;
    }
    const Error error = ErrorFromWire(*response->error());
    auto target = ParseNodeAddress(error.primary_address);
    if (!target.ok()) return result;  // no primary known (or an address we cannot use)
    const Node node{target->first, target->second};
    {
      std::lock_guard lock(mu_);
      if (current_ == used && current_node_.Name() == node.Name()) return result;
    }
    // NOT_PRIMARY: nothing was applied, so sending the request again is safe, writes included.
    redirected = true;
    auto switched = SwitchTo(node, used);
    if (!switched.ok()) return result;
  }
}

ServerInfo Router::server_info() const {
  std::lock_guard lock(mu_);
  return info_;
}

std::string Router::current_address() const {
  std::lock_guard lock(mu_);
  return current_ ? current_node_.Name() : "";
}

}  // namespace mnemo::client::internal
