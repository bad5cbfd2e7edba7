// Integration tests of how mnemod writes its replies: the replies to pipelined point reads come
// back complete and in request order; replies larger than the socket buffers survive a client
// that reads late; and a connection whose reading paused at the queued-bytes limit goes on
// answering the requests it has already read once the replies drain, with or without the
// client's EOF.  The real binary on 127.0.0.1, raw protocol over sockets.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/base/uuid.h"
#include "mnemod_process.h"
#include "protocol/frame.h"
#include "server/testing/wire_helpers.h"
#include "testing/temp_dir.h"

namespace mnemo::server::testing {
namespace {

using B = wire::RequestBody;
using namespace std::chrono_literals;

constexpr size_t kTitleBytes = 250;
constexpr size_t kSummaryBytes = 2000;

std::string GetConversation(uint64_t id, std::string_view user, const wire::Id& conversation) {
  return BuildRequest(id, user, [&](Builder& fbb) {
    return Body(B::GetConversationRequest, wire::CreateGetConversationRequest(fbb, &conversation));
  });
}

std::string ListNewest(uint64_t id, std::string_view user, int64_t limit) {
  return BuildRequest(id, user, [&](Builder& fbb) {
    return Body(
        B::ListConversationsRequest,
        wire::CreateListConversationsRequest(fbb, wire::ConversationOrder::created_desc, 0, limit));
  });
}

ParsedResponse Read(RawConnection& connection) {
  auto frame = connection.ReadFrame(10s);
  EXPECT_TRUE(frame) << "no response";
  return ParsedResponse(frame.value_or(std::string()));
}

ParsedResponse RoundTrip(RawConnection& connection, const std::string& payload) {
  EXPECT_TRUE(connection.SendFrame(payload));
  return Read(connection);
}

void Hello(RawConnection& connection) {
  ASSERT_TRUE(connection.connected());
  auto hello = RoundTrip(connection, HelloRequest(1));
  ASSERT_TRUE(hello.ok()) << hello.message();
}

// Creates `count` conversations of `user` with titles "<i>:aaa…" (kTitleBytes) and summaries of
// kSummaryBytes, in one batch; returns their ids in creation order.
std::vector<wire::Id> CreateLarge(RawConnection& connection, std::string_view user, int count) {
  auto batch = RoundTrip(connection, BuildRequest(2, user, [&](Builder& fbb) {
                           std::vector<flatbuffers::Offset<wire::BatchOp>> ops;
                           for (int i = 0; i < count; ++i) {
                             std::string title = std::to_string(i) + ":";
                             title.resize(kTitleBytes, 'a');
                             ops.push_back(wire::CreateBatchOp(
                                 fbb, wire::CreateNewConversation(
                                          fbb, nullptr, fbb.CreateString(title),
                                          fbb.CreateString(std::string(kSummaryBytes, 's')))));
                           }
                           return Body(B::ApplyBatchRequest,
                                       wire::CreateApplyBatchRequest(fbb, fbb.CreateVector(ops)));
                         }));
  EXPECT_TRUE(batch.ok()) << batch.message();
  std::vector<wire::Id> ids;
  if (!batch.ok()) return ids;
  for (const wire::Id* id : *batch->body_as_BatchReply()->ids()) ids.push_back(*id);
  return ids;
}

bool SameId(const wire::Id& a, const wire::Id& b) { return a.hi() == b.hi() && a.lo() == b.lo(); }

// Reads `count` list replies with ids first_id, first_id + 1, ... in that order, each complete
// (`rows` conversations of full size).
void ExpectListReplies(RawConnection& connection, uint64_t first_id, int count, int rows) {
  for (int i = 0; i < count; ++i) {
    auto reply = Read(connection);
    ASSERT_TRUE(reply.ok()) << "reply " << i << ": " << reply.message();
    ASSERT_EQ(reply->id(), first_id + static_cast<uint64_t>(i));
    const wire::ConversationPage* page = reply->body_as_ConversationPage();
    ASSERT_NE(page, nullptr);
    ASSERT_EQ(page->items()->size(), static_cast<size_t>(rows));
    for (const wire::Conversation* row : *page->items()) {
      ASSERT_EQ(row->title()->size(), kTitleBytes);
      ASSERT_EQ(row->summary()->size(), kSummaryBytes);
    }
  }
}

TEST(MnemodRepliesTest, PipelinedPointReadsAreAnsweredInRequestOrder) {
  mnemo::testing::TempDir dir;
  auto server = MnemodProcess::Start(dir.Sub("data"), {"--log-level", "warn"});
  ASSERT_TRUE(server);
  RawConnection connection(server->port());
  Hello(connection);
  constexpr int kConversations = 20;
  const std::vector<wire::Id> ids = CreateLarge(connection, "reader", kConversations);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kConversations));

  // One burst of gets (point reads, answered on the I/O thread), several per conversation in a
  // shuffled order, sent in one write so that the server reads many at a time.
  constexpr int kGets = 300;
  std::string burst;
  std::vector<int> asked;  // conversation index per request
  for (int i = 0; i < kGets; ++i) {
    const int which = (i * 7 + 3) % kConversations;
    asked.push_back(which);
    protocol::AppendFrame(GetConversation(100 + i, "reader", ids[which]), &burst);
  }
  ASSERT_TRUE(connection.SendBytes(burst));
  for (int i = 0; i < kGets; ++i) {
    auto reply = Read(connection);
    ASSERT_TRUE(reply.ok()) << reply.message();
    ASSERT_EQ(reply->id(), static_cast<uint64_t>(100 + i)) << "reply " << i << " out of order";
    const wire::Conversation* row = reply->body_as_ConversationReply()->conversation();
    EXPECT_TRUE(SameId(*row->id(), ids[asked[i]])) << "reply " << i;
    EXPECT_EQ(row->title()->str().substr(0, row->title()->str().find(':')),
              std::to_string(asked[i]));
  }
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();
}

// Replies far larger than the socket buffers, asked for in one burst by a client that only starts
// reading later: the server writes what the socket takes at once and the rest as it drains.
TEST(MnemodRepliesTest, LargeRepliesToALateReaderArriveWhole) {
  mnemo::testing::TempDir dir;
  auto server = MnemodProcess::Start(dir.Sub("data"), {"--log-level", "warn"});
  ASSERT_TRUE(server);
  RawConnection connection(server->port());
  Hello(connection);
  constexpr int kRows = 100;  // ~240 KB per reply
  ASSERT_EQ(CreateLarge(connection, "big", kRows).size(), static_cast<size_t>(kRows));

  constexpr int kLists = 40;  // ~10 MB of replies
  std::string burst;
  for (int i = 0; i < kLists; ++i) protocol::AppendFrame(ListNewest(100 + i, "big", kRows), &burst);
  ASSERT_TRUE(connection.SendBytes(burst));
  std::this_thread::sleep_for(300ms);  // the server fills the socket buffers meanwhile
  ExpectListReplies(connection, 100, kLists, kRows);
  // The connection still serves.
  auto again = RoundTrip(connection, ListNewest(500, "big", 1));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(again->id(), 500u);
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();
}

// With a queued-bytes limit below one reply, the server stops taking requests after each reply
// until it is written; complete requests it has already read must still be answered when the
// write goes out at once (no write completion comes to resume it), also after the client's EOF.
TEST(MnemodRepliesTest, RequestsReadBeyondTheQueuedBytesLimitAreAnswered) {
  mnemo::testing::TempDir dir;
  auto server = MnemodProcess::Start(dir.Sub("data"),
                                     {"--log-level", "warn", "--max-queued-bytes", "1024"});
  ASSERT_TRUE(server);
  RawConnection setup(server->port());
  Hello(setup);
  constexpr int kRows = 3;  // ~7 KB per reply: over the limit, well under the socket buffers
  ASSERT_EQ(CreateLarge(setup, "limited", kRows).size(), static_cast<size_t>(kRows));

  constexpr int kLists = 50;
  std::string burst;
  for (int i = 0; i < kLists; ++i)
    protocol::AppendFrame(ListNewest(100 + i, "limited", kRows), &burst);
  for (const bool eof : {false, true}) {
    SCOPED_TRACE(eof ? "then EOF" : "connection kept open");
    RawConnection connection(server->port());
    Hello(connection);
    ASSERT_TRUE(connection.SendBytes(burst));  // one write: the server reads it all at once
    if (eof) connection.ShutdownSend();
    ExpectListReplies(connection, 100, kLists, kRows);
    if (eof) {
      EXPECT_TRUE(connection.WaitForClose(10s));
    }
  }
  EXPECT_EQ(server->Stop(SIGTERM, 30s), 0) << server->Log();
}

}  // namespace
}  // namespace mnemo::server::testing
