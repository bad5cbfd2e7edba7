// Conversions between mnemo_base values and their wire forms: status codes and ids.
//
// The schema's StatusCode enum (schema/mnemo.fbs) must equal the status-code table
// (mnemo/base/error_codes.def); the static_asserts below check every row at compile time, so a
// code added, renumbered or renamed on one side only breaks the build of everything that
// includes this header (mnemod, the C++ client, the protocol library).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "mnemo/base/error_codes.h"
#include "mnemo/base/uuid.h"
#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::protocol {

#define MNEMO_ERROR_CODE(camel, wire_name, value, http)                            \
  static_assert(static_cast<int>(::mnemo::wire::StatusCode::wire_name) == (value), \
                "mnemo.fbs StatusCode " #wire_name " differs from error_codes.def");
#include "mnemo/base/error_codes.def"
#undef MNEMO_ERROR_CODE
static_assert(static_cast<size_t>(wire::StatusCode::MAX) + 1 == kStatusCodeCount,
              "mnemo.fbs and error_codes.def hold different numbers of status codes");

constexpr wire::StatusCode ToWire(StatusCode code) { return static_cast<wire::StatusCode>(code); }
// nullopt for a value this build does not know (a newer peer's code).
constexpr std::optional<StatusCode> FromWire(wire::StatusCode code) {
  return StatusCodeFromValue(static_cast<uint8_t>(code));
}

// Ids travel as two big-endian halves.
inline wire::Id ToWire(const Uuid& id) { return wire::Id(id.hi(), id.lo()); }
inline Uuid FromWire(const wire::Id& id) { return Uuid::FromHalves(id.hi(), id.lo()); }

}  // namespace mnemo::protocol
