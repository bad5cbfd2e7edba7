// Framing: every message is a little-endian u32 payload length followed by the payload (one
// FlatBuffer).  Pure functions, no I/O.
//
//   +----------------+---------------------------+
//   | length (u32 LE)| payload (length bytes)    |
//   +----------------+---------------------------+
//
// A zero length is a framing error (no message is empty).  Thread-safety: stateless functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mnemo::protocol {

inline constexpr size_t kFrameHeaderBytes = 4;

// Appends `payload` as one frame to `out`.  REQUIRES: 0 < payload.size() <= UINT32_MAX.
void AppendFrame(std::string_view payload, std::string* out);

enum class FrameResult : uint8_t {
  kNeedMore,  // the buffer does not yet hold a whole frame
  kFrame,     // *payload and *consumed are set
  kTooLarge,  // the announced length exceeds max_frame_bytes: close the connection
  kEmpty,     // a zero-length frame: close the connection
};

// Looks for one frame at the front of `buffer`.  On kFrame, `*payload` views the payload inside
// `buffer` and `*consumed` is header + payload size.  `*announced` (if not null) receives the
// length from the header whenever one could be read.
FrameResult ParseFrame(std::string_view buffer, uint32_t max_frame_bytes, std::string_view* payload,
                       size_t* consumed, uint32_t* announced = nullptr);

}  // namespace mnemo::protocol
