// HttpConnection: one keep-alive HTTP/1.1 connection to 127.0.0.1 for the soak test's REST
// traffic (Boost.Beast, blocking).  Reconnects by itself when the server closed it.
//
// Thread-safety: not thread-safe; one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace mnemo::hardening {

struct HttpAnswer {
  int status = 0;    // 0: no answer (connection failed)
  std::string body;  // the response body, or the transport error
};

class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request (JSON body when not empty) acting as `user` (X-User-ID).
  HttpAnswer Call(const std::string& method, const std::string& target, const std::string& user,
                  const std::string& body = "");

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mnemo::hardening
