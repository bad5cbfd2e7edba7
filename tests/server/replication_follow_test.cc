// Following over the protocol: a real mnemod with its replication log on is the primary; this
// process is the replica, an engine of its own that pulls the primary's records with
// FollowRequest (asking from N acknowledges everything below N), applies each with
// Engine::ApplyLogged, and must then answer as the primary does.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "mnemo/base/uuid.h"
#include "mnemo/engine.h"
#include "mnemod_process.h"
#include "server/testing/wire_helpers.h"
#include "testing/temp_dir.h"

namespace mnemo::server::testing {
namespace {

using B = wire::RequestBody;
using namespace std::chrono_literals;

constexpr uint32_t kDim = 8;  // MnemodProcess starts mnemod with --dimension 8
constexpr char kUser[] = "follower-test";

ParsedResponse RoundTrip(RawConnection& connection, const std::string& payload) {
  EXPECT_TRUE(connection.SendFrame(payload));
  auto frame = connection.ReadFrame(10s);
  EXPECT_TRUE(frame) << "no response";
  return ParsedResponse(frame.value_or(std::string()));
}

Uuid FromWire(const wire::Id& id) { return Uuid::FromHalves(id.hi(), id.lo()); }

std::string Follow(uint64_t id, uint64_t from, uint32_t max_records,
                   uint32_t max_bytes = 4u << 20) {
  return BuildRequest(id, "", [&](Builder& fbb) {
    return Body(B::FollowRequest, wire::CreateFollowRequest(fbb, from, max_records, max_bytes));
  });
}

std::string AppendMessage(uint64_t id, const wire::Id& conversation, int i) {
  return BuildRequest(id, kUser, [&](Builder& fbb) {
    std::vector<float> embedding(kDim);
    for (uint32_t d = 0; d < kDim; ++d) embedding[d] = std::cos(static_cast<float>(i * 7 + d));
    const auto message = wire::CreateNewMessage(
        fbb, nullptr, &conversation, fbb.CreateString(i % 2 == 0 ? "user" : "assistant"),
        fbb.CreateString("message number " + std::to_string(i)), 0, 0, 0, 0, int64_t{i}, 0,
        i % 3 == 0 ? fbb.CreateVector(embedding) : 0);
    return Body(B::AppendMessageRequest, wire::CreateAppendMessageRequest(fbb, message));
  });
}

std::string GetConversation(uint64_t id, const wire::Id& conversation) {
  return BuildRequest(id, kUser, [&](Builder& fbb) {
    return Body(B::GetConversationRequest, wire::CreateGetConversationRequest(fbb, &conversation));
  });
}

class FollowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = MnemodProcess::Start(dir_.Sub("primary"),
                                        {"--log-level", "warn", "--replication-log", "true"});
    ASSERT_TRUE(started) << "mnemod did not start";
    primary_ = std::make_unique<MnemodProcess>(std::move(*started));
    connection_ = std::make_unique<RawConnection>(primary_->port());
    ASSERT_TRUE(connection_->connected());
    ASSERT_TRUE(RoundTrip(*connection_, HelloRequest(1)).ok());
    EngineOptions options;
    options.data_dir = dir_.Sub("replica");
    options.dimension = kDim;
    options.replication_log = true;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    replica_ = std::move(opened).value();
  }

  void TearDown() override {
    if (primary_) {
      EXPECT_EQ(primary_->Stop(SIGTERM, 30s), 0) << primary_->Log();
    }
  }

  // Pulls and applies until the replica holds the primary's last record; returns how many
  // requests that took.
  int CatchUp(uint32_t max_records) {
    int requests = 0;
    for (;;) {
      const uint64_t from = replica_->LastLogSeq() + 1;
      auto reply = RoundTrip(*connection_, Follow(next_id_++, from, max_records));
      ++requests;
      EXPECT_TRUE(reply.ok()) << reply.message();
      if (!reply.ok()) return requests;
      const wire::FollowReply* follow = reply->body_as_FollowReply();
      EXPECT_LE(follow->records()->size(), max_records);
      for (const wire::LogEntry* entry : *follow->records()) {
        LogRecord record;
        record.seq = entry->seq();
        record.record.assign(reinterpret_cast<const char*>(entry->record()->data()),
                             entry->record()->size());
        const Status applied = replica_->ApplyLogged(record);
        EXPECT_TRUE(applied.ok()) << "record " << record.seq << ": " << applied.ToString();
        if (!applied.ok()) return requests;
      }
      if (replica_->LastLogSeq() >= follow->last_seq()) return requests;
    }
  }

  // The conversation as the primary and the replica answer it.
  void ExpectSameConversation(const wire::Id& id) {
    auto on_primary = RoundTrip(*connection_, GetConversation(next_id_++, id));
    ASSERT_TRUE(on_primary.ok()) << on_primary.message();
    const wire::Conversation* primary = on_primary->body_as_ConversationReply()->conversation();
    auto replica = replica_->GetConversation(kUser, FromWire(id));
    ASSERT_TRUE(replica.ok()) << replica.status().ToString();
    EXPECT_EQ(replica->title, primary->title()->str());
    EXPECT_EQ(replica->created_at, primary->created_at());
    EXPECT_EQ(replica->updated_at, primary->updated_at());
    EXPECT_EQ(replica->message_count, primary->message_count());
    EXPECT_EQ(replica->total_tokens, primary->total_tokens());
  }

  mnemo::testing::TempDir dir_;
  std::unique_ptr<MnemodProcess> primary_;
  std::unique_ptr<RawConnection> connection_;
  std::unique_ptr<Engine> replica_;
  uint64_t next_id_ = 10;
};

TEST_F(FollowTest, ReplicaPullsAppliesAndResumes) {
  auto created =
      RoundTrip(*connection_, CreateConversationRequest(next_id_++, kUser, "replicated"));
  ASSERT_TRUE(created.ok()) << created.message();
  const wire::Id conversation = *created->body_as_ConversationReply()->conversation()->id();
  for (int i = 0; i < 20; ++i) {
    auto appended = RoundTrip(*connection_, AppendMessage(next_id_++, conversation, i));
    ASSERT_TRUE(appended.ok()) << appended.message();
  }
  // 21 records, 8 at a time: three requests.
  EXPECT_EQ(CatchUp(8), 3);
  EXPECT_EQ(replica_->LastLogSeq(), 21u);
  ExpectSameConversation(conversation);

  // More writes; following resumes where the replica stopped.
  for (int i = 20; i < 25; ++i) {
    ASSERT_TRUE(RoundTrip(*connection_, AppendMessage(next_id_++, conversation, i)).ok());
  }
  EXPECT_EQ(CatchUp(100), 1);
  EXPECT_EQ(replica_->LastLogSeq(), 26u);
  ExpectSameConversation(conversation);
  auto messages = replica_->LastMessages(kUser, FromWire(conversation), 3);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ(messages->back().content, "message number 24");

  // Caught up: an empty answer that names the last sequence.
  auto idle = RoundTrip(*connection_, Follow(next_id_++, 27, 10));
  ASSERT_TRUE(idle.ok()) << idle.message();
  EXPECT_EQ(idle->body_as_FollowReply()->records()->size(), 0u);
  EXPECT_EQ(idle->body_as_FollowReply()->last_seq(), 26u);
}

TEST_F(FollowTest, ARecordLargerThanMaxBytesStillComesOneAtATime) {
  // Each record (a conversation, a message) is far larger than 16 bytes.
  auto created = RoundTrip(*connection_, CreateConversationRequest(next_id_++, kUser, "large"));
  ASSERT_TRUE(created.ok()) << created.message();
  const wire::Id conversation = *created->body_as_ConversationReply()->conversation()->id();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RoundTrip(*connection_, AppendMessage(next_id_++, conversation, i)).ok());
  }
  for (uint64_t from = 1; from <= 4; ++from) {
    auto reply = RoundTrip(*connection_, Follow(next_id_++, from, 10, 16));
    ASSERT_TRUE(reply.ok()) << "record " << from << ": " << reply.message();
    const wire::FollowReply* follow = reply->body_as_FollowReply();
    ASSERT_EQ(follow->records()->size(), 1u) << "record " << from;
    EXPECT_EQ(follow->records()->Get(0)->seq(), from);
    EXPECT_GT(follow->records()->Get(0)->record()->size(), 16u);
  }
}

TEST_F(FollowTest, BadFollowRequestsAreRefused) {
  auto zero = RoundTrip(*connection_, Follow(next_id_++, 0, 10));
  EXPECT_EQ(zero.code(), wire::StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(zero.field(), "from");
  auto none = RoundTrip(*connection_, Follow(next_id_++, 1, 0));
  EXPECT_EQ(none.code(), wire::StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(none.field(), "max_records");
}

}  // namespace
}  // namespace mnemo::server::testing
