#include "protocol/verify.h"

#include "protocol/version.h"

namespace mnemo::protocol {
namespace {

template <typename Root>
const Root* Verify(std::string_view payload, std::string* error) {
  const auto* data = reinterpret_cast<const uint8_t*>(payload.data());
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    *error = "payload buffer is not 8-byte aligned";
    return nullptr;
  }
  if (payload.size() < 8 || !flatbuffers::BufferHasIdentifier(data, wire::RequestIdentifier())) {
    *error = "not a mnemo message (missing \"MNEM\" identifier)";
    return nullptr;
  }
  flatbuffers::Verifier verifier(data, payload.size(), kMaxVerifyDepth, kMaxVerifyTables);
  if (!verifier.VerifyBuffer<Root>(wire::RequestIdentifier())) {
    *error = "malformed FlatBuffer";
    return nullptr;
  }
  return flatbuffers::GetRoot<Root>(data);
}

}  // namespace

const wire::Request* VerifyRequest(std::string_view payload, std::string* error) {
  return Verify<wire::Request>(payload, error);
}

const wire::Response* VerifyResponse(std::string_view payload, std::string* error) {
  return Verify<wire::Response>(payload, error);
}

}  // namespace mnemo::protocol
