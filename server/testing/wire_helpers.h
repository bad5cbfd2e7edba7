// Test helpers: build Request payloads and read Response payloads, for the dispatcher's unit
// tests and the raw-socket integration tests.  Header-only; tests only.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mnemo/wire/mnemo_generated.h"
#include "protocol/verify.h"
#include "protocol/version.h"

namespace mnemo::server::testing {

using Builder = flatbuffers::FlatBufferBuilder;
using BodyFn = std::function<std::pair<wire::RequestBody, flatbuffers::Offset<void>>(Builder&)>;

inline std::string Finish(Builder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// A finished Request payload; `user_id` empty = absent.
inline std::string BuildRequest(uint64_t id, std::string_view user_id, const BodyFn& body,
                                std::string_view trace_id = {}) {
  Builder fbb(512);
  auto [type, offset] = body(fbb);
  const auto user =
      user_id.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(user_id);
  const auto trace =
      trace_id.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(trace_id);
  fbb.Finish(wire::CreateRequest(fbb, id, user, type, offset, trace), wire::RequestIdentifier());
  return Finish(fbb);
}

template <typename T>
std::pair<wire::RequestBody, flatbuffers::Offset<void>> Body(wire::RequestBody type,
                                                             flatbuffers::Offset<T> offset) {
  return {type, offset.Union()};
}

inline std::string HelloRequest(uint64_t id, std::string_view api_key = {},
                                uint32_t version = protocol::kProtocolVersion) {
  return BuildRequest(id, "", [&](Builder& fbb) {
    const auto key =
        api_key.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(api_key);
    return Body(wire::RequestBody::Hello,
                wire::CreateHello(fbb, version, key, fbb.CreateString("test")));
  });
}

inline std::string CreateConversationRequest(uint64_t id, std::string_view user_id,
                                             std::string_view title) {
  return BuildRequest(id, user_id, [&](Builder& fbb) {
    const auto conversation = wire::CreateNewConversation(fbb, nullptr, fbb.CreateString(title));
    return Body(wire::RequestBody::CreateConversationRequest,
                wire::CreateCreateConversationRequest(fbb, conversation));
  });
}

inline std::string ListPartitionsRequest(uint64_t id) {
  return BuildRequest(id, "", [](Builder& fbb) {
    return Body(wire::RequestBody::ListPartitionsRequest, wire::CreateListPartitionsRequest(fbb));
  });
}

// A verified copy of a Response payload.
class ParsedResponse {
 public:
  explicit ParsedResponse(std::string_view payload)
      : bytes_(std::make_unique<std::string>(payload)) {
    std::string error;
    response_ = protocol::VerifyResponse(*bytes_, &error);
    EXPECT_NE(response_, nullptr) << "response does not verify: " << error;
  }
  bool valid() const { return response_ != nullptr; }
  const wire::Response* operator->() const { return response_; }
  const wire::Response& operator*() const { return *response_; }

  bool ok() const { return response_ != nullptr && response_->error() == nullptr; }
  wire::StatusCode code() const {
    if (response_ == nullptr) return wire::StatusCode::INTERNAL_ERROR;
    return response_->error() ? response_->error()->code() : wire::StatusCode::OK;
  }
  std::string message() const {
    return response_ && response_->error() && response_->error()->message()
               ? response_->error()->message()->str()
               : "";
  }
  std::string field() const {
    return response_ && response_->error() && response_->error()->field()
               ? response_->error()->field()->str()
               : "";
  }

 private:
  std::unique_ptr<std::string> bytes_;  // stable address: the verified root points into it
  const wire::Response* response_ = nullptr;
};

inline std::string CodeName(wire::StatusCode code) { return wire::EnumNameStatusCode(code); }

}  // namespace mnemo::server::testing
