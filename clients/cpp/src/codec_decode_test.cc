// The decoders against the schema: every response type, built by hand as the server would,
// decodes into the client's values; errors map to the SPEC §4 codes.
#include <gtest/gtest.h>

#include "codec.h"
#include "protocol/verify.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;

const Uuid kIdA = *Uuid::Parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
const Uuid kIdB = *Uuid::Parse("11111111-2222-7333-8444-555555555555");

// ---- responses ---------------------------------------------------------------------------------

// Builds a Response around a body made by `make`, verifies it and decodes it with `decode`.
class ResponseFixture {
 public:
  template <typename MakeBody>
  const wire::Response& Build(wire::ResponseBody type, MakeBody make) {
    fb::FlatBufferBuilder fbb;
    const fb::Offset<void> body = make(fbb);
    fbb.Finish(wire::CreateResponse(fbb, 99, 0, type, body), wire::RequestIdentifier());
    return Keep(fbb);
  }
  const wire::Response& BuildError(uint8_t code, const std::string& message,
                                   const std::string& field) {
    fb::FlatBufferBuilder fbb;
    const auto m = fbb.CreateString(message);
    const auto f = fbb.CreateString(field);
    const auto error = wire::CreateError(fbb, static_cast<wire::StatusCode>(code), m, f);
    fbb.Finish(wire::CreateResponse(fbb, 99, error), wire::RequestIdentifier());
    return Keep(fbb);
  }

 private:
  const wire::Response& Keep(fb::FlatBufferBuilder& fbb) {
    payload_.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    std::string why;
    const wire::Response* response = protocol::VerifyResponse(payload_, &why);
    EXPECT_NE(response, nullptr) << why;
    return *response;
  }
  std::string payload_;
};

fb::Offset<wire::Conversation> MakeConversation(fb::FlatBufferBuilder& fbb, const Uuid& id,
                                                bool with_optionals) {
  const wire::Id wid = UuidToWire(id);
  const auto user = fbb.CreateString("alice");
  const auto title = fbb.CreateString("Trip");
  const auto summary = with_optionals ? fbb.CreateString("sum") : fb::Offset<fb::String>();
  const auto model = fbb.CreateString("m");
  const auto prompt = fbb.CreateString("p");
  const auto metadata = fbb.CreateString("{}");
  return wire::CreateConversation(fbb, &wid, user, title, summary, model, prompt, metadata,
                                  with_optionals,
                                  with_optionals ? fb::Optional<int64_t>(5) : fb::nullopt, 1, 2, 3,
                                  4, with_optionals ? fb::Optional<int64_t>(6) : fb::nullopt);
}

fb::Offset<wire::Message> MakeMessage(fb::FlatBufferBuilder& fbb, const Uuid& id, wire::Role role,
                                      bool with_optionals) {
  const wire::Id wid = UuidToWire(id);
  const wire::Id cid = UuidToWire(kIdB);
  const auto content = fbb.CreateString("hi");
  auto opt = [&](const char* text) {
    return with_optionals ? fbb.CreateString(text) : fb::Offset<fb::String>();
  };
  const auto parts = opt("[]");
  const auto calls = opt("[1]");
  const auto results = opt("[2]");
  const auto attachments = opt("[3]");
  const auto metadata = fbb.CreateString("{\"m\":1}");
  return wire::CreateMessage(fbb, &wid, &cid, role, content, parts, calls, results, attachments,
                             with_optionals ? fb::Optional<int64_t>(12) : fb::nullopt, metadata,
                             77);
}

fb::Offset<wire::Document> MakeDocument(fb::FlatBufferBuilder& fbb, const Uuid& id) {
  const wire::Id wid = UuidToWire(id);
  return wire::CreateDocument(fbb, &wid, fbb.CreateString("alice"), fbb.CreateString("a.md"),
                              fbb.CreateString("md"), fbb.CreateString("body"), 3,
                              fbb.CreateString("{}"), true, 9, 10, 11);
}

TEST(CodecResponseTest, HelloReply) {
  ResponseFixture f;
  const auto& r = f.Build(wire::ResponseBody::HelloReply, [](fb::FlatBufferBuilder& fbb) {
    return wire::CreateHelloReply(fbb, 1, fbb.CreateString("0.1.0"), 1024, 16, 1536,
                                  fbb.CreateString("service"))
        .Union();
  });
  auto info = DecodeHelloReply(r);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->protocol_version, 1u);
  EXPECT_EQ(info->server_version, "0.1.0");
  EXPECT_EQ(info->max_frame_bytes, 1024u);
  EXPECT_EQ(info->max_in_flight, 16u);
  EXPECT_EQ(info->dimension, 1536u);
  EXPECT_EQ(info->principal, "service");
}

TEST(CodecResponseTest, ConversationReplyAndPage) {
  ResponseFixture f;
  auto full = DecodeConversation(f.Build(wire::ResponseBody::ConversationReply, [](auto& fbb) {
    const auto c = MakeConversation(fbb, kIdA, true);
    return wire::CreateConversationReply(fbb, c).Union();
  }));
  ASSERT_TRUE(full.ok()) << full.error().ToString();
  EXPECT_EQ(full->id, kIdA);
  EXPECT_EQ(full->user_id, "alice");
  EXPECT_EQ(full->title, "Trip");
  EXPECT_EQ(full->summary, "sum");
  EXPECT_EQ(full->model, "m");
  EXPECT_EQ(full->system_prompt, "p");
  EXPECT_EQ(full->metadata, "{}");
  EXPECT_TRUE(full->is_deleted);
  EXPECT_EQ(full->deleted_at, 5);
  EXPECT_EQ(full->created_at, 1);
  EXPECT_EQ(full->updated_at, 2);
  EXPECT_EQ(full->message_count, 3);
  EXPECT_EQ(full->total_tokens, 4);
  EXPECT_EQ(full->last_message_at, 6);

  auto page = DecodeConversationPage(f.Build(wire::ResponseBody::ConversationPage, [](auto& fbb) {
    std::vector<fb::Offset<wire::Conversation>> items = {MakeConversation(fbb, kIdA, false),
                                                         MakeConversation(fbb, kIdB, true)};
    const auto v = fbb.CreateVector(items);
    return wire::CreateConversationPage(fbb, v, 42, fbb.CreateString("next")).Union();
  }));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, kIdA);
  EXPECT_FALSE(page->items[0].summary.has_value());
  EXPECT_FALSE(page->items[0].deleted_at.has_value());
  EXPECT_FALSE(page->items[0].last_message_at.has_value());
  EXPECT_EQ(page->items[1].id, kIdB);
  EXPECT_EQ(page->total, 42);
  EXPECT_EQ(page->next_cursor, "next");
}

TEST(CodecResponseTest, UserStats) {
  ResponseFixture f;
  auto stats = DecodeUserStats(f.Build(wire::ResponseBody::UserStats, [](auto& fbb) {
    return wire::CreateUserStats(fbb, 5, 3, 2, 1234).Union();
  }));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total, 5);
  EXPECT_EQ(stats->active, 3);
  EXPECT_EQ(stats->deleted, 2);
  EXPECT_EQ(stats->last_activity, 1234);
  auto empty = DecodeUserStats(f.Build(
      wire::ResponseBody::UserStats, [](auto& fbb) { return wire::CreateUserStats(fbb).Union(); }));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->last_activity.has_value());
}

TEST(CodecResponseTest, MessageReplyListAndOptional) {
  ResponseFixture f;
  auto message = DecodeMessage(f.Build(wire::ResponseBody::MessageReply, [](auto& fbb) {
    const auto m = MakeMessage(fbb, kIdA, wire::Role::tool, true);
    return wire::CreateMessageReply(fbb, m).Union();
  }));
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->id, kIdA);
  EXPECT_EQ(message->conversation_id, kIdB);
  EXPECT_EQ(message->role, Role::kTool);
  EXPECT_EQ(message->content, "hi");
  EXPECT_EQ(message->parts, "[]");
  EXPECT_EQ(message->tool_calls, "[1]");
  EXPECT_EQ(message->tool_results, "[2]");
  EXPECT_EQ(message->attachments, "[3]");
  EXPECT_EQ(message->tokens_used, 12);
  EXPECT_EQ(message->metadata, "{\"m\":1}");
  EXPECT_EQ(message->created_at, 77);

  const auto& none = f.Build(wire::ResponseBody::MessageReply,
                             [](auto& fbb) { return wire::CreateMessageReply(fbb).Union(); });
  auto optional = DecodeOptionalMessage(none);
  ASSERT_TRUE(optional.ok());
  EXPECT_FALSE(optional->has_value());
  EXPECT_EQ(DecodeMessage(none).code(), Code::kNotFound);

  auto list_response = [](auto& fbb) {
    std::vector<fb::Offset<wire::Message>> items = {
        MakeMessage(fbb, kIdA, wire::Role::user, false),
        MakeMessage(fbb, kIdB, wire::Role::assistant, true)};
    const auto v = fbb.CreateVector(items);
    return wire::CreateMessageList(fbb, v, 7, fbb.CreateString("more")).Union();
  };
  auto page = DecodeMessagePage(f.Build(wire::ResponseBody::MessageList, list_response));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].role, Role::kUser);
  EXPECT_FALSE(page->items[0].tokens_used.has_value());
  EXPECT_FALSE(page->items[0].parts.has_value());
  EXPECT_EQ(page->items[1].role, Role::kAssistant);
  EXPECT_EQ(page->total, 7);
  EXPECT_EQ(page->next_cursor, "more");
  auto vector = DecodeMessages(f.Build(wire::ResponseBody::MessageList, list_response));
  ASSERT_TRUE(vector.ok());
  EXPECT_EQ(vector->size(), 2u);
}

TEST(CodecResponseTest, TokenStats) {
  ResponseFixture f;
  auto stats = DecodeTokenStats(f.Build(wire::ResponseBody::TokenStats, [](auto& fbb) {
    std::vector<fb::Offset<wire::RoleTokens>> roles = {
        wire::CreateRoleTokens(fbb, wire::Role::user, 2, 20),
        wire::CreateRoleTokens(fbb, wire::Role::assistant, 3, 90),
        wire::CreateRoleTokens(fbb, static_cast<wire::Role>(9), 1, 1)};  // unknown: ignored
    const auto v = fbb.CreateVector(roles);
    return wire::CreateTokenStats(fbb, 6, 5, 110, 22.0, v).Union();
  }));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->message_count, 6);
  EXPECT_EQ(stats->messages_with_tokens, 5);
  EXPECT_EQ(stats->total_tokens, 110);
  EXPECT_DOUBLE_EQ(stats->average_tokens, 22.0);
  EXPECT_EQ(stats->per_role[0].message_count, 2);
  EXPECT_EQ(stats->per_role[0].total_tokens, 20);
  EXPECT_EQ(stats->per_role[1].total_tokens, 90);
  EXPECT_EQ(stats->per_role[2].message_count, 0);
  EXPECT_EQ(stats->per_role[3].message_count, 0);
}

TEST(CodecResponseTest, CountDocumentsAndChunks) {
  ResponseFixture f;
  auto count = DecodeCount(f.Build(wire::ResponseBody::CountReply, [](auto& fbb) {
    return wire::CreateCountReply(fbb, 17).Union();
  }));
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 17);

  auto doc = DecodeDocument(f.Build(wire::ResponseBody::DocumentReply, [](auto& fbb) {
    const auto d = MakeDocument(fbb, kIdA);
    return wire::CreateDocumentReply(fbb, d).Union();
  }));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->id, kIdA);
  EXPECT_EQ(doc->user_id, "alice");
  EXPECT_EQ(doc->filename, "a.md");
  EXPECT_EQ(doc->file_type, "md");
  EXPECT_EQ(doc->content, "body");
  EXPECT_EQ(doc->total_chunks, 3);
  EXPECT_EQ(doc->metadata, "{}");
  EXPECT_TRUE(doc->is_deleted);
  EXPECT_EQ(doc->deleted_at, 9);
  EXPECT_EQ(doc->created_at, 10);
  EXPECT_EQ(doc->updated_at, 11);

  auto page = DecodeDocumentPage(f.Build(wire::ResponseBody::DocumentPage, [](auto& fbb) {
    std::vector<fb::Offset<wire::Document>> items = {MakeDocument(fbb, kIdB)};
    const auto v = fbb.CreateVector(items);
    return wire::CreateDocumentPage(fbb, v, 1).Union();
  }));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, kIdB);
  EXPECT_EQ(page->total, 1);
  EXPECT_EQ(page->next_cursor, "");

  auto counts = DecodeDocumentCounts(f.Build(wire::ResponseBody::DocumentCounts, [](auto& fbb) {
    return wire::CreateDocumentCounts(fbb, 4, 3, 1).Union();
  }));
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->total, 4);
  EXPECT_EQ(counts->active, 3);
  EXPECT_EQ(counts->deleted, 1);

  auto chunks = DecodeChunks(f.Build(wire::ResponseBody::ChunkList, [](auto& fbb) {
    const wire::Id id = UuidToWire(kIdA);
    const wire::Id doc_id = UuidToWire(kIdB);
    std::vector<fb::Offset<wire::Chunk>> items = {wire::CreateChunk(
        fbb, &id, &doc_id, 4, fbb.CreateString("text"), fbb.CreateString("{}"), 55)};
    const auto v = fbb.CreateVector(items);
    return wire::CreateChunkList(fbb, v).Union();
  }));
  ASSERT_TRUE(chunks.ok());
  ASSERT_EQ(chunks->size(), 1u);
  EXPECT_EQ((*chunks)[0].id, kIdA);
  EXPECT_EQ((*chunks)[0].document_id, kIdB);
  EXPECT_EQ((*chunks)[0].chunk_index, 4);
  EXPECT_EQ((*chunks)[0].chunk_text, "text");
  EXPECT_EQ((*chunks)[0].metadata, "{}");
  EXPECT_EQ((*chunks)[0].created_at, 55);
}

fb::Offset<wire::SearchReply> MakeSearchReply(fb::FlatBufferBuilder& fbb, float similarity) {
  const wire::Id chunk = UuidToWire(kIdA);
  const wire::Id doc = UuidToWire(kIdB);
  std::vector<fb::Offset<wire::SearchHit>> hits = {wire::CreateSearchHit(
      fbb, &chunk, &doc, 2, fbb.CreateString("txt"), fbb.CreateString("a.md"), similarity, 88)};
  const auto v = fbb.CreateVector(hits);
  return wire::CreateSearchReply(fbb, v, false, 64, true, 3);
}

TEST(CodecResponseTest, SearchAndSearchBatch) {
  ResponseFixture f;
  auto search = DecodeSearch(f.Build(wire::ResponseBody::SearchReply, [](auto& fbb) {
    return MakeSearchReply(fbb, 0.75f).Union();
  }));
  ASSERT_TRUE(search.ok());
  ASSERT_EQ(search->hits.size(), 1u);
  const SearchHit& hit = search->hits[0];
  EXPECT_EQ(hit.chunk_id, kIdA);
  EXPECT_EQ(hit.document_id, kIdB);
  EXPECT_EQ(hit.chunk_index, 2);
  EXPECT_EQ(hit.chunk_text, "txt");
  EXPECT_EQ(hit.filename, "a.md");
  EXPECT_FLOAT_EQ(hit.similarity, 0.75f);
  EXPECT_EQ(hit.created_at, 88);
  EXPECT_FALSE(search->exact);
  EXPECT_EQ(search->ef_used, 64u);
  EXPECT_TRUE(search->fewer_than_top_k);
  EXPECT_EQ(search->partitions_searched, 3);

  auto batch = DecodeSearchBatch(f.Build(wire::ResponseBody::SearchBatchReply, [](auto& fbb) {
    std::vector<fb::Offset<wire::SearchReply>> results = {MakeSearchReply(fbb, 0.5f),
                                                          MakeSearchReply(fbb, 0.25f)};
    const auto v = fbb.CreateVector(results);
    return wire::CreateSearchBatchReply(fbb, v).Union();
  }));
  ASSERT_TRUE(batch.ok());
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_FLOAT_EQ((*batch)[1].hits[0].similarity, 0.25f);
}

TEST(CodecResponseTest, BatchPartitionsAttachStatsDone) {
  ResponseFixture f;
  auto ids = DecodeBatchIds(f.Build(wire::ResponseBody::BatchReply, [](auto& fbb) {
    std::vector<wire::Id> list = {UuidToWire(kIdA), UuidToWire(kIdB)};
    const auto v = fbb.CreateVectorOfStructs(list);
    return wire::CreateBatchReply(fbb, v).Union();
  }));
  ASSERT_TRUE(ids.ok());
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0], kIdA);
  EXPECT_EQ((*ids)[1], kIdB);

  auto make_partition = [](fb::FlatBufferBuilder& fbb, const char* month) {
    return wire::CreatePartitionInfo(fbb, fbb.CreateString(month), 1, 2, 3, 4, 5);
  };
  auto partitions = DecodePartitions(f.Build(wire::ResponseBody::PartitionList, [&](auto& fbb) {
    std::vector<fb::Offset<wire::PartitionInfo>> items = {make_partition(fbb, "2026-10"),
                                                          make_partition(fbb, "2026-11")};
    const auto v = fbb.CreateVector(items);
    return wire::CreatePartitionList(fbb, v).Union();
  }));
  ASSERT_TRUE(partitions.ok());
  ASSERT_EQ(partitions->size(), 2u);
  EXPECT_EQ((*partitions)[1].month, "2026-11");
  EXPECT_EQ((*partitions)[0].rows, 1);
  EXPECT_EQ((*partitions)[0].vector_bytes, 2);
  EXPECT_EQ((*partitions)[0].index_bytes, 3);
  EXPECT_EQ((*partitions)[0].pending_rows, 4);
  EXPECT_EQ((*partitions)[0].deleted_in_index, 5);

  auto attach = DecodeAttach(f.Build(wire::ResponseBody::AttachReply, [](auto& fbb) {
    return wire::CreateAttachReply(fbb, 10, 2).Union();
  }));
  ASSERT_TRUE(attach.ok());
  EXPECT_EQ(attach->attached, 10);
  EXPECT_EQ(attach->skipped, 2);

  auto stats = DecodeStats(f.Build(wire::ResponseBody::StatsReply, [&](auto& fbb) {
    std::vector<fb::Offset<wire::PartitionInfo>> parts = {make_partition(fbb, "2026-11")};
    const auto p = fbb.CreateVector(parts);
    std::vector<fb::Offset<wire::OpStats>> ops = {
        wire::CreateOpStats(fbb, fbb.CreateString("Search"), 100, 1, 250.0, 900.0)};
    const auto o = fbb.CreateVector(ops);
    return wire::CreateStatsReply(fbb, 3600, 4, p, o, 1 << 20).Union();
  }));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->uptime_seconds, 3600u);
  EXPECT_EQ(stats->connections, 4u);
  ASSERT_EQ(stats->partitions.size(), 1u);
  ASSERT_EQ(stats->ops.size(), 1u);
  EXPECT_EQ(stats->ops[0].name, "Search");
  EXPECT_EQ(stats->ops[0].count, 100u);
  EXPECT_EQ(stats->ops[0].errors, 1u);
  EXPECT_DOUBLE_EQ(stats->ops[0].p99_us, 900.0);
  EXPECT_EQ(stats->data_bytes, 1u << 20);

  EXPECT_TRUE(DecodeDone(f.Build(wire::ResponseBody::Done, [](auto& fbb) {
                return wire::CreateDone(fbb).Union();
              })).ok());
  // Done accepts any body: a soft delete may answer with the deleted row.
  EXPECT_TRUE(DecodeDone(f.Build(wire::ResponseBody::ConversationReply, [](auto& fbb) {
                const auto c = MakeConversation(fbb, kIdA, false);
                return wire::CreateConversationReply(fbb, c).Union();
              })).ok());
}

// ---- errors -----------------------------------------------------------------------------------

TEST(CodecErrorTest, EveryWireCodeMapsToTheSameClientCode) {
  for (uint8_t code = 1; code <= 11; ++code) {
    ResponseFixture f;
    const auto& r = f.BuildError(code, "msg", "field");
    auto result = DecodeConversation(r);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(static_cast<uint8_t>(result.error().code), code);
    EXPECT_EQ(result.error().message, "msg");
    EXPECT_EQ(result.error().field, "field");
    // Every decoder passes the error through, including the body-less ones.
    EXPECT_EQ(static_cast<uint8_t>(DecodeDone(r).code()), code);
    EXPECT_EQ(static_cast<uint8_t>(DecodeSearch(r).code()), code);
  }
}

TEST(CodecErrorTest, UnknownAndOkCodesBecomeInternalError) {
  ResponseFixture f;
  auto unknown = DecodeCount(f.BuildError(200, "future", ""));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Code::kInternalError);
  EXPECT_NE(unknown.error().message.find("200"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("future"), std::string::npos);

  auto ok_code = DecodeCount(f.BuildError(0, "", ""));
  ASSERT_FALSE(ok_code.ok());
  EXPECT_EQ(ok_code.error().code, Code::kInternalError);
}

TEST(CodecErrorTest, UnexpectedBodyIsInternalError) {
  ResponseFixture f;
  const auto& r = f.Build(wire::ResponseBody::CountReply,
                          [](auto& fbb) { return wire::CreateCountReply(fbb, 1).Union(); });
  auto result = DecodeConversation(r);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kInternalError);
  EXPECT_NE(result.error().message.find("CountReply"), std::string::npos);
  EXPECT_NE(result.error().message.find("ConversationReply"), std::string::npos);

  fb::FlatBufferBuilder fbb;
  fbb.Finish(wire::CreateResponse(fbb, 5), wire::RequestIdentifier());  // neither error nor body
  std::string payload(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  std::string why;
  const auto* empty = protocol::VerifyResponse(payload, &why);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(DecodeUserStats(*empty).code(), Code::kInternalError);
  EXPECT_TRUE(DecodeDone(*empty).ok());
}

TEST(CodecIdTest, WireHalvesAreTheCanonicalBytes) {
  const wire::Id id = UuidToWire(kIdA);
  EXPECT_EQ(id.hi(), 0x0190a1b2c3d47e5fULL);
  EXPECT_EQ(id.lo(), 0x8a9b0c1d2e3f4a5bULL);
  EXPECT_EQ(UuidFromWire(id), kIdA);
}

}  // namespace
}  // namespace mnemo::client::internal
