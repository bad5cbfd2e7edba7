// Execute: performs one validated ApiCall against mnemod through the C++ client library, as
// `user_id`, and renders the answer (json_view.h) or the error (api_error.h).  The client calls
// block, so this runs on a worker thread, never on an HTTP I/O thread.
//
// Thread-safety: thread-safe (mnemo::client::Client is).
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api_call.h"
#include "api_error.h"
#include "mnemo/client/client.h"

namespace mnemo::rest {

struct ExecOutcome {
  int status = 200;                    // the route's success status when error is empty
  std::optional<nlohmann::json> body;  // empty for 204
  std::optional<ApiError> error;
};

// REQUIRES: call is not a MetaCall.
ExecOutcome Execute(mnemo::client::Client& client, std::string_view user_id, const ApiCall& call);

}  // namespace mnemo::rest
