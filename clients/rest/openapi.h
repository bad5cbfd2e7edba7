// The OpenAPI 3 document served at /api/openapi.json, generated from the route table (routes.h)
// so that every documented path answers and every route is documented.
//
// Thread-safety: pure function.
#pragma once

#include <nlohmann/json.hpp>

namespace mnemo::rest {

nlohmann::json OpenApiDocument();

}  // namespace mnemo::rest
