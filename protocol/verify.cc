#include "protocol/verify.h"

#include "protocol/version.h"

namespace mnemo::protocol {
namespace {

// FlatBuffers 2.0.8's verifier checks that a vector's length field is 4-byte aligned, but not
// that its elements are aligned for their type: a vector of 8-byte structs ([Id]) may start at
// 4 mod 8, and reading it is undefined behaviour (found by tests/fuzz dispatch; the input is in
// tests/fuzz/regressions/dispatch/).  Every [Id] field of the schema is checked here; a new
// vector of a struct wider than 4 bytes must be added.  The buffer start is 8-byte aligned, so
// an address check is an offset check.
bool Aligned(const flatbuffers::Vector<const wire::Id*>* ids) {
  return ids == nullptr || reinterpret_cast<uintptr_t>(ids->Data()) % alignof(wire::Id) == 0;
}

bool IdVectorsAligned(const wire::SearchQuery* query) {
  return query == nullptr || query->filters() == nullptr ||
         Aligned(query->filters()->document_ids());
}

bool IdVectorsAligned(const wire::Request& request) {
  if (const auto* search = request.body_as_SearchRequest())
    return IdVectorsAligned(search->query());
  if (const auto* batch = request.body_as_SearchBatchRequest();
      batch != nullptr && batch->queries() != nullptr) {
    for (const wire::SearchQuery* query : *batch->queries()) {
      if (!IdVectorsAligned(query)) return false;
    }
  }
  return true;
}

bool IdVectorsAligned(const wire::Response& response) {
  const auto* batch = response.body_as_BatchReply();
  return batch == nullptr || Aligned(batch->ids());
}

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
  const Root* root = flatbuffers::GetRoot<Root>(data);
  if (!IdVectorsAligned(*root)) {
    *error = "malformed FlatBuffer (misaligned id vector)";
    return nullptr;
  }
  return root;
}

}  // namespace

const wire::Request* VerifyRequest(std::string_view payload, std::string* error) {
  return Verify<wire::Request>(payload, error);
}

const wire::Response* VerifyResponse(std::string_view payload, std::string* error) {
  return Verify<wire::Response>(payload, error);
}

}  // namespace mnemo::protocol
