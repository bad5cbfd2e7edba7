// The encoders against the schema: every request the client encodes passes the server's
// verifier and carries the fields given.
#include <gtest/gtest.h>

#include "codec.h"
#include "codec_test_util.h"
#include "mnemo/client/client.h"
#include "protocol/verify.h"
#include "protocol/version.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;

using testing::kIdA;
using testing::kIdB;
using testing::S;
using testing::Verify;
Uuid U(const wire::Id* id) { return id ? UuidFromWire(*id) : Uuid(); }

// ---- requests ---------------------------------------------------------------------------------

TEST(CodecRequestTest, Hello) {
  auto d = Verify(EncodeHello(7, protocol::kProtocolVersion, "key-1", "tests"));
  ASSERT_NE(d.request, nullptr);
  EXPECT_EQ(d.request->id(), 7u);
  EXPECT_EQ(d.request->user_id(), nullptr);
  const auto* hello = d.request->body_as_Hello();
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->protocol_version(), protocol::kProtocolVersion);
  EXPECT_EQ(S(hello->api_key()), "key-1");
  EXPECT_EQ(S(hello->client_name()), "tests");

  auto anonymous = Verify(EncodeHello(8, 1, "", ""));
  EXPECT_EQ(anonymous.request->body_as_Hello()->api_key(), nullptr);
}

TEST(CodecRequestTest, TraceIdOfTheScopeIsAttachedAndTruncated) {
  EXPECT_EQ(Verify(EncodeGetConversation(1, "alice", kIdA, false)).request->trace_id(), nullptr);
  {
    ScopedTraceId outer("req-outer");
    EXPECT_EQ(S(Verify(EncodeGetConversation(2, "alice", kIdA, false)).request->trace_id()),
              "req-outer");
    {
      ScopedTraceId inner(std::string(500, 'x'));
      EXPECT_EQ(S(Verify(EncodeGetConversation(3, "alice", kIdA, false)).request->trace_id()),
                std::string(ScopedTraceId::kMaxTraceIdBytes, 'x'));
    }
    EXPECT_EQ(S(Verify(EncodeGetConversation(4, "alice", kIdA, false)).request->trace_id()),
              "req-outer");
  }
  EXPECT_EQ(Verify(EncodeGetConversation(5, "alice", kIdA, false)).request->trace_id(), nullptr);
}

TEST(CodecRequestTest, CreateAndUpsertConversation) {
  NewConversation input;
  input.id = kIdA;
  input.title = "Trip";
  input.summary = "plans";
  input.model = "m1";
  input.system_prompt = "be brief";
  input.metadata = R"({"a":1})";
  auto d = Verify(EncodeCreateConversation(1, "alice", input));
  EXPECT_EQ(d.request->id(), 1u);
  EXPECT_EQ(S(d.request->user_id()), "alice");
  const auto* body = d.request->body_as_CreateConversationRequest();
  ASSERT_NE(body, nullptr);
  const auto* c = body->conversation();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(U(c->id()), kIdA);
  EXPECT_EQ(S(c->title()), "Trip");
  EXPECT_EQ(S(c->summary()), "plans");
  EXPECT_EQ(S(c->model()), "m1");
  EXPECT_EQ(S(c->system_prompt()), "be brief");
  EXPECT_EQ(S(c->metadata()), R"({"a":1})");

  NewConversation minimal;
  minimal.title = "t";
  auto m = Verify(EncodeUpsertConversation(2, "bob", minimal));
  const auto* upsert = m.request->body_as_UpsertConversationRequest();
  ASSERT_NE(upsert, nullptr);
  EXPECT_EQ(upsert->conversation()->id(), nullptr);       // absent: server generates
  EXPECT_EQ(upsert->conversation()->summary(), nullptr);  // null
  EXPECT_EQ(upsert->conversation()->model(), nullptr);    // server default
  EXPECT_EQ(upsert->conversation()->metadata(), nullptr);
}

TEST(CodecRequestTest, GetListStatsUpdateDeleteRestoreConversation) {
  auto get = Verify(EncodeGetConversation(3, "u", kIdB, true));
  ASSERT_NE(get.request->body_as_GetConversationRequest(), nullptr);
  EXPECT_EQ(U(get.request->body_as_GetConversationRequest()->id()), kIdB);
  EXPECT_TRUE(get.request->body_as_GetConversationRequest()->include_deleted());

  ConversationListOptions options;
  options.order = ConversationOrder::kUpdatedDesc;
  options.skip = 5;
  options.limit = 7;
  options.cursor = "cur";
  options.include_deleted = true;
  auto list = Verify(EncodeListConversations(4, "u", options, std::nullopt));
  const auto* l = list.request->body_as_ListConversationsRequest();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->order(), wire::ConversationOrder::updated_desc);
  EXPECT_EQ(l->skip(), 5);
  EXPECT_EQ(l->limit(), 7);
  EXPECT_EQ(S(l->cursor()), "cur");
  EXPECT_TRUE(l->include_deleted());
  EXPECT_EQ(l->title_contains(), nullptr);

  auto search = Verify(EncodeListConversations(5, "u", {}, "trip"));
  const auto* s = search.request->body_as_ListConversationsRequest();
  EXPECT_EQ(S(s->title_contains()), "trip");
  EXPECT_EQ(s->limit(), 20);
  EXPECT_EQ(s->cursor(), nullptr);

  auto stats = Verify(EncodeGetUserStats(6, "u"));
  EXPECT_EQ(stats.request->body_type(), wire::RequestBody::GetUserStatsRequest);

  ConversationUpdate update;
  update.title = "new";
  update.metadata = "{}";
  auto upd = Verify(EncodeUpdateConversation(7, "u", kIdA, update));
  const auto* u = upd.request->body_as_UpdateConversationRequest();
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(U(u->id()), kIdA);
  EXPECT_EQ(S(u->title()), "new");
  EXPECT_EQ(u->summary(), nullptr);
  EXPECT_EQ(u->model(), nullptr);
  EXPECT_EQ(u->system_prompt(), nullptr);
  EXPECT_EQ(S(u->metadata()), "{}");

  auto soft = Verify(EncodeDeleteConversation(8, "u", kIdA, false));
  EXPECT_FALSE(soft.request->body_as_DeleteConversationRequest()->hard());
  auto hard = Verify(EncodeDeleteConversation(9, "u", kIdA, true));
  EXPECT_TRUE(hard.request->body_as_DeleteConversationRequest()->hard());
  EXPECT_EQ(U(hard.request->body_as_DeleteConversationRequest()->id()), kIdA);

  auto restore = Verify(EncodeRestoreConversation(10, "u", kIdB));
  EXPECT_EQ(U(restore.request->body_as_RestoreConversationRequest()->id()), kIdB);
}

TEST(CodecRequestTest, AppendAndUpsertMessage) {
  NewMessage input;
  input.id = kIdB;
  input.conversation_id = kIdA;
  input.role = "assistant";
  input.content = "hello";
  input.parts = R"([{"type":"text","text":"hello"}])";
  input.tool_calls = R"([{"id":"c1"}])";
  input.tool_results = R"([{"id":"c1","ok":true}])";
  input.attachments = "[]";
  input.tokens_used = 42;
  input.metadata = R"({"k":"v"})";
  auto d = Verify(EncodeAppendMessage(11, "u", input));
  const auto* m = d.request->body_as_AppendMessageRequest()->message();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(U(m->id()), kIdB);
  EXPECT_EQ(U(m->conversation_id()), kIdA);
  EXPECT_EQ(S(m->role()), "assistant");
  EXPECT_EQ(S(m->content()), "hello");
  EXPECT_EQ(S(m->parts()), input.parts);
  EXPECT_EQ(S(m->tool_calls()), input.tool_calls);
  EXPECT_EQ(S(m->tool_results()), input.tool_results);
  EXPECT_EQ(S(m->attachments()), "[]");
  ASSERT_TRUE(m->tokens_used().has_value());
  EXPECT_EQ(*m->tokens_used(), 42);
  EXPECT_EQ(S(m->metadata()), R"({"k":"v"})");

  NewMessage minimal;
  minimal.conversation_id = kIdA;
  minimal.content = "x";
  auto u = Verify(EncodeUpsertMessage(12, "u", minimal));
  const auto* mm = u.request->body_as_UpsertMessageRequest()->message();
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(mm->id(), nullptr);
  EXPECT_EQ(S(mm->role()), "user");
  EXPECT_FALSE(mm->tokens_used().has_value());
  EXPECT_EQ(mm->parts(), nullptr);
  EXPECT_EQ(mm->metadata(), nullptr);
}

TEST(CodecRequestTest, MessageQueries) {
  auto get = Verify(EncodeGetMessage(13, "u", kIdA));
  EXPECT_EQ(U(get.request->body_as_GetMessageRequest()->id()), kIdA);

  MessageQuery query;
  query.order = SortOrder::kDescending;
  query.skip = 2;
  query.limit = 3;
  query.cursor = "c";
  query.role = Role::kTool;
  query.only_with_tool_calls = true;
  auto list = Verify(EncodeListMessages(14, "u", kIdB, query));
  const auto* l = list.request->body_as_ListMessagesRequest();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(U(l->conversation_id()), kIdB);
  EXPECT_EQ(l->order(), wire::SortOrder::descending);
  EXPECT_EQ(l->skip(), 2);
  EXPECT_EQ(l->limit(), 3);
  EXPECT_EQ(S(l->cursor()), "c");
  EXPECT_EQ(S(l->role()), "tool");
  EXPECT_TRUE(l->only_with_tool_calls());

  auto defaults = Verify(EncodeListMessages(15, "u", kIdB, {}));
  const auto* dl = defaults.request->body_as_ListMessagesRequest();
  EXPECT_EQ(dl->order(), wire::SortOrder::ascending);
  EXPECT_EQ(dl->limit(), 50);
  EXPECT_EQ(dl->role(), nullptr);

  auto last = Verify(EncodeLastMessages(16, "u", kIdA, 9));
  EXPECT_EQ(last.request->body_as_LastMessagesRequest()->count(), 9);
  EXPECT_EQ(U(last.request->body_as_LastMessagesRequest()->conversation_id()), kIdA);

  auto by_role = Verify(EncodeLastMessageByRole(17, "u", kIdA, Role::kAssistant));
  EXPECT_EQ(S(by_role.request->body_as_LastMessageByRoleRequest()->role()), "assistant");

  auto tools = Verify(EncodeSetToolResults(18, "u", kIdB, R"({"r":1})"));
  const auto* t = tools.request->body_as_SetToolResultsRequest();
  EXPECT_EQ(U(t->message_id()), kIdB);
  EXPECT_EQ(S(t->tool_results()), R"({"r":1})");

  auto tokens = Verify(EncodeGetTokenStats(19, "u", kIdA));
  EXPECT_EQ(U(tokens.request->body_as_GetTokenStatsRequest()->conversation_id()), kIdA);

  auto del = Verify(EncodeDeleteMessages(20, "u", kIdA));
  EXPECT_EQ(U(del.request->body_as_DeleteMessagesRequest()->conversation_id()), kIdA);
}

TEST(CodecRequestTest, Documents) {
  NewDocument input;
  input.id = kIdA;
  input.filename = "a.pdf";
  input.file_type = "pdf";
  input.content = "text";
  input.metadata = R"({"lang":"en"})";
  auto create = Verify(EncodeCreateDocument(21, "u", input));
  const auto* doc = create.request->body_as_CreateDocumentRequest()->document();
  ASSERT_NE(doc, nullptr);
  EXPECT_EQ(U(doc->id()), kIdA);
  EXPECT_EQ(S(doc->filename()), "a.pdf");
  EXPECT_EQ(S(doc->file_type()), "pdf");
  EXPECT_EQ(S(doc->content()), "text");
  EXPECT_EQ(S(doc->metadata()), R"({"lang":"en"})");

  auto get = Verify(EncodeGetDocument(22, "u", kIdB, true));
  EXPECT_TRUE(get.request->body_as_GetDocumentRequest()->include_deleted());
  EXPECT_EQ(U(get.request->body_as_GetDocumentRequest()->id()), kIdB);

  DocumentListOptions options;
  options.skip = 1;
  options.limit = 2;
  options.cursor = "k";
  options.include_deleted = true;
  auto list = Verify(EncodeListDocuments(23, "u", options, std::nullopt));
  const auto* l = list.request->body_as_ListDocumentsRequest();
  EXPECT_EQ(l->skip(), 1);
  EXPECT_EQ(l->limit(), 2);
  EXPECT_EQ(S(l->cursor()), "k");
  EXPECT_TRUE(l->include_deleted());
  EXPECT_EQ(l->filename_contains(), nullptr);
  auto search = Verify(EncodeListDocuments(24, "u", {}, "pdf"));
  EXPECT_EQ(S(search.request->body_as_ListDocumentsRequest()->filename_contains()), "pdf");

  auto count = Verify(EncodeCountDocuments(25, "u"));
  EXPECT_EQ(count.request->body_type(), wire::RequestBody::CountDocumentsRequest);

  auto soft = Verify(EncodeDeleteDocument(26, "u", kIdA, false));
  EXPECT_FALSE(soft.request->body_as_DeleteDocumentRequest()->hard());
  auto hard = Verify(EncodeDeleteDocument(27, "u", kIdA, true));
  EXPECT_TRUE(hard.request->body_as_DeleteDocumentRequest()->hard());
  auto restore = Verify(EncodeRestoreDocument(28, "u", kIdA));
  EXPECT_EQ(U(restore.request->body_as_RestoreDocumentRequest()->id()), kIdA);
}

TEST(CodecRequestTest, AddChunks) {
  std::vector<NewChunk> chunks(2);
  chunks[0].id = kIdB;
  chunks[0].document_id = kIdA;
  chunks[0].chunk_index = 0;
  chunks[0].chunk_text = "first";
  chunks[0].embedding = {0.5f, -1.25f, 3.0f};
  chunks[0].metadata = R"({"p":1})";
  chunks[0].created_at = 1'700'000'000'000'000;
  chunks[1].document_id = kIdA;
  chunks[1].chunk_index = 1;
  chunks[1].chunk_text = "second";
  chunks[1].embedding = {1, 0, 0};
  auto d = Verify(EncodeAddChunks(29, "u", chunks));
  const auto* list = d.request->body_as_AddChunksRequest()->chunks();
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->size(), 2u);
  const auto* c0 = list->Get(0);
  EXPECT_EQ(U(c0->id()), kIdB);
  EXPECT_EQ(U(c0->document_id()), kIdA);
  EXPECT_EQ(S(c0->chunk_text()), "first");
  ASSERT_EQ(c0->embedding()->size(), 3u);
  EXPECT_EQ(c0->embedding()->Get(1), -1.25f);
  EXPECT_EQ(S(c0->metadata()), R"({"p":1})");
  ASSERT_TRUE(c0->created_at().has_value());
  EXPECT_EQ(*c0->created_at(), 1'700'000'000'000'000);
  const auto* c1 = list->Get(1);
  EXPECT_EQ(c1->id(), nullptr);
  EXPECT_EQ(c1->chunk_index(), 1);
  EXPECT_FALSE(c1->created_at().has_value());
  EXPECT_EQ(c1->metadata(), nullptr);
}

SearchRequest FullSearch() {
  SearchRequest request;
  request.query = {0.1f, 0.2f};
  request.top_k = 25;
  request.min_similarity = 0.5f;
  request.ef = 80;
  request.filters.document_ids = {kIdA, kIdB};
  request.filters.file_types = {"pdf", "md"};
  request.filters.created_from = 100;
  request.filters.created_until = 200;
  request.filters.metadata_equals = {{"lang", "\"en\""}};
  return request;
}

void ExpectFullSearch(const wire::SearchQuery* q) {
  ASSERT_NE(q, nullptr);
  ASSERT_EQ(q->query()->size(), 2u);
  EXPECT_EQ(q->query()->Get(1), 0.2f);
  EXPECT_EQ(q->top_k(), 25);
  ASSERT_TRUE(q->min_similarity().has_value());
  EXPECT_EQ(*q->min_similarity(), 0.5f);
  ASSERT_TRUE(q->ef().has_value());
  EXPECT_EQ(*q->ef(), 80);
  const auto* f = q->filters();
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->document_ids()->size(), 2u);
  EXPECT_EQ(UuidFromWire(*f->document_ids()->Get(0)), kIdA);
  EXPECT_EQ(UuidFromWire(*f->document_ids()->Get(1)), kIdB);
  ASSERT_EQ(f->file_types()->size(), 2u);
  EXPECT_EQ(f->file_types()->Get(1)->str(), "md");
  EXPECT_EQ(*f->created_from(), 100);
  EXPECT_EQ(*f->created_until(), 200);
  ASSERT_EQ(f->metadata_equals()->size(), 1u);
  EXPECT_EQ(f->metadata_equals()->Get(0)->key()->str(), "lang");
  EXPECT_EQ(f->metadata_equals()->Get(0)->value()->str(), "\"en\"");
}

TEST(CodecRequestTest, SearchAndSearchBatch) {
  auto d = Verify(EncodeSearch(30, "u", FullSearch()));
  ExpectFullSearch(d.request->body_as_SearchRequest()->query());

  SearchRequest plain;
  plain.query = {1, 2, 3};
  auto p = Verify(EncodeSearch(31, "u", plain));
  const auto* q = p.request->body_as_SearchRequest()->query();
  EXPECT_EQ(q->top_k(), 10);
  EXPECT_FALSE(q->min_similarity().has_value());
  EXPECT_FALSE(q->ef().has_value());
  EXPECT_EQ(q->filters(), nullptr);

  auto batch = Verify(EncodeSearchBatch(32, "u", {plain, FullSearch()}));
  const auto* queries = batch.request->body_as_SearchBatchRequest()->queries();
  ASSERT_EQ(queries->size(), 2u);
  EXPECT_EQ(queries->Get(0)->query()->size(), 3u);
  ExpectFullSearch(queries->Get(1));
}

TEST(CodecRequestTest, ApplyBatchSetsExactlyOneFieldPerOp) {
  Batch batch;
  NewConversation conversation;
  conversation.id = kIdA;
  conversation.title = "c";
  NewMessage message;
  message.conversation_id = kIdA;
  message.content = "m";
  NewDocument document;
  document.filename = "f.md";
  document.file_type = "md";
  NewChunk chunk;
  chunk.document_id = kIdB;
  chunk.chunk_text = "t";
  chunk.embedding = {1, 0};
  batch.CreateConversation(conversation)
      .UpsertConversation(conversation)
      .AppendMessage(message)
      .UpsertMessage(message)
      .CreateDocument(document)
      .AddChunk(chunk);
  auto d = Verify(EncodeApplyBatch(33, "u", batch));
  const auto* ops = d.request->body_as_ApplyBatchRequest()->ops();
  ASSERT_NE(ops, nullptr);
  ASSERT_EQ(ops->size(), 6u);
  auto count_fields = [](const wire::BatchOp* op) {
    return (op->create_conversation() != nullptr) + (op->upsert_conversation() != nullptr) +
           (op->append_message() != nullptr) + (op->upsert_message() != nullptr) +
           (op->create_document() != nullptr) + (op->add_chunk() != nullptr);
  };
  for (const auto* op : *ops) EXPECT_EQ(count_fields(op), 1);
  EXPECT_EQ(S(ops->Get(0)->create_conversation()->title()), "c");
  EXPECT_EQ(U(ops->Get(1)->upsert_conversation()->id()), kIdA);
  EXPECT_EQ(S(ops->Get(2)->append_message()->content()), "m");
  EXPECT_EQ(U(ops->Get(3)->upsert_message()->conversation_id()), kIdA);
  EXPECT_EQ(S(ops->Get(4)->create_document()->filename()), "f.md");
  EXPECT_EQ(U(ops->Get(5)->add_chunk()->document_id()), kIdB);
}

std::vector<float> Floats(const fb::Vector<float>* vector) {
  return vector ? std::vector<float>(vector->begin(), vector->end()) : std::vector<float>();
}

TEST(CodecRequestTest, VectorViewsReplaceTheInputsOwnVectors) {
  const std::vector<float> first = {0.25f, -0.5f};
  const std::vector<float> second = {1, 2, 3};
  const VectorViews views = {first, second};

  SearchRequest query;
  query.query = {9, 9, 9, 9};  // ignored: the view is read instead
  auto search = Verify(EncodeSearch(40, "u", query, {second}));
  EXPECT_EQ(Floats(search.request->body_as_SearchRequest()->query()->query()), second);
  auto batch = Verify(EncodeSearchBatch(41, "u", {query, query}, views));
  const auto* queries = batch.request->body_as_SearchBatchRequest()->queries();
  EXPECT_EQ(Floats(queries->Get(0)->query()), first);
  EXPECT_EQ(Floats(queries->Get(1)->query()), second);

  std::vector<NewChunk> chunks(2);
  for (NewChunk& chunk : chunks) chunk.embedding = {7};
  auto added = Verify(EncodeAddChunks(42, "u", chunks, views));
  const auto* list = added.request->body_as_AddChunksRequest()->chunks();
  EXPECT_EQ(Floats(list->Get(0)->embedding()), first);
  EXPECT_EQ(Floats(list->Get(1)->embedding()), second);

  // In a batch, the views go to the add-chunk ops in order, skipping the others.
  Batch ops;
  NewMessage message;
  message.content = "m";
  ops.AddChunk(chunks[0]).AppendMessage(message).AddChunk(chunks[1]);
  auto applied = Verify(EncodeApplyBatch(43, "u", ops, views));
  const auto* wire_ops = applied.request->body_as_ApplyBatchRequest()->ops();
  EXPECT_EQ(Floats(wire_ops->Get(0)->add_chunk()->embedding()), first);
  EXPECT_EQ(Floats(wire_ops->Get(2)->add_chunk()->embedding()), second);

  HybridSearchRequest hybrid;
  hybrid.query_text = "q";
  hybrid.query_embedding = {9, 9};
  auto fused = Verify(EncodeSearchHybrid(45, "u", hybrid, {second}));
  EXPECT_EQ(Floats(fused.request->body_as_SearchHybridRequest()->query_embedding()), second);

  // Without views, each input's own vector.
  auto own = Verify(EncodeSearch(44, "u", query));
  EXPECT_EQ(Floats(own.request->body_as_SearchRequest()->query()->query()), query.query);
  auto own_fused = Verify(EncodeSearchHybrid(46, "u", hybrid));
  EXPECT_EQ(Floats(own_fused.request->body_as_SearchHybridRequest()->query_embedding()),
            hybrid.query_embedding);
}

TEST(CodecRequestTest, AdministrationNamesNoUser) {
  auto stats = Verify(EncodeGetStats(40));
  EXPECT_EQ(stats.request->body_type(), wire::RequestBody::GetStatsRequest);
  EXPECT_EQ(stats.request->user_id(), nullptr);
  auto partitions = Verify(EncodeListPartitions(41));
  EXPECT_EQ(partitions.request->body_type(), wire::RequestBody::ListPartitionsRequest);
  auto rebuild = Verify(EncodeRebuildPartition(42, "2026-11"));
  EXPECT_EQ(S(rebuild.request->body_as_RebuildPartitionRequest()->month()), "2026-11");
  auto archive = Verify(EncodeArchivePartition(43, "2026-10", "/tmp/a"));
  EXPECT_EQ(S(archive.request->body_as_ArchivePartitionRequest()->month()), "2026-10");
  EXPECT_EQ(S(archive.request->body_as_ArchivePartitionRequest()->path()), "/tmp/a");
  auto drop = Verify(EncodeDropPartition(44, "2026-09"));
  EXPECT_EQ(S(drop.request->body_as_DropPartitionRequest()->month()), "2026-09");
  auto attach = Verify(EncodeAttachArchive(45, "/tmp/b"));
  EXPECT_EQ(S(attach.request->body_as_AttachArchiveRequest()->path()), "/tmp/b");
  auto backup = Verify(EncodeCreateBackup(46, "/tmp/c"));
  EXPECT_EQ(S(backup.request->body_as_CreateBackupRequest()->path()), "/tmp/c");
  EXPECT_EQ(backup.request->id(), 46u);
}

}  // namespace
}  // namespace mnemo::client::internal
