// MapRequest: the pure HTTP -> ApiCall step of mnemo-rest.  Takes what the socket delivered
// (method, target, Content-Type, body text) and returns either the route with the validated call
// arguments, or the HTTP error to answer with: 404 (no such path), 405 (path exists, method does
// not), 415 (body not JSON), 422 (bad query parameter, path id, JSON or field; details.field names
// it, e.g. "limit", "id", "body", "title", "chunks[2].embedding").  No I/O, no identity, no
// client calls: everything here can be unit tested and fuzzed in-process.
//
// Field names and defaults follow seed 001 (lists: skip >= 0, limit 1..100 (messages 1..200),
// default 10 / 50) and SPEC §2/§3 (top_k 1..1000, threshold in [-1, 1]).  Unknown JSON fields
// and query parameters are ignored, as FastAPI/Pydantic do.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include "api_call.h"
#include "api_error.h"
#include "routes.h"

namespace mnemo::rest {

// The page size of the list endpoints (conversations, documents) when no limit is given: 10, as
// in the seeds' FastAPI app, fewer than the engine's default.
inline constexpr int64_t kDefaultListLimit = 10;
// Messages GET .../messages/last returns when no count is given.
inline constexpr int64_t kDefaultLastMessages = 20;

struct MapContext {
  // The embedding dimension of mnemod's data directory; 0 = unknown (the length is then left to
  // mnemod to check).
  uint32_t dimension = 0;
};

struct MappedCall {
  const RouteInfo* route = nullptr;  // never null; points into Routes()
  ApiCall call;                      // MetaCall for the routes the sidecar answers itself
};

std::variant<MappedCall, ApiError> MapRequest(std::string_view method, std::string_view target,
                                              std::string_view content_type, std::string_view body,
                                              const MapContext& context);

}  // namespace mnemo::rest
