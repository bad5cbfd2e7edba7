#include "replication/write_record.h"

#include <gtest/gtest.h>

namespace mnemo::replication {
namespace {

NewMessage FullMessage() {
  NewMessage m;
  m.id = Uuid::FromHalves(1, 2);
  m.conversation_id = Uuid::FromHalves(3, 4);
  m.role = "assistant";
  m.content = std::string("hello\0world", 11);
  m.parts = "[]";
  m.tool_calls = "[{\"name\":\"f\"}]";
  m.attachments = "[]";
  m.tokens_used = -3;
  m.metadata = "{\"k\":\"v\"}";
  m.embedding = {0.5f, -0.25f, 1e-30f};
  return m;
}

NewChunk FullChunk() {
  NewChunk c;
  c.id = Uuid::FromHalves(5, 6);
  c.document_id = Uuid::FromHalves(7, 8);
  c.chunk_index = 7;
  c.chunk_text = "text";
  c.embedding = {1.0f, 0.0f};
  c.metadata = "{}";
  c.created_at = 1700000000000000;
  return c;
}

void ExpectSameMessage(const NewMessage& a, const NewMessage& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.conversation_id, b.conversation_id);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.content, b.content);
  EXPECT_EQ(a.parts, b.parts);
  EXPECT_EQ(a.tool_calls, b.tool_calls);
  EXPECT_EQ(a.tool_results, b.tool_results);
  EXPECT_EQ(a.attachments, b.attachments);
  EXPECT_EQ(a.tokens_used, b.tokens_used);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.embedding, b.embedding);
}

void ExpectSameChunk(const NewChunk& a, const NewChunk& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.document_id, b.document_id);
  EXPECT_EQ(a.chunk_index, b.chunk_index);
  EXPECT_EQ(a.chunk_text, b.chunk_text);
  EXPECT_EQ(a.embedding, b.embedding);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.created_at, b.created_at);
}

std::string BatchRecord(std::vector<WriteOp> ops) {
  std::string record;
  PutHeader(&record, {Kind::kApplyBatch, 3, -5, "user-1"});
  PutOps(&record, ops);
  return record;
}

std::vector<WriteOp> EveryOp() {
  NewConversation conversation;
  conversation.id = Uuid::Generate();
  conversation.title = "t";
  conversation.model = "m";
  NewDocument document;
  document.filename = "a.md";
  document.file_type = "md";
  document.content = "c";
  document.metadata = "{}";
  return {CreateConversationOp{conversation}, UpsertConversationOp{conversation},
          AppendMessageOp{FullMessage()},     UpsertMessageOp{NewMessage{}},
          CreateDocumentOp{document},         AddChunkOp{FullChunk()}};
}

TEST(WriteRecordTest, BatchRoundTrips) {
  const std::vector<WriteOp> ops = EveryOp();
  auto decoded = DecodeRecord(BatchRecord(ops));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->header.kind, Kind::kApplyBatch);
  EXPECT_EQ(decoded->header.epoch, 3u);
  EXPECT_EQ(decoded->header.now, -5);
  EXPECT_EQ(decoded->header.user_id, "user-1");
  ASSERT_EQ(decoded->ops.size(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(decoded->ops[i].index(), ops[i].index());
  const auto& conversation = std::get<CreateConversationOp>(decoded->ops[0]).conversation;
  EXPECT_EQ(conversation.id, std::get<CreateConversationOp>(ops[0]).conversation.id);
  EXPECT_EQ(conversation.model, "m");
  EXPECT_FALSE(conversation.summary.has_value());
  ExpectSameMessage(std::get<AppendMessageOp>(decoded->ops[2]).message, FullMessage());
  const auto& document = std::get<CreateDocumentOp>(decoded->ops[4]).document;
  EXPECT_FALSE(document.id.has_value());
  EXPECT_EQ(document.content, "c");
  ExpectSameChunk(std::get<AddChunkOp>(decoded->ops[5]).chunk, FullChunk());
}

TEST(WriteRecordTest, UpdatesRoundTrip) {
  MessageUpdate update;
  update.content = "new";
  update.clear_tokens_used = true;
  update.tokens_used = 4;
  const Uuid id = Uuid::Generate();
  std::string record;
  PutHeader(&record, {Kind::kUpdateMessage, 0, 1, "u"});
  PutId(&record, id);
  PutMessageUpdate(&record, update);
  auto decoded = DecodeRecord(record);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->id, id);
  EXPECT_EQ(decoded->message_update.content, "new");
  EXPECT_TRUE(decoded->message_update.clear_tokens_used);
  EXPECT_EQ(decoded->message_update.tokens_used, 4);
  EXPECT_FALSE(decoded->message_update.role.has_value());
}

TEST(WriteRecordTest, EveryTruncationIsRefused) {
  const std::string record = BatchRecord(EveryOp());
  for (size_t size = 0; size < record.size(); ++size) {
    auto decoded = DecodeRecord(std::string_view(record).substr(0, size));
    ASSERT_FALSE(decoded.ok()) << "prefix of " << size << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), StatusCode::kValidationError);
    EXPECT_EQ(decoded.status().field(), "record");
  }
}

TEST(WriteRecordTest, UnknownVersionKindOpAndTrailingBytesAreRefused) {
  const std::string record = BatchRecord(EveryOp());
  std::string version = record;
  version[0] = 2;
  EXPECT_NE(DecodeRecord(version).status().message().find("unknown record version 2"),
            std::string::npos);
  std::string kind = record;
  kind[1] = static_cast<char>(kMaxKind + 1);
  EXPECT_NE(DecodeRecord(kind).status().message().find("unknown record kind"), std::string::npos);
  kind[1] = 0;
  EXPECT_FALSE(DecodeRecord(kind).ok());

  std::string op;
  PutHeader(&op, {Kind::kApplyBatch, 0, 0, "u"});
  op += '\x01';  // one op
  op += '\x09';  // of no known kind
  op += std::string(8, '\0');
  EXPECT_NE(DecodeRecord(op).status().message().find("unknown batch op 9"), std::string::npos);

  EXPECT_NE(DecodeRecord(record + "x").status().message().find("left over"), std::string::npos);
}

TEST(WriteRecordTest, HugeCountsAreRefusedWithoutAllocating) {
  std::string record;
  PutHeader(&record, {Kind::kAddChunks, 0, 0, "u"});
  record += "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";  // a chunk count of 2^63 - 1
  auto decoded = DecodeRecord(record);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("bad count of chunks"), std::string::npos);
}

}  // namespace
}  // namespace mnemo::replication
