// Verification of incoming payloads: every buffer passes the FlatBuffers verifier (bounds,
// alignment, nesting depth, table count, file identifier) before any field is read.
//
// Thread-safety: stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::protocol {

// The verified root, or nullptr with a reason in *error.  The pointer views `payload`'s storage.
// REQUIRES: payload.data() is 8-byte aligned (FlatBuffers reads scalars in place), e.g. a
// payload copied into its own std::string; a misaligned payload is rejected, never read.
const wire::Request* VerifyRequest(std::string_view payload, std::string* error);
const wire::Response* VerifyResponse(std::string_view payload, std::string* error);

}  // namespace mnemo::protocol
