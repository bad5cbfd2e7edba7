#include "protocol/wire_codes.h"

#include <gtest/gtest.h>

#include <string>

namespace mnemo::protocol {
namespace {

// The schema spells every code as the table does (the values are checked at compile time).
TEST(WireCodesTest, EveryStatusCodeHasTheSameNameOnTheWire) {
  for (size_t value = 0; value < kStatusCodeCount; ++value) {
    const auto code = static_cast<StatusCode>(value);
    const wire::StatusCode wire_code = ToWire(code);
    EXPECT_EQ(static_cast<size_t>(wire_code), value);
    EXPECT_EQ(std::string(wire::EnumNameStatusCode(wire_code)), std::string(StatusCodeName(code)));
    EXPECT_EQ(FromWire(wire_code), code);
  }
}

TEST(WireCodesTest, UnknownWireCodesAreNotGuessed) {
  EXPECT_FALSE(FromWire(static_cast<wire::StatusCode>(kStatusCodeCount)).has_value());
  EXPECT_FALSE(FromWire(static_cast<wire::StatusCode>(255)).has_value());
}

TEST(WireCodesTest, IdsTravelAsBigEndianHalves) {
  const Uuid id = *Uuid::Parse("01234567-89ab-cdef-fedc-ba9876543210");
  const wire::Id on_wire = ToWire(id);
  EXPECT_EQ(on_wire.hi(), 0x0123456789abcdefULL);
  EXPECT_EQ(on_wire.lo(), 0xfedcba9876543210ULL);
  EXPECT_EQ(FromWire(on_wire), id);
}

}  // namespace
}  // namespace mnemo::protocol
