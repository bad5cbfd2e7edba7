// DirectConnection: plain POSIX sockets.  Connecting and the handshake use a non-blocking socket
// waited on with poll(2) (so every wait honours the deadline); then the socket turns blocking
// with send/receive timeouts of request_timeout, so a call's first read is one recv(2) that
// sleeps until the reply arrives (no poll(2) before it).  See direct_connection.h.
#include "direct_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "codec.h"
#include "timeouts.h"
#include "protocol/frame.h"
#include "protocol/verify.h"
#include "protocol/version.h"

namespace mnemo::client::internal {
namespace {

using Clock = DirectConnection::Clock;

#ifdef POLLRDHUP
constexpr short kPollPeerClosed = POLLRDHUP;  // Linux: the peer shut down its writing side
#else
constexpr short kPollPeerClosed = 0;
#endif

constexpr size_t kReadChunkBytes = 64 * 1024;
// A connection used this recently is not checked for a close by the server before the next call:
// the server closes idle connections only after seconds (its idle timeout), and a close racing a
// call fails that call as any connection loss does.
constexpr auto kRecentlyUsed = std::chrono::milliseconds(1);
constexpr size_t kKeepBufferBytes = 1 << 20;  // a larger buffer is released after its response

// poll(2)'s timeout for `deadline`: milliseconds left, rounded up, at least 0.
int MillisUntil(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto millis = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(millis, INT_MAX));
}

enum class Wait : uint8_t { kReady, kTimedOut, kFailed };

// Waits until `fd` has one of `events` (or an error/hang-up) or `deadline` passes.
Wait WaitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd poll_fd{fd, events, 0};
    const int ready = ::poll(&poll_fd, 1, MillisUntil(deadline));
    if (ready > 0) return Wait::kReady;  // the next send/recv reports any error
    if (ready == 0) {
      if (Clock::now() >= deadline) return Wait::kTimedOut;
      continue;  // woke early (rounding): wait the rest
    }
    if (errno != EINTR) return Wait::kFailed;
  }
}

std::string ErrnoText(int error_number) { return std::strerror(error_number); }

// Connects a new non-blocking socket to `address`.  Returns the socket, or -1 with the reason in
// *error_number (ETIMEDOUT when the deadline passed).
int ConnectTo(const addrinfo& address, Clock::time_point deadline, int* error_number) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          address.ai_protocol);
  if (fd < 0) {
    *error_number = errno;
    return -1;
  }
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) return fd;
  if (errno == EINPROGRESS) {
    const Wait wait = WaitFor(fd, POLLOUT, deadline);
    int socket_error = 0;
    socklen_t length = sizeof(socket_error);
    if (wait == Wait::kTimedOut) {
      socket_error = ETIMEDOUT;
    } else if (wait == Wait::kFailed ||
               ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &length) != 0) {
      socket_error = errno;
    }
    if (socket_error == 0) return fd;
    *error_number = socket_error;
  } else {
    *error_number = errno;
  }
  ::close(fd);
  return -1;
}

}  // namespace

DirectConnection::DirectConnection(const ClientOptions& options, int fd)
    : options_(options), fd_(fd) {}

DirectConnection::~DirectConnection() { ::close(fd_); }

Result<std::unique_ptr<DirectConnection>> DirectConnection::Open(const ClientOptions& options,
                                                                 uint64_t hello_id,
                                                                 Clock::time_point deadline) {
  const std::string address = options.host + ":" + std::to_string(options.port);
  const std::string timeout_message = "connecting to " + address + " timed out after " +
                                      std::to_string(options.connect_timeout.count()) + " ms";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const int resolved =
      ::getaddrinfo(options.host.c_str(), std::to_string(options.port).c_str(), &hints, &addresses);
  if (resolved != 0) {
    return Error{Code::kUnavailable, "cannot resolve " + address + ": " + ::gai_strerror(resolved),
                 ""};
  }
  int fd = -1;
  int error_number = ECONNREFUSED;
  for (const addrinfo* candidate = addresses; candidate != nullptr && fd < 0;
       candidate = candidate->ai_next) {
    fd = ConnectTo(*candidate, deadline, &error_number);
  }
  ::freeaddrinfo(addresses);
  if (fd < 0) {
    return Error{Code::kUnavailable,
                 error_number == ETIMEDOUT
                     ? timeout_message
                     : "cannot connect to " + address + ": " + ErrnoText(error_number),
                 ""};
  }
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  std::unique_ptr<DirectConnection> connection(new DirectConnection(options, fd));

  // The handshake: a Hello request, answered before anything else is sent.
  std::string frame;
  protocol::AppendFrame(EncodeHello(hello_id, protocol::kProtocolVersion, options.api_key,
                                    options.client_name),
                        &frame);
  bool timed_out = false;
  if (auto error = connection->SendAll(frame, deadline, &timed_out)) {
    return timed_out ? Error{Code::kUnavailable, timeout_message, ""} : *error;
  }
  auto reply = connection->ReadResponse(hello_id, deadline, timeout_message, &timed_out);
  if (!reply.ok()) return reply.error();
  auto info = DecodeHelloReply(*flatbuffers::GetRoot<wire::Response>(reply->data()));
  if (!info.ok()) return info.error();
  connection->info_ = std::move(info).value();
  if (auto error = connection->EnterBlockingMode()) return *error;
  return connection;
}

std::optional<Error> DirectConnection::EnterBlockingMode() {
  const auto timeout = options_.request_timeout;
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  limit.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  if (limit.tv_sec == 0 && limit.tv_usec == 0) limit.tv_usec = 1;  // 0 would mean "no timeout"
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)) != 0) {
    return Unavailable("cannot configure the connection to " + Address() + ": " + ErrnoText(errno));
  }
  blocking_ = true;
  return std::nullopt;
}

bool DirectConnection::PeerClosed() {
  if (broken_ || buffered_ > 0) return true;
  if (Clock::now() - last_used_ < kRecentlyUsed) return false;
  // Between calls nothing is expected: readable means closed (end of file), reset, or unasked.
  pollfd poll_fd{fd_, static_cast<short>(POLLIN | kPollPeerClosed), 0};
  return ::poll(&poll_fd, 1, 0) != 0;
}

Result<std::string> DirectConnection::Exchange(std::string_view frame, uint64_t request_id,
                                               Clock::time_point deadline,
                                               bool* connection_lost) {
  *connection_lost = false;
  const std::string timeout_message = TimedOut(options_.request_timeout).message;
  bool timed_out = false;
  if (auto error = SendAll(frame, deadline, &timed_out)) {
    if (timed_out) return Fail(Error{Code::kUnavailable, timeout_message, ""});
    *connection_lost = true;
    return *error;
  }
  auto response = ReadResponse(request_id, deadline, timeout_message, &timed_out);
  if (!response.ok() && !timed_out) *connection_lost = true;
  last_used_ = Clock::now();
  return response;
}

Error DirectConnection::Fail(Error error) {
  broken_ = true;
  return error;
}

Error DirectConnection::Unavailable(std::string message) {
  return Fail(Error{Code::kUnavailable, std::move(message), ""});
}

std::string DirectConnection::Address() const {
  return options_.host + ":" + std::to_string(options_.port);
}

std::optional<Error> DirectConnection::SendAll(std::string_view bytes, Clock::time_point deadline,
                                               bool* timed_out) {
  *timed_out = false;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const Wait wait = WaitFor(fd_, POLLOUT, deadline);
      if (wait == Wait::kReady) continue;
      *timed_out = wait == Wait::kTimedOut;
      return Unavailable(*timed_out ? "timed out" : "poll failed: " + ErrnoText(errno));
    }
    return Unavailable("connection to " + Address() + " broke while writing: " +
                       ErrnoText(n < 0 ? errno : EPIPE));
  }
  return std::nullopt;
}

Result<std::string> DirectConnection::ReadResponse(uint64_t expected_id,
                                                   Clock::time_point deadline,
                                                   const std::string& timeout_message,
                                                   bool* timed_out) {
  *timed_out = false;
  std::string payload;
  bool first_read = true;
  while (true) {
    std::string_view view;
    size_t consumed = 0;
    uint32_t announced = 0;
    const auto result =
        protocol::ParseFrame(std::string_view(buffer_.data(), buffered_), options_.max_frame_bytes,
                             &view, &consumed, &announced);
    if (result == protocol::FrameResult::kFrame) {
      payload.assign(view);  // its own, aligned storage for the verifier
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(consumed),
                buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.begin());
      buffered_ -= consumed;
      if (buffered_ == 0 && buffer_.size() > kKeepBufferBytes) std::vector<char>().swap(buffer_);
      break;
    }
    if (result == protocol::FrameResult::kTooLarge) {
      return Unavailable("response frame of " + std::to_string(announced) +
                         " bytes exceeds max_frame_bytes");
    }
    if (result == protocol::FrameResult::kEmpty) return Unavailable("empty response frame");

    // kNeedMore: make room for the rest of the frame (or a chunk), wait, read.
    const size_t whole = announced != 0 ? protocol::kFrameHeaderBytes + announced : 0;
    const size_t want = std::max(buffered_ + kReadChunkBytes, whole);
    if (buffer_.size() < want) buffer_.resize(want);
    // The first read of a call on a blocking socket sleeps in recv itself (bounded by
    // SO_RCVTIMEO = request_timeout); later reads of a long reply wait for the deadline first.
    const bool sleep_in_recv = blocking_ && first_read;
    first_read = false;
    if (!sleep_in_recv) {
      const Wait wait = WaitFor(fd_, POLLIN, deadline);
      if (wait == Wait::kTimedOut) {
        *timed_out = true;
        return Unavailable(timeout_message);
      }
      if (wait == Wait::kFailed) return Unavailable("poll failed: " + ErrnoText(errno));
    }
    const ssize_t n = ::recv(fd_, buffer_.data() + buffered_, buffer_.size() - buffered_, 0);
    if (n > 0) {
      buffered_ += static_cast<size_t>(n);
    } else if (n == 0) {
      return Unavailable("server closed the connection");
    } else if (sleep_in_recv && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      *timed_out = true;  // SO_RCVTIMEO elapsed
      return Unavailable(timeout_message);
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      return Unavailable("connection to " + Address() + " broke: " + ErrnoText(errno));
    }
  }

  std::string why;
  const wire::Response* response = protocol::VerifyResponse(payload, &why);
  if (response == nullptr) return Unavailable("malformed response from server: " + why);
  if (response->id() == 0) {
    // The server could not read our frame and is closing the connection.
    if (response->error() == nullptr) return Unavailable("server rejected a frame");
    return Fail(ErrorFromWire(*response->error()));
  }
  if (response->id() != expected_id) {
    return Unavailable("response for request " + std::to_string(response->id()) +
                       " while waiting for request " + std::to_string(expected_id));
  }
  // Only one request is ever outstanding: any further bytes are unasked; drop the connection
  // after this call rather than read them as the next call's answer.
  if (buffered_ > 0) broken_ = true;
  return payload;
}

}  // namespace mnemo::client::internal
