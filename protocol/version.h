// Protocol constants shared by the server and every client.
#pragma once

#include <cstdint>

namespace mnemo::protocol {

// Bumped only for changes an older peer cannot ignore (see schema/mnemo.fbs).
inline constexpr uint32_t kProtocolVersion = 1;
// Frames larger than this are refused unless the server is configured otherwise.
inline constexpr uint32_t kDefaultMaxFrameBytes = 64u << 20;
// FlatBuffers nesting and table limits applied by the verifier.
inline constexpr uint32_t kMaxVerifyDepth = 64;
inline constexpr uint32_t kMaxVerifyTables = 4'000'000;

}  // namespace mnemo::protocol
