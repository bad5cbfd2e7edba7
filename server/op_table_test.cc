// Which requests the server answers on its I/O threads: bounded reads always; single searches and
// single-row writes while an inline slot is free; everything else on the workers.
#include "server/op_table.h"

#include <gtest/gtest.h>

#include "protocol/verify.h"
#include "server/inline_slots.h"
#include "server/testing/wire_helpers.h"

namespace mnemo::server {
namespace {

using testing::Body;
using testing::Builder;
using testing::BuildRequest;
using B = wire::RequestBody;

// Builds and verifies a request, then asks RunsOnIoThread about it.
bool Inline(const testing::BodyFn& body) {
  const std::string payload = BuildRequest(1, "alice", body);
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  EXPECT_NE(request, nullptr) << error;
  return request != nullptr && RunsOnIoThread(*request);
}

// The same for MayRunInline.
bool MayInline(const testing::BodyFn& body) {
  const std::string payload = BuildRequest(1, "alice", body);
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  EXPECT_NE(request, nullptr) << error;
  return request != nullptr && MayRunInline(*request);
}

bool ListConversations(int64_t skip, int64_t limit, const char* title = nullptr) {
  return Inline([&](Builder& fbb) {
    const auto title_offset =
        title ? fbb.CreateString(title) : flatbuffers::Offset<flatbuffers::String>();
    return Body(B::ListConversationsRequest,
                wire::CreateListConversationsRequest(fbb, wire::ConversationOrder::updated_desc,
                                                     skip, limit, 0, false, title_offset));
  });
}

TEST(OpTableTest, PointReadsAndSmallUnfilteredPagesRunInline) {
  const wire::Id id;
  EXPECT_TRUE(Inline([&](Builder& fbb) {
    return Body(B::GetConversationRequest, wire::CreateGetConversationRequest(fbb, &id, false));
  }));
  EXPECT_TRUE(ListConversations(0, 10));
  EXPECT_TRUE(ListConversations(100, 100));
  EXPECT_TRUE(Inline([&](Builder& fbb) {
    return Body(B::LastMessagesRequest, wire::CreateLastMessagesRequest(fbb, &id, 50));
  }));
}

TEST(OpTableTest, DeepPagesFiltersWritesAndSearchesGoToWorkers) {
  EXPECT_FALSE(ListConversations(10000, 10));      // 10k-deep pagination scans
  EXPECT_FALSE(ListConversations(0, 201));         // over the bound
  EXPECT_FALSE(ListConversations(-1, 10));         // invalid: the worker reports it
  EXPECT_FALSE(ListConversations(0, 10, "trip"));  // title search scans every conversation
  EXPECT_FALSE(Inline([](Builder& fbb) {
    const auto conversation = wire::CreateNewConversation(fbb, nullptr, fbb.CreateString("t"));
    return Body(B::CreateConversationRequest,
                wire::CreateCreateConversationRequest(fbb, conversation));
  }));
  const wire::Id id;
  EXPECT_FALSE(Inline([&](Builder& fbb) {
    return Body(B::LastMessagesRequest, wire::CreateLastMessagesRequest(fbb, &id, 100000));
  }));
}

TEST(OpTableTest, SingleSearchesAndRowWritesMayRunInlineButBatchesAndAdminNever) {
  EXPECT_TRUE(MayInline([](Builder& fbb) {
    const auto conversation = wire::CreateNewConversation(fbb, nullptr, fbb.CreateString("t"));
    return Body(B::CreateConversationRequest,
                wire::CreateCreateConversationRequest(fbb, conversation));
  }));
  EXPECT_TRUE(MayInline(
      [](Builder& fbb) { return Body(B::SearchRequest, wire::CreateSearchRequest(fbb)); }));
  EXPECT_FALSE(MayInline([](Builder& fbb) {
    return Body(B::SearchBatchRequest, wire::CreateSearchBatchRequest(fbb));
  }));
  EXPECT_FALSE(MayInline(
      [](Builder& fbb) { return Body(B::AddChunksRequest, wire::CreateAddChunksRequest(fbb)); }));
  EXPECT_FALSE(MayInline(
      [](Builder& fbb) { return Body(B::ApplyBatchRequest, wire::CreateApplyBatchRequest(fbb)); }));
  EXPECT_FALSE(MayInline([](Builder& fbb) {
    return Body(B::CreateBackupRequest,
                wire::CreateCreateBackupRequest(fbb, fbb.CreateString("/tmp/b")));
  }));
  EXPECT_FALSE(MayInline([](Builder& fbb) {  // a title search scans every conversation
    return Body(B::ListConversationsRequest,
                wire::CreateListConversationsRequest(fbb, wire::ConversationOrder::updated_desc, 0,
                                                     10, 0, false, fbb.CreateString("trip")));
  }));
}

TEST(InlineSlotsTest, GrantsAtMostCapacityAndLeasesGiveBack) {
  InlineSlots none(0);
  EXPECT_FALSE(none.TryAcquire());
  InlineSlots slots(2);
  {
    InlineSlots::Lease first(slots);
    InlineSlots::Lease second(slots);
    InlineSlots::Lease third(slots);
    EXPECT_TRUE(first);
    EXPECT_TRUE(second);
    EXPECT_FALSE(third);
    EXPECT_EQ(slots.in_use(), 2u);
  }
  EXPECT_EQ(slots.in_use(), 0u);
  EXPECT_TRUE(slots.TryAcquire());
  slots.Release();
}

TEST(OpTableTest, WritesAreTheRequestsThatChangeData) {
  using B = wire::RequestBody;
  for (const B write : {B::CreateConversationRequest, B::AppendMessageRequest,
                        B::DeleteDocumentRequest, B::AddChunksRequest, B::ApplyBatchRequest,
                        B::DropPartitionRequest, B::ApplyRetentionRequest}) {
    EXPECT_TRUE(IsWrite(write)) << OpName(write);
  }
  for (const B read :
       {B::Hello, B::GetConversationRequest, B::ListMessagesRequest, B::SearchRequest,
        B::AssembleContextRequest, B::GetStatsRequest, B::CreateBackupRequest,
        B::RebuildPartitionRequest, B::FollowRequest, B::NONE}) {
    EXPECT_FALSE(IsWrite(read)) << OpName(read);
  }
}

}  // namespace
}  // namespace mnemo::server
