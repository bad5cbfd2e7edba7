#include "server/wire_out.h"

#include <gtest/gtest.h>

#include "server/testing/wire_helpers.h"
#include "server/wire_in.h"

namespace mnemo::server {
namespace {

TEST(WireOutTest, ErrorResponsesCarryCodeMessageAndField) {
  for (int value = 1; value < static_cast<int>(kStatusCodeCount); ++value) {
    const Status status = Status::FromCode(static_cast<StatusCode>(value), "went wrong", "title");
    testing::ParsedResponse response(ErrorResponse(77, status));
    ASSERT_TRUE(response.valid());
    EXPECT_EQ(response->id(), 77u);
    EXPECT_EQ(static_cast<int>(response.code()), value);
    EXPECT_EQ(response.message(), "went wrong");
    EXPECT_EQ(response.field(), "title");
    EXPECT_EQ(response->body(), nullptr);
  }
  testing::ParsedResponse unnamed(ErrorResponse(0, Status::NotFound("nope")));
  EXPECT_EQ(unnamed.field(), "");
  EXPECT_EQ(unnamed->error()->field(), nullptr);
}

TEST(WireOutTest, IdsRoundTripBigEndianHalves) {
  const auto id = Uuid::Parse("01234567-89ab-cdef-fedc-ba9876543210");
  ASSERT_TRUE(id);
  const wire::Id wire_id = ToWireId(*id);
  EXPECT_EQ(wire_id.hi(), 0x0123456789abcdefull);
  EXPECT_EQ(wire_id.lo(), 0xfedcba9876543210ull);
  EXPECT_EQ(FromWireId(wire_id), *id);
  const Uuid generated = Uuid::Generate();
  EXPECT_EQ(FromWireId(ToWireId(generated)), generated);
}

TEST(WireOutTest, RolesMatchTheWire) {
  for (int i = 0; i < kRoleCount; ++i) {
    const auto role = static_cast<Role>(i);
    EXPECT_EQ(std::string(wire::EnumNameRole(ToWireRole(role))), std::string(RoleName(role)));
  }
}

}  // namespace
}  // namespace mnemo::server
