// The C++ client's single-row edits, filters and counts, chunk operations and retention against
// a real mnemod, with good and bad input for each method.
#include <gtest/gtest.h>

#include <thread>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using EditsTest = LiveServerTest;

std::vector<float> Basis(size_t i) {
  std::vector<float> v(MnemodProcess::kDimension, 0.0f);
  v[i % v.size()] = 1.0f;
  return v;
}

void ExpectError(const Error& error, Code code, const std::string& field) {
  EXPECT_EQ(error.code, code) << error.ToString();
  if (!field.empty()) {
    EXPECT_EQ(error.field, field) << error.ToString();
  }
}

TEST_F(EditsTest, MessageUpdateDeleteAndCounts) {
  const std::string user = User();
  const Conversation conversation = NewConv(user, "edits");
  const Message first = Append(user, conversation.id, "user", "hello", 5);
  const Message second = Append(user, conversation.id, "assistant", "hi", 7);

  MessageUpdate update;
  update.content = "hi there";
  update.tokens_used = 9;
  update.tool_calls = "[]";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Message edited, client().UpdateMessage(user, second.id, update));
  EXPECT_EQ(edited.content, "hi there");
  EXPECT_EQ(edited.tool_calls, "[]");  // an empty array round-trips as itself
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation after_edit,
                             client().GetConversation(user, conversation.id));
  EXPECT_EQ(after_edit.total_tokens, 14);

  auto bad = client().UpdateMessage(user, second.id, MessageUpdate{});
  ASSERT_FALSE(bad.ok());
  ExpectError(bad.error(), Code::kValidationError, "update");
  update = {};
  update.role = "robot";
  ExpectError(client().UpdateMessage(user, second.id, update).error(), Code::kValidationError,
              "role");
  update.role = "user";
  ExpectError(client().UpdateMessage("someone-else", second.id, update).error(), Code::kNotFound,
              "");

  MessageQuery assistants;
  assistants.role = Role::kAssistant;
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t count,
                             client().CountMessages(user, conversation.id, assistants));
  EXPECT_EQ(count, 1);
  MessageQuery tool_calls;
  tool_calls.only_with_tool_calls = true;  // an empty array is no tool call
  MNEMO_ASSERT_OK_AND_ASSIGN(const bool any_calls,
                             client().MessagesExist(user, conversation.id, tool_calls));
  EXPECT_FALSE(any_calls);
  MessageQuery by_time;
  by_time.created_from = second.created_at;
  MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage recent,
                             client().ListMessages(user, conversation.id, by_time));
  ASSERT_EQ(recent.items.size(), 1u);
  EXPECT_EQ(recent.items[0].id, second.id);
  by_time.created_until = second.created_at;
  ExpectError(client().CountMessages(user, conversation.id, by_time).error(),
              Code::kValidationError, "created_until");
  ExpectError(client().CountMessages(user, Uuid::Generate()).error(), Code::kNotFound, "");

  MNEMO_ASSERT_OK_AND_ASSIGN(const Message deleted, client().DeleteMessage(user, first.id));
  EXPECT_EQ(deleted.content, "hello");
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation after_delete,
                             client().GetConversation(user, conversation.id));
  EXPECT_EQ(after_delete.message_count, 1);
  EXPECT_EQ(after_delete.total_tokens, 9);
  ExpectError(client().DeleteMessage(user, first.id).error(), Code::kNotFound, "");
  ExpectError(client().GetMessage(user, first.id).error(), Code::kNotFound, "");
}

TEST_F(EditsTest, ConversationAndDocumentFiltersCountsAndUpdates) {
  const std::string user = User();
  NewConversation input;
  input.title = "Trip to Kyoto";
  input.model = "gpt-4o";
  input.metadata = R"({"tag":"travel"})";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation kyoto, client().CreateConversation(user, input));
  NewConv(user, "Groceries");

  ConversationFilter by_model;
  by_model.model = "gpt-4o";
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t gpt, client().CountConversations(user, by_model));
  EXPECT_EQ(gpt, 1);
  ConversationListOptions options;
  options.filter.metadata_equals = {{"tag", "\"travel\""}};
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage travel,
                             client().ListConversations(user, options));
  ASSERT_EQ(travel.items.size(), 1u);
  EXPECT_EQ(travel.items[0].id, kyoto.id);
  EXPECT_EQ(travel.total, 1);
  options.filter = {};
  options.filter.created_from = kyoto.created_at + 1;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage later,
                             client().ListConversations(user, options));
  ASSERT_EQ(later.items.size(), 1u);
  EXPECT_EQ(later.items[0].title, "Groceries");
  MNEMO_ASSERT_OK_AND_ASSIGN(const ConversationPage titled,
                             client().SearchConversationsByTitle(user, "KYOTO"));
  EXPECT_EQ(titled.total, 1);
  ConversationFilter nothing;
  nothing.model = "none";
  MNEMO_ASSERT_OK_AND_ASSIGN(const bool exists, client().ConversationsExist(user, nothing));
  EXPECT_FALSE(exists);
  options.filter = {};
  options.filter.metadata_equals = {{"tag", "{bad"}};
  ExpectError(client().ListConversations(user, options).error(), Code::kValidationError,
              "metadata");

  NewDocument document;
  document.filename = "notes.md";
  document.file_type = "md";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document notes, client().CreateDocument(user, document));
  document.filename = "paper.pdf";
  document.file_type = "pdf";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document paper, client().CreateDocument(user, document));
  DocumentFilter pdfs;
  pdfs.file_types = {"pdf"};
  MNEMO_ASSERT_OK_AND_ASSIGN(const int64_t pdf_count, client().CountDocuments(user, pdfs));
  EXPECT_EQ(pdf_count, 1);
  DocumentUpdate rename;
  rename.filename = "notes.pdf";
  rename.file_type = "pdf";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document renamed,
                             client().UpdateDocument(user, notes.id, rename));
  EXPECT_EQ(renamed.file_type, "pdf");
  DocumentListOptions list;
  list.filter.file_types = {"pdf"};
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentPage pdf_page, client().ListDocuments(user, list));
  EXPECT_EQ(pdf_page.total, 2);
  MNEMO_ASSERT_OK_AND_ASSIGN(const DocumentPage named,
                             client().SearchDocumentsByFilename(user, "PAPER"));
  ASSERT_EQ(named.items.size(), 1u);
  EXPECT_EQ(named.items[0].id, paper.id);
  rename = {};
  rename.file_type = "exe";
  ExpectError(client().UpdateDocument(user, notes.id, rename).error(), Code::kValidationError,
              "file_type");
  pdfs.file_types = {"exe"};
  ExpectError(client().DocumentsExist(user, pdfs).error(), Code::kValidationError, "file_types");
}

TEST_F(EditsTest, ChunkOperationsAndSearch) {
  const std::string user = User();
  NewDocument document;
  document.filename = "kb.md";
  document.file_type = "md";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document doc, client().CreateDocument(user, document));
  std::vector<NewChunk> chunks;
  for (int64_t i = 0; i < 3; ++i) {
    NewChunk chunk;
    chunk.document_id = doc.id;
    chunk.chunk_index = i;
    chunk.chunk_text = "part " + std::to_string(i);
    chunk.embedding = Basis(static_cast<size_t>(i));
    chunks.push_back(chunk);
  }
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> added, client().AddChunks(user, chunks));
  const auto top_hit = [&](size_t basis) -> std::optional<Uuid> {
    SearchRequest request;
    request.query = Basis(basis);
    request.top_k = 1;
    request.min_similarity = 0.99f;
    auto response = client().Search(user, request);
    EXPECT_TRUE(response.ok()) << response.error().ToString();
    if (!response.ok() || response->hits.empty()) return std::nullopt;
    return response->hits[0].chunk_id;
  };
  EXPECT_EQ(top_hit(1), added[1].id);

  MNEMO_ASSERT_OK_AND_ASSIGN(const Chunk soft, client().SoftDeleteChunk(user, added[1].id));
  EXPECT_TRUE(soft.is_deleted);
  EXPECT_TRUE(soft.deleted_at.has_value());
  EXPECT_EQ(top_hit(1), std::nullopt);
  ExpectError(client().GetChunk(user, added[1].id).error(), Code::kNotFound, "");
  MNEMO_ASSERT_OK_AND_ASSIGN(const Chunk hidden, client().GetChunk(user, added[1].id, true));
  EXPECT_EQ(hidden.chunk_text, "part 1");
  ChunkListOptions all;
  all.include_deleted = true;
  MNEMO_ASSERT_OK_AND_ASSIGN(const ChunkPage page, client().ListChunks(user, doc.id, all));
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_TRUE(page.items[1].is_deleted);
  MNEMO_ASSERT_OK_AND_ASSIGN(const ChunkPage live, client().ListChunks(user, doc.id));
  EXPECT_EQ(live.total, 2);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Chunk back, client().RestoreChunk(user, added[1].id));
  EXPECT_FALSE(back.is_deleted);
  EXPECT_EQ(top_hit(1), added[1].id);
  MNEMO_ASSERT_OK(client().DeleteChunk(user, added[2].id));
  ExpectError(client().GetChunk(user, added[2].id, true).error(), Code::kNotFound, "");
  ChunkListOptions bad_limit;
  bad_limit.limit = 0;
  ExpectError(client().ListChunks(user, doc.id, bad_limit).error(), Code::kValidationError,
              "limit");
  ExpectError(client().SoftDeleteChunk("intruder", added[0].id).error(), Code::kNotFound, "");

  // Replace: the new set or the old one, never a mix; a bad set changes nothing.
  std::vector<NewChunk> replacement(1, chunks[0]);
  replacement[0].chunk_text = "rewritten";
  replacement[0].embedding = Basis(5);
  std::vector<NewChunk> broken = replacement;
  broken[0].embedding.pop_back();
  ExpectError(client().ReplaceChunks(user, doc.id, broken).error(), Code::kValidationError,
              "embedding");
  EXPECT_EQ(top_hit(0), added[0].id);
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> replaced,
                             client().ReplaceChunks(user, doc.id, replacement));
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(top_hit(0), std::nullopt);
  EXPECT_EQ(top_hit(5), replaced[0].id);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document after, client().GetDocument(user, doc.id));
  EXPECT_EQ(after.total_chunks, 1);
}

TEST_F(EditsTest, RetentionRunsOnTheServer) {
  const std::string user = User();
  NewDocument document;
  document.filename = "old.md";
  document.file_type = "md";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document doc, client().CreateDocument(user, document));
  NewChunk chunk;
  chunk.document_id = doc.id;
  chunk.chunk_text = "from 2019";
  chunk.embedding = Basis(3);
  chunk.created_at = 1'560'000'000'000'000;  // June 2019
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> added, client().AddChunks(user, {chunk}));

  RetentionPolicy policy;
  policy.keep_months = 12;
  policy.archive_dir = dir_->path() + "/archives";
  MNEMO_ASSERT_OK_AND_ASSIGN(const RetentionReport report, client().ApplyRetention(policy));
  ASSERT_EQ(report.retired.size(), 1u);
  EXPECT_EQ(report.retired[0].month, "2019-06");
  EXPECT_EQ(report.retired[0].rows, 1);
  EXPECT_EQ(report.retired[0].archive_path, policy.archive_dir + "/2019-06.mnemoarc");
  EXPECT_GT(report.month_cutoff, chunk.created_at.value());
  ExpectError(client().GetChunk(user, added[0].id).error(), Code::kNotFound, "");
  MNEMO_ASSERT_OK_AND_ASSIGN(const AttachResult attached,
                             client().AttachArchive(report.retired[0].archive_path));
  EXPECT_EQ(attached.attached, 1);
  // The configured policy of this server: the default purge age (30 days) and no month limit.
  MNEMO_ASSERT_OK_AND_ASSIGN(const RetentionReport configured,
                             client().ApplyRetention(std::nullopt));
  EXPECT_EQ(configured.month_cutoff, 0);
  EXPECT_EQ(configured.now - configured.purge_cutoff, int64_t{30} * 24 * 3600 * 1'000'000);
  policy = {};
  policy.purge_after_seconds = -1;
  ExpectError(client().ApplyRetention(policy).error(), Code::kValidationError,
              "purge_after_seconds");
}

}  // namespace
}  // namespace mnemo::client::testing
