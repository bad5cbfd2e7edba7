// Every operation of the protocol, through the C++ client, against a real mnemod in protected
// mode (no keys: unauthenticated loopback clients act as a service principal).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using RoundTripTest = LiveServerTest;

TEST_F(RoundTripTest, HandshakeReportsTheServer) {
  const ServerInfo& info = client().server_info();
  EXPECT_EQ(info.protocol_version, 1u);
  EXPECT_FALSE(info.server_version.empty());
  EXPECT_EQ(info.dimension, MnemodProcess::kDimension);
  EXPECT_EQ(info.principal, "service");
  EXPECT_GT(info.max_frame_bytes, 0u);
  EXPECT_GT(info.max_in_flight, 0u);
}

TEST_F(RoundTripTest, ConversationLifecycle) {
  const std::string user = User();
  NewConversation input;
  input.id = Uuid::Generate();
  input.title = "Trip to Lisbon";
  input.summary = "planning";
  input.system_prompt = "be brief";
  input.metadata = R"({"topic":"travel"})";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation created, client().CreateConversation(user, input));
  EXPECT_EQ(created.id, *input.id);
  EXPECT_EQ(created.user_id, user);
  EXPECT_EQ(created.title, "Trip to Lisbon");
  EXPECT_EQ(created.summary, "planning");
  EXPECT_EQ(created.model, kDefaultModel);
  EXPECT_EQ(created.system_prompt, "be brief");
  EXPECT_EQ(created.metadata, R"({"topic":"travel"})");
  EXPECT_FALSE(created.is_deleted);
  EXPECT_GT(created.created_at, 0);
  EXPECT_EQ(created.message_count, 0);

  // Idempotent create with a client id.
  input.title = "retry";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation again, client().CreateConversation(user, input));
  EXPECT_EQ(again.title, "Trip to Lisbon");
  // ... but never shared with another user.
  EXPECT_EQ(client().CreateConversation(user + "-other", input).code(), Code::kDuplicateRecord);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation got, client().GetConversation(user, created.id));
  EXPECT_EQ(got.title, created.title);
  EXPECT_EQ(client().GetConversation(user + "-other", created.id).code(), Code::kNotFound);

  // Upsert: create then replace.
  NewConversation upsert;
  upsert.id = Uuid::Generate();
  upsert.title = "v1";
  MNEMO_ASSERT_OK(client().UpsertConversation(user, upsert));
  upsert.title = "v2";
  upsert.model = "other-model";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation replaced,
                             client().UpsertConversation(user, upsert));
  EXPECT_EQ(replaced.title, "v2");
  EXPECT_EQ(replaced.model, "other-model");

  // Update.
  ConversationUpdate update;
  update.summary = "new summary";
  update.metadata = R"({"v":2})";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation updated,
                             client().UpdateConversation(user, created.id, update));
  EXPECT_EQ(updated.title, "Trip to Lisbon");
  EXPECT_EQ(updated.summary, "new summary");
  EXPECT_EQ(updated.metadata, R"({"v":2})");
  EXPECT_GE(updated.updated_at, created.updated_at);

  // List, newest first, with total and paging.
  const Conversation third = NewConv(user, "Recipes for dinner");
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage page, client().ListConversations(user));
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, third.id);
  ConversationListOptions first_page;
  first_page.limit = 2;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage p1,
                             client().ListConversations(user, first_page));
  ASSERT_EQ(p1.items.size(), 2u);
  ASSERT_FALSE(p1.next_cursor.empty());
  ConversationListOptions second_page = first_page;
  second_page.cursor = p1.next_cursor;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage p2,
                             client().ListConversations(user, second_page));
  ASSERT_EQ(p2.items.size(), 1u);
  EXPECT_TRUE(p2.next_cursor.empty());
  std::set<Uuid> seen = {p1.items[0].id, p1.items[1].id, p2.items[0].id};
  EXPECT_EQ(seen.size(), 3u);
  ConversationListOptions by_update;
  by_update.order = ConversationOrder::kUpdatedDesc;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage updated_first,
                             client().ListConversations(user, by_update));
  EXPECT_EQ(updated_first.items.size(), 3u);

  // Title search is a case-insensitive substring match.
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage found,
                             client().SearchConversationsByTitle(user, "LISBON"));
  ASSERT_EQ(found.items.size(), 1u);
  EXPECT_EQ(found.items[0].id, created.id);

  // Soft delete, stats, restore, hard delete.
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation deleted,
                             client().SoftDeleteConversation(user, created.id));
  EXPECT_TRUE(deleted.is_deleted);
  EXPECT_TRUE(deleted.deleted_at.has_value());
  EXPECT_EQ(client().GetConversation(user, created.id).code(), Code::kNotFound);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation tombstone,
                             client().GetConversation(user, created.id, true));
  EXPECT_TRUE(tombstone.is_deleted);
  MNEMO_ASSERT_OK_AND_ASSIGN(const UserStats stats, client().GetUserStats(user));
  EXPECT_EQ(stats.total, 3);
  EXPECT_EQ(stats.active, 2);
  EXPECT_EQ(stats.deleted, 1);
  EXPECT_TRUE(stats.last_activity.has_value());
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage active, client().ListConversations(user));
  EXPECT_EQ(active.total, 2);
  ConversationListOptions with_deleted;
  with_deleted.include_deleted = true;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage all,
                             client().ListConversations(user, with_deleted));
  EXPECT_EQ(all.total, 3);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation restored,
                             client().RestoreConversation(user, created.id));
  EXPECT_FALSE(restored.is_deleted);
  MNEMO_ASSERT_OK(client().GetConversation(user, created.id));

  Append(user, third.id, "user", "hello");
  MNEMO_ASSERT_OK(client().HardDeleteConversation(user, third.id));
  EXPECT_EQ(client().GetConversation(user, third.id, true).code(), Code::kNotFound);
  MNEMO_ASSERT_OK_AND_ASSIGN(const UserStats after, client().GetUserStats(user));
  EXPECT_EQ(after.total, 2);
}

TEST_F(RoundTripTest, ValidationErrorsNameTheField) {
  const std::string user = User();
  NewConversation blank;
  blank.title = "   ";
  auto result = client().CreateConversation(user, blank);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::kValidationError);
  EXPECT_EQ(result.error().field, "title");

  NewConversation bad_json;
  bad_json.title = "ok";
  bad_json.metadata = "{not json";
  EXPECT_EQ(client().CreateConversation(user, bad_json).code(), Code::kValidationError);

  ConversationListOptions too_many;
  too_many.limit = 1000;
  EXPECT_EQ(client().ListConversations(user, too_many).code(), Code::kValidationError);
  EXPECT_EQ(client().GetConversation("", Uuid::Generate()).code(), Code::kValidationError);
}

TEST_F(RoundTripTest, MessagesAndCounters) {
  const std::string user = User();
  const Conversation conversation = NewConv(user, "chat");
  const Message m1 = Append(user, conversation.id, "user", "What is the weather?", 7);
  NewMessage with_tools;
  with_tools.conversation_id = conversation.id;
  with_tools.role = "assistant";
  with_tools.content = "Let me check.";
  with_tools.tool_calls = R"([{"id":"call_1","name":"weather"}])";
  with_tools.parts = R"([{"type":"text","text":"Let me check."}])";
  with_tools.attachments = R"([])";
  with_tools.metadata = R"({"latency_ms":12})";
  with_tools.tokens_used = 20;
  MNEMO_ASSERT_OK_AND_ASSIGN(const Message m2, client().AppendMessage(user, with_tools));
  EXPECT_EQ(m2.role, Role::kAssistant);
  EXPECT_EQ(m2.tool_calls, with_tools.tool_calls);
  EXPECT_EQ(m2.parts, with_tools.parts);
  EXPECT_EQ(m2.attachments, "[]");
  EXPECT_EQ(m2.metadata, R"({"latency_ms":12})");
  EXPECT_EQ(m2.tokens_used, 20);
  const Message m3 = Append(user, conversation.id, "tool", R"({"temp":21})");
  const Message m4 = Append(user, conversation.id, "assistant", "It is 21 degrees.", 9);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation counted,
                             client().GetConversation(user, conversation.id));
  EXPECT_EQ(counted.message_count, 4);
  EXPECT_EQ(counted.total_tokens, 36);
  EXPECT_EQ(counted.last_message_at, m4.created_at);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Message got, client().GetMessage(user, m2.id));
  EXPECT_EQ(got.content, "Let me check.");
  EXPECT_EQ(got.conversation_id, conversation.id);
  EXPECT_EQ(client().GetMessage(user + "-other", m2.id).code(), Code::kNotFound);

  // Pages: oldest first, newest first, by cursor, by role, with tool calls.
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage all, client().ListMessages(user, conversation.id));
  EXPECT_EQ(all.total, 4);
  ASSERT_EQ(all.items.size(), 4u);
  EXPECT_EQ(all.items[0].id, m1.id);
  EXPECT_EQ(all.items[3].id, m4.id);
  MessageQuery newest;
  newest.order = SortOrder::kDescending;
  newest.limit = 3;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage desc,
                             client().ListMessages(user, conversation.id, newest));
  ASSERT_EQ(desc.items.size(), 3u);
  EXPECT_EQ(desc.items[0].id, m4.id);
  ASSERT_FALSE(desc.next_cursor.empty());
  newest.cursor = desc.next_cursor;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage rest,
                             client().ListMessages(user, conversation.id, newest));
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0].id, m1.id);
  MessageQuery skip;
  skip.skip = 1;
  skip.limit = 2;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage skipped,
                             client().ListMessages(user, conversation.id, skip));
  ASSERT_EQ(skipped.items.size(), 2u);
  EXPECT_EQ(skipped.items[0].id, m2.id);
  MessageQuery assistants;
  assistants.role = Role::kAssistant;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage by_role,
                             client().ListMessages(user, conversation.id, assistants));
  EXPECT_EQ(by_role.total, 2);
  MessageQuery tools;
  tools.only_with_tool_calls = true;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage with_calls,
                             client().ListMessages(user, conversation.id, tools));
  ASSERT_EQ(with_calls.items.size(), 1u);
  EXPECT_EQ(with_calls.items[0].id, m2.id);

  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Message> last,
                             client().LastMessages(user, conversation.id, 2));
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].id, m3.id);  // chronological
  EXPECT_EQ(last[1].id, m4.id);

  MNEMO_ASSERT_OK_AND_ASSIGN(const std::optional<Message> last_user,
                             client().LastMessageByRole(user, conversation.id, Role::kUser));
  ASSERT_TRUE(last_user.has_value());
  EXPECT_EQ(last_user->id, m1.id);
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::optional<Message> no_system,
                             client().LastMessageByRole(user, conversation.id, Role::kSystem));
  EXPECT_FALSE(no_system.has_value());

  MNEMO_ASSERT_OK_AND_ASSIGN(
      const Message with_results,
      client().SetToolResults(user, m2.id, R"([{"id":"call_1","result":21}])"));
  EXPECT_EQ(with_results.tool_results, R"([{"id":"call_1","result":21}])");

  // Upsert by id replaces the message and adjusts the tokens.
  NewMessage upsert;
  upsert.id = m4.id;
  upsert.conversation_id = conversation.id;
  upsert.role = "assistant";
  upsert.content = "It is 22 degrees.";
  upsert.tokens_used = 10;
  MNEMO_ASSERT_OK_AND_ASSIGN(const Message replaced, client().UpsertMessage(user, upsert));
  EXPECT_EQ(replaced.content, "It is 22 degrees.");

  MNEMO_ASSERT_OK_AND_ASSIGN(const TokenStats tokens,
                             client().GetTokenStats(user, conversation.id));
  EXPECT_EQ(tokens.message_count, 4);
  EXPECT_EQ(tokens.messages_with_tokens, 3);
  EXPECT_EQ(tokens.total_tokens, 37);
  EXPECT_NEAR(tokens.average_tokens, 37.0 / 3, 1e-9);
  EXPECT_EQ(tokens.per_role[static_cast<size_t>(Role::kUser)].total_tokens, 7);
  EXPECT_EQ(tokens.per_role[static_cast<size_t>(Role::kAssistant)].message_count, 2);
  EXPECT_EQ(tokens.per_role[static_cast<size_t>(Role::kAssistant)].total_tokens, 30);
  EXPECT_EQ(tokens.per_role[static_cast<size_t>(Role::kTool)].message_count, 1);

  NewMessage bad_role;
  bad_role.conversation_id = conversation.id;
  bad_role.role = "robot";
  bad_role.content = "x";
  auto rejected = client().AppendMessage(user, bad_role);
  EXPECT_EQ(rejected.code(), Code::kValidationError);

  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t removed,
                             client().DeleteAllMessages(user, conversation.id));
  EXPECT_EQ(removed, 4);
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage none, client().ListMessages(user, conversation.id));
  EXPECT_EQ(none.total, 0);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation reset,
                             client().GetConversation(user, conversation.id));
  EXPECT_EQ(reset.message_count, 0);
}

TEST_F(RoundTripTest, DocumentsChunksAndSearch) {
  const std::string user = User();
  std::mt19937_64 rng(42);
  NewDocument input;
  input.filename = "Handbook.PDF";
  input.file_type = "pdf";
  input.content = "the handbook";
  input.metadata = R"({"lang":"en"})";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document pdf, client().CreateDocument(user, input));
  EXPECT_EQ(pdf.filename, "Handbook.PDF");
  EXPECT_EQ(pdf.file_type, "pdf");
  EXPECT_EQ(pdf.total_chunks, 0);
  NewDocument notes_input;
  notes_input.filename = "notes.md";
  notes_input.file_type = "md";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document notes, client().CreateDocument(user, notes_input));

  std::vector<NewChunk> chunks;
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < 6; ++i) {
    NewChunk chunk;
    chunk.id = Uuid::Generate();
    chunk.document_id = i < 4 ? pdf.id : notes.id;
    chunk.chunk_index = i < 4 ? i : i - 4;
    chunk.chunk_text = "chunk " + std::to_string(i);
    chunk.embedding = RandomVector(rng);
    chunk.metadata = i % 2 == 0 ? R"({"lang":"en"})" : R"({"lang":"pt"})";
    vectors.push_back(chunk.embedding);
    chunks.push_back(std::move(chunk));
  }
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> added, client().AddChunks(user, chunks));
  ASSERT_EQ(added.size(), 6u);
  EXPECT_EQ(added[0].id, *chunks[0].id);
  EXPECT_EQ(added[5].document_id, notes.id);
  EXPECT_EQ(added[2].chunk_text, "chunk 2");
  EXPECT_GT(added[0].created_at, 0);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Document counted, client().GetDocument(user, pdf.id));
  EXPECT_EQ(counted.total_chunks, 4);

  // A chunk finds itself first, with similarity 1; the answer says how it was produced.
  SearchRequest request;
  request.query = vectors[1];
  request.top_k = 3;
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse found, client().Search(user, request));
  ASSERT_EQ(found.hits.size(), 3u);
  EXPECT_EQ(found.hits[0].chunk_id, *chunks[1].id);
  EXPECT_NEAR(found.hits[0].similarity, 1.0f, 1e-4);
  EXPECT_EQ(found.hits[0].document_id, pdf.id);
  EXPECT_EQ(found.hits[0].chunk_index, 1);
  EXPECT_EQ(found.hits[0].chunk_text, "chunk 1");
  EXPECT_EQ(found.hits[0].filename, "Handbook.PDF");
  EXPECT_GE(found.hits[0].similarity, found.hits[1].similarity);
  EXPECT_TRUE(found.exact);  // a small tenant is scanned exactly
  EXPECT_FALSE(found.fewer_than_top_k);
  EXPECT_GE(found.partitions_searched, 1);

  request.top_k = 100;
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse everything, client().Search(user, request));
  EXPECT_EQ(everything.hits.size(), 6u);
  EXPECT_TRUE(everything.fewer_than_top_k);

  // Filters: documents, file types, metadata, threshold.
  SearchRequest filtered;
  filtered.query = vectors[0];
  filtered.top_k = 10;
  filtered.filters.document_ids = {notes.id};
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse in_notes, client().Search(user, filtered));
  ASSERT_EQ(in_notes.hits.size(), 2u);
  for (const auto& hit : in_notes.hits) EXPECT_EQ(hit.document_id, notes.id);
  filtered.filters = {};
  filtered.filters.file_types = {"pdf"};
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse pdfs, client().Search(user, filtered));
  EXPECT_EQ(pdfs.hits.size(), 4u);
  filtered.filters = {};
  filtered.filters.metadata_equals = {{"lang", "\"pt\""}};
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse portuguese, client().Search(user, filtered));
  EXPECT_EQ(portuguese.hits.size(), 3u);
  filtered.filters = {};
  filtered.min_similarity = 0.99f;
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse close, client().Search(user, filtered));
  ASSERT_EQ(close.hits.size(), 1u);
  EXPECT_EQ(close.hits[0].chunk_id, *chunks[0].id);

  // Batch search answers in request order.
  std::vector<SearchRequest> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].query = vectors[i + 2];
    batch[i].top_k = 1;
  }
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<SearchResponse> answers,
                             client().SearchBatch(user, batch));
  ASSERT_EQ(answers.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(answers[i].hits.size(), 1u);
    EXPECT_EQ(answers[i].hits[0].chunk_id, *chunks[i + 2].id);
  }

  // Isolation: another user sees nothing of this.
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse other, client().Search(user + "-other", request));
  EXPECT_TRUE(other.hits.empty());

  // Wrong dimension is a validation error.
  SearchRequest wrong;
  wrong.query = {1, 2, 3};
  EXPECT_EQ(client().Search(user, wrong).code(), Code::kValidationError);

  // Lists, filename search, counts.
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentPage listed, client().ListDocuments(user));
  EXPECT_EQ(listed.total, 2);
  ASSERT_EQ(listed.items.size(), 2u);
  EXPECT_EQ(listed.items[0].id, notes.id);  // newest first
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentPage by_name,
                             client().SearchDocumentsByFilename(user, "handbook"));
  ASSERT_EQ(by_name.items.size(), 1u);
  EXPECT_EQ(by_name.items[0].id, pdf.id);

  // Soft delete hides the chunks from search at once; restore brings them back.
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document soft, client().SoftDeleteDocument(user, pdf.id));
  EXPECT_TRUE(soft.is_deleted);
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse hidden, client().Search(user, request));
  EXPECT_EQ(hidden.hits.size(), 2u);
  for (const auto& hit : hidden.hits) EXPECT_EQ(hit.document_id, notes.id);
  EXPECT_EQ(client().GetDocument(user, pdf.id).code(), Code::kNotFound);
  MNEMO_ASSERT_OK(client().GetDocument(user, pdf.id, true));
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentCounts counts, client().CountDocuments(user));
  EXPECT_EQ(counts.total, 2);
  EXPECT_EQ(counts.active, 1);
  EXPECT_EQ(counts.deleted, 1);
  DocumentListOptions with_deleted;
  with_deleted.include_deleted = true;
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentPage all_docs,
                             client().ListDocuments(user, with_deleted));
  EXPECT_EQ(all_docs.total, 2);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document restored, client().RestoreDocument(user, pdf.id));
  EXPECT_FALSE(restored.is_deleted);
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse back, client().Search(user, request));
  EXPECT_EQ(back.hits.size(), 6u);

  // Hard delete removes the chunks and their vectors.
  MNEMO_ASSERT_OK(client().HardDeleteDocument(user, notes.id));
  EXPECT_EQ(client().GetDocument(user, notes.id, true).code(), Code::kNotFound);
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse after_hard, client().Search(user, request));
  EXPECT_EQ(after_hard.hits.size(), 4u);
}

TEST_F(RoundTripTest, AtomicBatchAllOrNothing) {
  const std::string user = User();
  const Uuid conversation_id = Uuid::Generate();
  const Uuid document_id = Uuid::Generate();
  std::mt19937_64 rng(7);
  Batch batch;
  NewConversation conversation;
  conversation.id = conversation_id;
  conversation.title = "batched";
  batch.CreateConversation(conversation);
  for (int i = 0; i < 3; ++i) {
    NewMessage message;
    message.conversation_id = conversation_id;
    message.role = i % 2 == 0 ? "user" : "assistant";
    message.content = "turn " + std::to_string(i);
    message.tokens_used = 5;
    batch.AppendMessage(message);
  }
  NewDocument document;
  document.id = document_id;
  document.filename = "batch.txt";
  document.file_type = "txt";
  batch.CreateDocument(document);
  NewChunk chunk;
  chunk.document_id = document_id;
  chunk.chunk_text = "batched chunk";
  chunk.embedding = RandomVector(rng);
  batch.AddChunk(chunk);
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Uuid> ids, client().ApplyBatch(user, batch));
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], conversation_id);
  EXPECT_EQ(ids[4], document_id);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation stored,
                             client().GetConversation(user, conversation_id));
  EXPECT_EQ(stored.message_count, 3);
  EXPECT_EQ(stored.total_tokens, 15);
  MNEMO_ASSERT_OK(client().GetMessage(user, ids[2]));
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document doc, client().GetDocument(user, document_id));
  EXPECT_EQ(doc.total_chunks, 1);
  SearchRequest search;
  search.query = chunk.embedding;
  search.top_k = 1;
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse found, client().Search(user, search));
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].chunk_id, ids[5]);

  // A failing op leaves nothing behind: the conversation of op 0 is not created.
  Batch failing;
  NewConversation doomed;
  doomed.id = Uuid::Generate();
  doomed.title = "doomed";
  failing.CreateConversation(doomed);
  NewMessage orphan;
  orphan.conversation_id = Uuid::Generate();  // does not exist
  orphan.content = "lost";
  failing.AppendMessage(orphan);
  auto result = client().ApplyBatch(user, failing);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("op 1"), std::string::npos) << result.error().ToString();
  EXPECT_EQ(client().GetConversation(user, *doomed.id, true).code(), Code::kNotFound);
}

TEST_F(RoundTripTest, AdministrationPartitionsAndBackup) {
  const std::string user = User();
  std::mt19937_64 rng(99);
  NewDocument input;
  input.filename = "old.txt";
  input.file_type = "txt";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document doc, client().CreateDocument(user, input));
  // Back-filled chunks land in the 2024-03 partition.
  constexpr Timestamp kMarch2024 = 1710460800LL * 1000000;  // 2024-03-15T00:00:00Z
  std::vector<NewChunk> chunks(3);
  for (int i = 0; i < 3; ++i) {
    chunks[i].id = Uuid::Generate();
    chunks[i].document_id = doc.id;
    chunks[i].chunk_index = i;
    chunks[i].chunk_text = "old " + std::to_string(i);
    chunks[i].embedding = RandomVector(rng);
    chunks[i].created_at = kMarch2024 + i;
  }
  MNEMO_ASSERT_OK(client().AddChunks(user, chunks));

  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<PartitionInfo> partitions,
                             client().ListPartitions());
  const auto march = std::find_if(partitions.begin(), partitions.end(),
                                  [](const PartitionInfo& p) { return p.month == "2024-03"; });
  ASSERT_NE(march, partitions.end());
  EXPECT_EQ(march->rows, 3);
  EXPECT_GT(march->vector_bytes, 0);

  // A time filter selects the partition.
  SearchRequest in_march;
  in_march.query = chunks[0].embedding;
  in_march.top_k = 10;
  in_march.filters.created_from = kMarch2024;
  in_march.filters.created_until = kMarch2024 + 10;
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse march_hits, client().Search(user, in_march));
  EXPECT_EQ(march_hits.hits.size(), 3u);
  EXPECT_EQ(march_hits.hits[0].created_at, kMarch2024);

  MNEMO_ASSERT_OK(client().RebuildPartition("2024-03"));
  EXPECT_EQ(client().RebuildPartition("1999-01").code(), Code::kNotFound);

  // Archive, drop, re-attach.
  const std::string archive = dir_->path() + "/2024-03.archive";
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t archived, client().ArchivePartition("2024-03", archive));
  EXPECT_EQ(archived, 3);
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t dropped, client().DropPartition("2024-03"));
  EXPECT_EQ(dropped, 3);
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse gone, client().Search(user, in_march));
  EXPECT_TRUE(gone.hits.empty());
  MNEMO_ASSERT_OK_AND_ASSIGN(const AttachResult attached, client().AttachArchive(archive));
  EXPECT_EQ(attached.attached, 3);
  EXPECT_EQ(attached.skipped, 0);
  MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse again, client().Search(user, in_march));
  EXPECT_EQ(again.hits.size(), 3u);

  MNEMO_ASSERT_OK_AND_ASSIGN(const ServerStats stats, client().GetStats());
  EXPECT_GE(stats.connections, 1u);
  EXPECT_FALSE(stats.partitions.empty());
  EXPECT_FALSE(stats.ops.empty());
  EXPECT_GT(stats.data_bytes, 0u);

  const std::string backup = dir_->path() + "/backup";
  MNEMO_ASSERT_OK(client().CreateBackup(backup));
  EXPECT_TRUE(std::filesystem::exists(backup));
  EXPECT_EQ(client().CreateBackup(backup).code(), Code::kValidationError);  // exists now
}

TEST_F(RoundTripTest, ConcurrentCallersShareOneClient) {
  const std::string user = User();
  const Conversation conversation = NewConv(user, "busy");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        NewMessage message;
        message.conversation_id = conversation.id;
        message.content = std::to_string(t) + ":" + std::to_string(i);
        message.tokens_used = 1;
        if (!client().AppendMessage(user, message).ok()) ++failures;
        if (!client().GetConversation(user, conversation.id).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation after,
                             client().GetConversation(user, conversation.id));
  EXPECT_EQ(after.message_count, kThreads * kPerThread);
  EXPECT_EQ(after.total_tokens, kThreads * kPerThread);
}

}  // namespace
}  // namespace mnemo::client::testing
