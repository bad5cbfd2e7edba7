// Helpers of the codec tests: encoded requests checked by the server's verifier, and readers of
// their optional fields.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "codec.h"
#include "protocol/verify.h"

namespace mnemo::client::internal::testing {

inline const Uuid kIdA = *Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
inline const Uuid kIdB = *Uuid::Parse("11111111-2222-7333-8444-555555555555");

// Holds an encoded request and its verified root.
struct Decoded {
  std::string payload;
  const wire::Request* request = nullptr;
};

inline Decoded Verify(std::string payload) {
  Decoded out{std::move(payload)};
  std::string why;
  out.request = protocol::VerifyRequest(out.payload, &why);
  EXPECT_NE(out.request, nullptr) << why;
  return out;
}

// A string field's text, "<null>" when absent.
inline std::string S(const flatbuffers::String* text) { return text ? text->str() : "<null>"; }

}  // namespace mnemo::client::internal::testing
