// Fuzz target: the frame codec, the FlatBuffers verifier, and the client's response decoders.
//
// Input: a mode byte, then either (even) a byte stream cut into frames, every frame's payload
// checked, or (odd) one bare payload.  Properties:
//   - ParseFrame's result agrees with the header it read (sizes, limits), its payload views the
//     input, and AppendFrame(payload) reproduces exactly the bytes consumed;
//   - the verifier either rejects a payload with a reason or accepts it as a Request or a
//     Response; an accepted Response goes through every client decoder, which read any field
//     the response holds (a crash or a sanitizer report there is a verifier hole or a decoder
//     bug).
#include <cstdint>
#include <string>
#include <string_view>

#include "codec.h"  // clients/cpp/src: the client's private decoders
#include "fuzz_support.h"
#include "protocol/frame.h"
#include "protocol/verify.h"

namespace mnemo::fuzz {
namespace {

namespace client = mnemo::client::internal;
using protocol::FrameResult;

constexpr uint32_t kMaxFrameBytes = 1u << 16;
constexpr int kMaxFrames = 64;

void DecodeEverything(const wire::Response& response) {
  (void)client::DecodeHelloReply(response);
  (void)client::DecodeConversation(response);
  (void)client::DecodeConversationPage(response);
  (void)client::DecodeUserStats(response);
  (void)client::DecodeMessage(response);
  (void)client::DecodeOptionalMessage(response);
  (void)client::DecodeMessagePage(response);
  (void)client::DecodeMessages(response);
  (void)client::DecodeTokenStats(response);
  (void)client::DecodeCount(response);
  (void)client::DecodeDocument(response);
  (void)client::DecodeDocumentPage(response);
  (void)client::DecodeDocumentCounts(response);
  (void)client::DecodeChunks(response);
  (void)client::DecodeChunk(response);
  (void)client::DecodeChunkPage(response);
  (void)client::DecodeExists(response);
  (void)client::DecodeRetention(response);
  (void)client::DecodeSearch(response);
  (void)client::DecodeSearchBatch(response);
  (void)client::DecodeBatchIds(response);
  (void)client::DecodePartitions(response);
  (void)client::DecodeAttach(response);
  (void)client::DecodeStats(response);
  (void)client::DecodeDone(response);
}

void CheckPayload(std::string_view payload) {
  const std::string aligned(payload);  // heap (or in-object) storage: 8-byte aligned
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(aligned, &error);
  FUZZ_CHECK(request != nullptr || !error.empty());
  if (request != nullptr) {
    (void)request->id();
    if (request->user_id() != nullptr) (void)request->user_id()->str();
    (void)wire::EnumNameRequestBody(request->body_type());
  }
  error.clear();
  const wire::Response* response = protocol::VerifyResponse(aligned, &error);
  FUZZ_CHECK(response != nullptr || !error.empty());
  if (response != nullptr) DecodeEverything(*response);
}

void CheckFrames(std::string_view stream) {
  for (int frames = 0; frames < kMaxFrames && !stream.empty(); ++frames) {
    std::string_view payload;
    size_t consumed = 0;
    uint32_t announced = 0;
    const FrameResult result =
        protocol::ParseFrame(stream, kMaxFrameBytes, &payload, &consumed, &announced);
    switch (result) {
      case FrameResult::kNeedMore:
        FUZZ_CHECK(stream.size() < protocol::kFrameHeaderBytes ||
                   stream.size() < protocol::kFrameHeaderBytes + announced);
        return;
      case FrameResult::kTooLarge: FUZZ_CHECK(announced > kMaxFrameBytes); return;
      case FrameResult::kEmpty: FUZZ_CHECK(announced == 0); return;
      case FrameResult::kFrame: break;
    }
    FUZZ_CHECK(announced > 0 && announced <= kMaxFrameBytes);
    FUZZ_CHECK(payload.size() == announced);
    FUZZ_CHECK(consumed == protocol::kFrameHeaderBytes + payload.size());
    FUZZ_CHECK(payload.data() == stream.data() + protocol::kFrameHeaderBytes);
    std::string reframed;
    protocol::AppendFrame(payload, &reframed);
    FUZZ_CHECK(reframed == stream.substr(0, consumed));
    CheckPayload(payload);
    stream.remove_prefix(consumed);
  }
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnemo::fuzz::FuzzInput input(data, size);
  const bool framed = (input.Byte() & 1) == 0;
  if (framed) {
    mnemo::fuzz::CheckFrames(input.Rest());
  } else {
    mnemo::fuzz::CheckPayload(input.Rest());
  }
  return 0;
}
