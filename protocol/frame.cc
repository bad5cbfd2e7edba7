#include "protocol/frame.h"

namespace mnemo::protocol {

void AppendFrame(std::string_view payload, std::string* out) {
  const auto length = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  out->append(payload);
}

FrameResult ParseFrame(std::string_view buffer, uint32_t max_frame_bytes, std::string_view* payload,
                       size_t* consumed, uint32_t* announced) {
  if (buffer.size() < kFrameHeaderBytes) return FrameResult::kNeedMore;
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i)
    length |= static_cast<uint32_t>(static_cast<uint8_t>(buffer[i])) << (8 * i);
  if (announced != nullptr) *announced = length;
  if (length == 0) return FrameResult::kEmpty;
  if (length > max_frame_bytes) return FrameResult::kTooLarge;
  if (buffer.size() - kFrameHeaderBytes < length) return FrameResult::kNeedMore;
  *payload = buffer.substr(kFrameHeaderBytes, length);
  *consumed = kFrameHeaderBytes + length;
  return FrameResult::kFrame;
}

}  // namespace mnemo::protocol
