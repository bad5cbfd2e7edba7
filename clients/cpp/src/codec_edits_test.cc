// The codec for edits, filters, counts, chunk operations and retention: requests pass the
// server's verifier and carry exactly the fields given (filters absent when empty, the fields
// older servers read still set); replies decode, malformed ones become INTERNAL_ERROR.
#include <gtest/gtest.h>

#include "codec.h"
#include "codec_test_util.h"
#include "protocol/verify.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;

using testing::kIdA;
using testing::S;
using testing::Verify;

TEST(CodecEditsTest, FiltersAreAbsentWhenEmptyAndCarryEveryCondition) {
  auto plain = Verify(EncodeListConversations(1, "u", {}, std::nullopt));
  EXPECT_EQ(plain.request->body_as_ListConversationsRequest()->filter(), nullptr);

  ConversationListOptions options;
  options.filter.created_from = 10;
  options.filter.updated_until = 20;
  options.filter.model = "gpt";
  options.filter.metadata_equals = {{"k", "\"v\""}};
  auto list = Verify(EncodeListConversations(2, "u", options, "trip"));
  const auto* l = list.request->body_as_ListConversationsRequest();
  ASSERT_NE(l->filter(), nullptr);
  EXPECT_EQ(l->filter()->created_from(), 10);
  EXPECT_FALSE(l->filter()->created_until().has_value());
  EXPECT_EQ(l->filter()->updated_until(), 20);
  EXPECT_EQ(S(l->filter()->model()), "gpt");
  EXPECT_EQ(S(l->filter()->title_contains()), "trip");
  EXPECT_EQ(S(l->title_contains()), "trip");  // for servers without filter tables
  ASSERT_EQ(l->filter()->metadata_equals()->size(), 1u);
  EXPECT_EQ(S(l->filter()->metadata_equals()->Get(0)->value()), "\"v\"");

  auto count = Verify(EncodeCountConversations(3, "u", options.filter, true, true));
  const auto* c = count.request->body_as_CountConversationsRequest();
  EXPECT_TRUE(c->include_deleted());
  EXPECT_TRUE(c->exists_only());
  EXPECT_EQ(S(c->filter()->model()), "gpt");

  MessageQuery query;
  query.role = Role::kAssistant;
  query.created_until = 5;
  auto messages = Verify(EncodeCountMessages(4, "u", kIdA, query, false));
  const auto* m = messages.request->body_as_CountMessagesRequest();
  EXPECT_EQ(S(m->filter()->role()), "assistant");
  EXPECT_EQ(m->filter()->created_until(), 5);
  EXPECT_FALSE(m->exists_only());
  auto listed = Verify(EncodeListMessages(5, "u", kIdA, query));
  EXPECT_EQ(S(listed.request->body_as_ListMessagesRequest()->role()), "assistant");

  DocumentFilter documents;
  documents.file_types = {"pdf", "md"};
  auto docs = Verify(EncodeCountMatchingDocuments(6, "u", documents, false, false));
  ASSERT_EQ(docs.request->body_as_CountMatchingDocumentsRequest()->filter()->file_types()->size(),
            2u);
  auto no_filter = Verify(EncodeCountMatchingDocuments(7, "u", {}, false, false));
  EXPECT_EQ(no_filter.request->body_as_CountMatchingDocumentsRequest()->filter(), nullptr);
}

TEST(CodecEditsTest, UpdatesSendOnlyTheFieldsGiven) {
  MessageUpdate update;
  update.content = "new";
  update.clear_tokens_used = true;
  auto message = Verify(EncodeUpdateMessage(1, "u", kIdA, update));
  const auto* m = message.request->body_as_UpdateMessageRequest();
  EXPECT_EQ(S(m->content()), "new");
  EXPECT_EQ(m->role(), nullptr);
  EXPECT_EQ(m->tool_calls(), nullptr);
  EXPECT_FALSE(m->tokens_used().has_value());
  EXPECT_TRUE(m->clear_tokens_used());
  update = {};
  update.tokens_used = 0;
  EXPECT_EQ(Verify(EncodeUpdateMessage(2, "u", kIdA, update))
                .request->body_as_UpdateMessageRequest()
                ->tokens_used(),
            0);

  DocumentUpdate document;
  document.file_type = "pdf";
  auto doc = Verify(EncodeUpdateDocument(3, "u", kIdA, document));
  EXPECT_EQ(S(doc.request->body_as_UpdateDocumentRequest()->file_type()), "pdf");
  EXPECT_EQ(doc.request->body_as_UpdateDocumentRequest()->filename(), nullptr);
}

TEST(CodecEditsTest, ChunkRequestsAndRetention) {
  auto soft = Verify(EncodeDeleteChunk(1, "u", kIdA, false));
  EXPECT_FALSE(soft.request->body_as_DeleteChunkRequest()->hard());
  EXPECT_EQ(UuidFromWire(*soft.request->body_as_DeleteChunkRequest()->id()), kIdA);
  ChunkListOptions options;
  options.limit = 7;
  options.include_deleted = true;
  auto list = Verify(EncodeListChunks(2, "u", kIdA, options));
  EXPECT_EQ(list.request->body_as_ListChunksRequest()->limit(), 7);
  EXPECT_TRUE(list.request->body_as_ListChunksRequest()->include_deleted());
  NewChunk chunk;
  chunk.document_id = kIdA;
  chunk.chunk_text = "t";
  chunk.embedding = {1, 2};
  auto replace = Verify(EncodeReplaceChunks(3, "u", kIdA, {chunk}));
  EXPECT_EQ(replace.request->body_as_ReplaceChunksRequest()->chunks()->size(), 1u);
  EXPECT_EQ(Verify(EncodeReplaceChunks(4, "u", kIdA, {}))
                .request->body_as_ReplaceChunksRequest()
                ->chunks()
                ->size(),
            0u);

  auto configured = Verify(EncodeApplyRetention(5, std::nullopt));
  EXPECT_TRUE(configured.request->body_as_ApplyRetentionRequest()->configured());
  EXPECT_EQ(configured.request->user_id(), nullptr);
  RetentionPolicy policy;
  policy.keep_months = 6;
  policy.purge_after_seconds = 60;
  auto given = Verify(EncodeApplyRetention(6, policy));
  const auto* r = given.request->body_as_ApplyRetentionRequest();
  EXPECT_FALSE(r->configured());
  EXPECT_EQ(r->keep_months(), 6);
  EXPECT_EQ(r->purge_after_seconds(), 60);
  EXPECT_EQ(r->archive_dir(), nullptr);
}

// Builds a verified Response around a body.
class Reply {
 public:
  template <typename Make>
  Reply(wire::ResponseBody type, Make make) {
    fb::FlatBufferBuilder fbb;
    const fb::Offset<void> body = make(fbb);
    fbb.Finish(wire::CreateResponse(fbb, 1, 0, type, body), wire::RequestIdentifier());
    payload_.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
    std::string why;
    response_ = protocol::VerifyResponse(payload_, &why);
    EXPECT_NE(response_, nullptr) << why;
  }
  const wire::Response& operator*() const { return *response_; }

 private:
  std::string payload_;
  const wire::Response* response_ = nullptr;
};

TEST(CodecEditsTest, RepliesDecode) {
  const wire::Id id = UuidToWire(kIdA);
  const Reply chunk_reply(wire::ResponseBody::ChunkReply, [&](fb::FlatBufferBuilder& fbb) {
    const auto chunk = wire::CreateChunk(fbb, &id, &id, 3, fbb.CreateString("text"),
                                         fbb.CreateString("{}"), 7, true, 8);
    return wire::CreateChunkReply(fbb, chunk).Union();
  });
  auto chunk = DecodeChunk(*chunk_reply);
  ASSERT_TRUE(chunk.ok()) << chunk.error().ToString();
  EXPECT_EQ(chunk->chunk_index, 3);
  EXPECT_TRUE(chunk->is_deleted);
  EXPECT_EQ(chunk->deleted_at, 8);

  const Reply empty_reply(wire::ResponseBody::ChunkReply, [](fb::FlatBufferBuilder& fbb) {
    return wire::CreateChunkReply(fbb).Union();
  });
  EXPECT_EQ(DecodeChunk(*empty_reply).error().code, Code::kInternalError);
  EXPECT_EQ(DecodeChunkPage(*empty_reply).error().code, Code::kInternalError);  // wrong body type

  const Reply page_reply(wire::ResponseBody::ChunkPage, [&](fb::FlatBufferBuilder& fbb) {
    std::vector<fb::Offset<wire::Chunk>> items = {wire::CreateChunk(fbb, &id, &id, 1)};
    const auto vector = fbb.CreateVector(items);
    return wire::CreateChunkPage(fbb, vector, 4, fbb.CreateString("next")).Union();
  });
  auto page = DecodeChunkPage(*page_reply);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
  EXPECT_FALSE(page->items[0].is_deleted);
  EXPECT_FALSE(page->items[0].deleted_at.has_value());
  EXPECT_EQ(page->total, 4);
  EXPECT_EQ(page->next_cursor, "next");

  const Reply count_reply(wire::ResponseBody::CountReply, [](fb::FlatBufferBuilder& fbb) {
    return wire::CreateCountReply(fbb, 1).Union();
  });
  EXPECT_TRUE(*DecodeExists(*count_reply));
  const Reply zero_reply(wire::ResponseBody::CountReply, [](fb::FlatBufferBuilder& fbb) {
    return wire::CreateCountReply(fbb, 0).Union();
  });
  EXPECT_FALSE(*DecodeExists(*zero_reply));

  const Reply retention_reply(wire::ResponseBody::RetentionReply, [](fb::FlatBufferBuilder& fbb) {
    std::vector<fb::Offset<wire::RetiredMonth>> months = {wire::CreateRetiredMonth(
        fbb, fbb.CreateString("2025-01"), 12, fbb.CreateString("/a/2025-01.mnemoarc"))};
    const auto vector = fbb.CreateVector(months);
    return wire::CreateRetentionReply(fbb, 100, 90, 80, vector, 1, 2, 3).Union();
  });
  auto report = DecodeRetention(*retention_reply);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->now, 100);
  EXPECT_EQ(report->month_cutoff, 90);
  EXPECT_EQ(report->purge_cutoff, 80);
  ASSERT_EQ(report->retired.size(), 1u);
  EXPECT_EQ(report->retired[0].month, "2025-01");
  EXPECT_EQ(report->retired[0].rows, 12);
  EXPECT_EQ(report->retired[0].archive_path, "/a/2025-01.mnemoarc");
  EXPECT_EQ(report->conversations_purged, 1);
  EXPECT_EQ(report->documents_purged, 2);
  EXPECT_EQ(report->chunks_purged, 3);
}

}  // namespace
}  // namespace mnemo::client::internal
