// RawConnection: a blocking TCP connection to 127.0.0.1 with timeouts, for speaking the raw
// protocol (frames and bytes) to a server in tests.  Tests only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mnemo::server::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; check connected().
  explicit RawConnection(uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // False when the peer is gone.
  bool SendBytes(std::string_view bytes);
  bool SendFrame(std::string_view payload);
  // One frame's payload; nullopt on EOF, error or timeout.
  std::optional<std::string> ReadFrame(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The bytes available next (at least one); nullopt on EOF, error or timeout.
  std::optional<std::string> ReadSome(std::chrono::milliseconds timeout);
  // Reads and discards until the server closes; false if it is still open after `timeout`.
  bool WaitForClose(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void ShutdownSend();
  void Close();

 private:
  bool ReadExactly(char* out, size_t size, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
};

}  // namespace mnemo::server::testing
