#include "testing/fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include "protocol/frame.h"
#include "protocol/verify.h"

namespace mnemo::client::testing {
namespace {

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::string Finish(flatbuffers::FlatBufferBuilder& fbb, flatbuffers::Offset<wire::Response> root) {
  fbb.Finish(root, wire::RequestIdentifier());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace

// ---- Peer -------------------------------------------------------------------------------------

Peer::~Peer() { ::close(fd_); }

bool Peer::Send(const std::string& payload) {
  std::string frame;
  protocol::AppendFrame(payload, &frame);
  return SendRaw(frame);
}

bool Peer::SendRaw(const std::string& bytes) {
  std::lock_guard lock(write_mu_);
  return WriteAll(fd_, bytes.data(), bytes.size());
}

void Peer::Shutdown() { ::shutdown(fd_, SHUT_RDWR); }

// ---- FakeServer -------------------------------------------------------------------------------

FakeServer::FakeServer(Handler handler, Handler hello)
    : handler_(std::move(handler)), hello_handler_(std::move(hello)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t length = sizeof(address);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FakeServer::~FakeServer() {
  stopping_ = true;
  accept_thread_.join();
  ::close(listen_fd_);
  DropConnections();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
}

void FakeServer::AcceptLoop() {
  while (!stopping_) {
    pollfd poll_fd{listen_fd_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 20) <= 0) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto peer = std::make_shared<Peer>(fd);
    ++accepted_;
    std::lock_guard lock(mu_);
    peers_.push_back(peer);
    threads_.emplace_back([this, peer] { ReadLoop(peer); });
  }
}

void FakeServer::ReadLoop(std::shared_ptr<Peer> peer) {
  std::string buffer;
  char chunk[64 * 1024];
  while (true) {
    const ssize_t n = ::recv(peer->fd(), chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    while (true) {
      std::string_view payload;
      size_t consumed = 0;
      const auto result = protocol::ParseFrame(buffer, 1u << 30, &payload, &consumed);
      if (result == protocol::FrameResult::kNeedMore) break;
      if (result != protocol::FrameResult::kFrame) {
        peer->Shutdown();
        return;
      }
      const std::string owned(payload);
      buffer.erase(0, consumed);
      std::string why;
      const wire::Request* request = protocol::VerifyRequest(owned, &why);
      if (request == nullptr) {
        peer->Send(MakeErrorReply(0, wire::StatusCode::VALIDATION_ERROR, why));
        peer->Shutdown();
        return;
      }
      std::lock_guard handler_lock(handler_mu_);
      if (request->body_type() == wire::RequestBody::Hello) {
        ++hellos_;
        const auto* hello = request->body_as_Hello();
        {
          std::lock_guard lock(mu_);
          hellos_seen_.push_back(HelloSeen{hello->api_key() ? hello->api_key()->str() : "",
                                           hello->client_name() ? hello->client_name()->str() : "",
                                           hello->protocol_version()});
        }
        if (hello_handler_) {
          hello_handler_(peer, *request);
        } else {
          peer->Send(MakeHelloReply(request->id(), max_in_flight.load(), max_frame_bytes.load()));
        }
        continue;
      }
      handler_(peer, *request);
    }
  }
}

std::vector<FakeServer::HelloSeen> FakeServer::hellos_seen() {
  std::lock_guard lock(mu_);
  return hellos_seen_;
}

void FakeServer::DropConnections() {
  std::lock_guard lock(mu_);
  for (auto& peer : peers_) peer->Shutdown();
  peers_.clear();
}

// ---- response builders ------------------------------------------------------------------------

std::string MakeHelloReply(uint64_t id, uint32_t max_in_flight, uint32_t max_frame_bytes,
                           uint32_t dimension, const std::string& principal) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto version = fbb.CreateString("fake-0.1");
  const auto who = fbb.CreateString(principal);
  const auto body =
      wire::CreateHelloReply(fbb, 1, version, max_frame_bytes, max_in_flight, dimension, who);
  return Finish(fbb,
                wire::CreateResponse(fbb, id, 0, wire::ResponseBody::HelloReply, body.Union()));
}

std::string MakeErrorReply(uint64_t id, wire::StatusCode code, const std::string& message,
                           const std::string& field) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto m = fbb.CreateString(message);
  const auto f =
      field.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(field);
  const auto error = wire::CreateError(fbb, code, m, f);
  return Finish(fbb, wire::CreateResponse(fbb, id, error));
}

std::string MakeCountReply(uint64_t id, int64_t count) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateCountReply(fbb, count);
  return Finish(fbb,
                wire::CreateResponse(fbb, id, 0, wire::ResponseBody::CountReply, body.Union()));
}

std::string MakeDocumentCountsReply(uint64_t id, int64_t total, int64_t active, int64_t deleted) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateDocumentCounts(fbb, total, active, deleted);
  return Finish(fbb,
                wire::CreateResponse(fbb, id, 0, wire::ResponseBody::DocumentCounts, body.Union()));
}

std::string MakeDoneReply(uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto body = wire::CreateDone(fbb);
  return Finish(fbb, wire::CreateResponse(fbb, id, 0, wire::ResponseBody::Done, body.Union()));
}

}  // namespace mnemo::client::testing
