// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): one valid request of
// every kind, encoded by the C++ client's encoders, and the replies a real dispatcher gives to
// them.  Run by hand when the schema grows; the outputs are committed (small, deterministic up
// to the timestamps and generated ids inside replies).
//   mnemo_fuzz_corpus_gen tests/fuzz/corpus
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "codec.h"  // clients/cpp/src: the client's private encoders
#include "mnemo/engine.h"
#include "protocol/frame.h"
#include "protocol/verify.h"
#include "server/dispatcher.h"
#include "server/stats.h"
#include "storage/key_codec.h"

namespace mnemo::fuzz {
namespace {

namespace fs = std::filesystem;
namespace c = mnemo::client;
namespace enc = mnemo::client::internal;
using namespace std::string_literals;

constexpr uint32_t kDimension = 8;
constexpr char kUser[] = "alice";

c::Uuid Id(uint64_t n) {
  return *c::Uuid::Parse("0190a000-0000-7000-8000-" +
                         std::string(12 - std::to_string(n).size(), '0') + std::to_string(n));
}

std::vector<float> Vec(float seed) {
  std::vector<float> v(kDimension);
  for (uint32_t i = 0; i < kDimension; ++i) v[i] = seed + static_cast<float>(i) * 0.25f;
  return v;
}

// (name, payload) of one request of every kind.
std::vector<std::pair<std::string, std::string>> Requests() {
  const c::Uuid conversation = Id(1), message = Id(2), document = Id(3), chunk = Id(4);
  c::NewConversation new_conversation;
  new_conversation.id = conversation;
  new_conversation.title = "Weather in Berlin";
  new_conversation.metadata = R"({"topic":"weather"})";
  c::NewMessage new_message;
  new_message.id = message;
  new_message.conversation_id = conversation;
  new_message.content = "How warm is it?";
  new_message.tokens_used = 7;
  new_message.tool_calls = R"([{"name":"weather","args":{"city":"Berlin"}}])";
  c::NewDocument new_document;
  new_document.id = document;
  new_document.filename = "notes.md";
  new_document.file_type = "md";
  new_document.content = "# notes";
  c::NewChunk new_chunk;
  new_chunk.id = chunk;
  new_chunk.document_id = document;
  new_chunk.chunk_text = "first chunk";
  new_chunk.embedding = Vec(1);
  new_chunk.metadata = R"({"lang":"en"})";
  c::NewChunk second_chunk = new_chunk;
  second_chunk.id = Id(5);
  second_chunk.chunk_index = 1;
  second_chunk.embedding = Vec(-2);
  c::SearchRequest search;
  search.query = Vec(1);
  search.top_k = 3;
  search.min_similarity = 0.1f;
  search.filters.document_ids = {document};
  search.filters.file_types = {"md"};
  search.filters.metadata_equals = {{"lang", "\"en\""}};
  search.filters.created_from = 0;
  c::ConversationUpdate update;
  update.title = "Weather in Paris";
  update.summary = "short";
  c::MessageQuery query;
  query.order = c::SortOrder::kDescending;
  query.role = c::Role::kUser;
  query.limit = 10;
  c::Batch batch;
  c::NewConversation batch_conversation = new_conversation;
  batch_conversation.id = Id(6);
  c::NewMessage batch_message = new_message;
  batch_message.id = Id(7);
  batch_message.conversation_id = Id(6);
  c::NewChunk batch_chunk = new_chunk;
  batch_chunk.id = Id(8);
  batch_chunk.chunk_index = 2;
  batch.CreateConversation(batch_conversation).AppendMessage(batch_message).AddChunk(batch_chunk);
  // Two messages whose token counts overflowed the conversation's total before they were bounded.
  c::Batch huge_tokens;
  c::NewConversation huge_conversation = new_conversation;
  huge_conversation.id = Id(9);
  c::NewMessage huge_message = new_message;
  huge_message.conversation_id = Id(9);
  huge_message.tokens_used = std::numeric_limits<int64_t>::max();
  huge_tokens.CreateConversation(huge_conversation)
      .AppendMessage(huge_message)
      .AppendMessage(huge_message);

  c::ConversationFilter conversation_filter;
  conversation_filter.model = "claude-sonnet-4-5-20250929";
  conversation_filter.created_from = 0;
  conversation_filter.metadata_equals = {{"topic", "\"weather\""}};
  c::ConversationListOptions filtered_list;
  filtered_list.order = c::ConversationOrder::kUpdatedDesc;
  filtered_list.filter = conversation_filter;
  filtered_list.filter.title_contains = "berlin";
  c::MessageQuery message_filter;
  message_filter.role = c::Role::kUser;
  message_filter.created_from = 0;
  message_filter.metadata_equals = {{"k", "1"}};
  c::MessageUpdate message_update;
  message_update.content = "How cold is it?";
  message_update.tool_calls = "[]";
  message_update.tokens_used = 9;
  c::DocumentFilter document_filter;
  document_filter.file_types = {"md", "pdf"};
  document_filter.filename_contains = "notes";
  c::DocumentListOptions filtered_documents;
  filtered_documents.filter = document_filter;
  c::DocumentUpdate document_update;
  document_update.filename = "renamed.md";
  c::ChunkListOptions chunk_list;
  chunk_list.include_deleted = true;
  c::NewChunk replacement = second_chunk;
  replacement.id = Id(10);
  c::RetentionPolicy retention;
  retention.keep_months = 600;
  retention.purge_after_seconds = 86400;

  uint64_t id = 1;
  return {
      {"hello", enc::EncodeHello(id++, 1, "", "corpus")},
      {"create_conversation", enc::EncodeCreateConversation(id++, kUser, new_conversation)},
      {"upsert_conversation", enc::EncodeUpsertConversation(id++, kUser, new_conversation)},
      {"get_conversation", enc::EncodeGetConversation(id++, kUser, conversation, true)},
      {"list_conversations", enc::EncodeListConversations(id++, kUser, {}, std::nullopt)},
      {"search_titles", enc::EncodeListConversations(id++, kUser, {}, "berlin")},
      {"user_stats", enc::EncodeGetUserStats(id++, kUser)},
      {"update_conversation", enc::EncodeUpdateConversation(id++, kUser, conversation, update)},
      {"append_message", enc::EncodeAppendMessage(id++, kUser, new_message)},
      {"upsert_message", enc::EncodeUpsertMessage(id++, kUser, new_message)},
      {"get_message", enc::EncodeGetMessage(id++, kUser, message)},
      {"list_messages", enc::EncodeListMessages(id++, kUser, conversation, query)},
      {"last_messages", enc::EncodeLastMessages(id++, kUser, conversation, 5)},
      {"last_by_role", enc::EncodeLastMessageByRole(id++, kUser, conversation, c::Role::kUser)},
      {"set_tool_results", enc::EncodeSetToolResults(id++, kUser, message, R"({"temp":21})")},
      {"token_stats", enc::EncodeGetTokenStats(id++, kUser, conversation)},
      {"create_document", enc::EncodeCreateDocument(id++, kUser, new_document)},
      {"get_document", enc::EncodeGetDocument(id++, kUser, document, false)},
      {"list_documents", enc::EncodeListDocuments(id++, kUser, {}, std::nullopt)},
      {"search_filenames", enc::EncodeListDocuments(id++, kUser, {}, "notes")},
      {"count_documents", enc::EncodeCountDocuments(id++, kUser)},
      {"add_chunks", enc::EncodeAddChunks(id++, kUser, {new_chunk, second_chunk})},
      {"count_conversations",
       enc::EncodeCountConversations(id++, kUser, conversation_filter, false, false)},
      {"list_conversations_filtered",
       enc::EncodeListConversations(id++, kUser, filtered_list, std::nullopt)},
      {"count_messages", enc::EncodeCountMessages(id++, kUser, conversation, message_filter, true)},
      {"list_messages_filtered",
       enc::EncodeListMessages(id++, kUser, conversation, message_filter)},
      {"update_message", enc::EncodeUpdateMessage(id++, kUser, message, message_update)},
      {"count_matching_documents",
       enc::EncodeCountMatchingDocuments(id++, kUser, document_filter, true, false)},
      {"list_documents_filtered",
       enc::EncodeListDocuments(id++, kUser, filtered_documents, std::nullopt)},
      {"update_document", enc::EncodeUpdateDocument(id++, kUser, document, document_update)},
      {"get_chunk", enc::EncodeGetChunk(id++, kUser, chunk, false)},
      {"list_chunks", enc::EncodeListChunks(id++, kUser, document, chunk_list)},
      {"soft_delete_chunk", enc::EncodeDeleteChunk(id++, kUser, chunk, false)},
      {"restore_chunk", enc::EncodeRestoreChunk(id++, kUser, chunk)},
      {"replace_chunks", enc::EncodeReplaceChunks(id++, kUser, document, {new_chunk, replacement})},
      {"delete_chunk", enc::EncodeDeleteChunk(id++, kUser, Id(10), true)},
      {"apply_retention_configured", enc::EncodeApplyRetention(id++, std::nullopt)},
      {"apply_retention", enc::EncodeApplyRetention(id++, retention)},
      {"search", enc::EncodeSearch(id++, kUser, search)},
      {"search_batch", enc::EncodeSearchBatch(id++, kUser, {search, search})},
      {"apply_batch", enc::EncodeApplyBatch(id++, kUser, batch)},
      {"apply_batch_huge_tokens", enc::EncodeApplyBatch(id++, kUser, huge_tokens)},
      {"stats", enc::EncodeGetStats(id++)},
      {"partitions", enc::EncodeListPartitions(id++)},
      {"rebuild_partition", enc::EncodeRebuildPartition(id++, "2025-01")},
      {"drop_partition", enc::EncodeDropPartition(id++, "1999-01")},
      {"delete_document", enc::EncodeDeleteDocument(id++, kUser, document, false)},
      {"restore_document", enc::EncodeRestoreDocument(id++, kUser, document)},
      {"delete_message", enc::EncodeDeleteMessage(id++, kUser, message)},
      {"delete_messages", enc::EncodeDeleteMessages(id++, kUser, conversation)},
      {"delete_conversation", enc::EncodeDeleteConversation(id++, kUser, conversation, false)},
      {"restore_conversation", enc::EncodeRestoreConversation(id++, kUser, conversation)},
      {"hard_delete_conversation", enc::EncodeDeleteConversation(id++, kUser, conversation, true)},
  };
}

void Write(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

// Replies from a real dispatcher (service principal), in request order.
std::vector<std::string> Replies(const std::vector<std::pair<std::string, std::string>>& requests,
                                 const fs::path& scratch) {
  EngineOptions options;
  options.data_dir = (scratch / "data").string();
  options.dimension = kDimension;
  options.sync_writes = false;
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "engine: %s\n", engine.status().ToString().c_str());
    std::exit(1);
  }
  server::ServerStats stats;
  server::Dispatcher dispatcher(**engine, stats, {options.data_dir, 1u << 20});
  const server::Principal service{server::KeyKind::kService, "", "svc0000000000000"};
  std::vector<std::string> replies;
  for (const auto& [name, payload] : requests) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    if (request == nullptr) {
      std::fprintf(stderr, "%s does not verify: %s\n", name.c_str(), error.c_str());
      std::exit(1);
    }
    replies.push_back(dispatcher.Handle(service, *request));
  }
  return replies;
}

void WriteKeyCodecSeeds(const fs::path& dir) {
  // schema length, kinds, A's values, shared count, B's values, cut, month, label, raw bytes
  Write(dir / "u64_string", std::string("\x02\x01\x04", 3) + std::string(8, '\x01') +
                                "\x03"
                                "abc"
                                "\x01"
                                "\x02"
                                "ab" +
                                std::string("\x05", 1) + std::string(16, '\x02') +
                                keys::PayloadKey(202501, 7));
  Write(dir / "uuid_i64desc", std::string("\x03\x05\x03\x00", 4) + std::string(16, '\x7f') +
                                  std::string(8, '\x80') + "\x09" + "\x01" +
                                  std::string(8, '\x80') + "\x09" + "\x20" +
                                  std::string(16, '\x00') + keys::MessageKey(Uuid(), 3));
  Write(dir / "user_time_key", std::string("\x05\x00\x04\x00\x03\x05", 6) +
                                   "\x10"
                                   "\x05"
                                   "alice"
                                   "\x00"s +
                                   std::string(8, '\x00') + std::string(16, '\x11') +
                                   "\x02"
                                   "\x03"
                                   "bob"
                                   "\x01" +
                                   std::string(8, '\x00') + std::string(16, '\x11') + "\x0c" +
                                   keys::UserTimeKey(keys::IndexTag::kConversationByCreated,
                                                     "al\0ce"s, keys::Scope::kAll, 5, Uuid()));
  Write(dir / "hex",
        std::string("\x01\x04\x08", 3) + "a\0b\xff\x01z\0\0"s + "\x00\x03"s + "0a1B" + "ff00");
}

}  // namespace
}  // namespace mnemo::fuzz

int main(int argc, char** argv) {
  using namespace mnemo::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root(argv[1]);
  spdlog::set_level(spdlog::level::warn);  // the dispatcher logs every request
  for (const char* target : {"frame", "dispatch", "key_codec"})
    fs::create_directories(root / target);
  const fs::path scratch = fs::temp_directory_path() / "mnemo-fuzz-corpus-gen";
  fs::remove_all(scratch);

  const auto requests = Requests();
  const auto replies = Replies(requests, scratch);
  std::string stream;  // every request framed, back to back
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& [name, payload] = requests[i];
    Write(root / "dispatch" / name, std::string(1, '\x00') + payload);
    Write(root / "frame" / ("req_" + name), std::string(1, '\x01') + payload);
    Write(root / "frame" / ("resp_" + name), std::string(1, '\x01') + replies[i]);
    mnemo::protocol::AppendFrame(payload, &stream);
  }
  Write(root / "dispatch" / "as_alice_create_conversation",
        std::string(1, '\x01') + requests[1].second);
  Write(root / "dispatch" / "as_bob_get_conversation", std::string(1, '\x02') + requests[3].second);
  Write(root / "frame" / "stream_of_requests", std::string(1, '\x00') + stream.substr(0, 4096));
  Write(root / "frame" / "stream_empty_frame", std::string(1, '\x00') + std::string(4, '\x00'));
  WriteKeyCodecSeeds(root / "key_codec");
  fs::remove_all(scratch);
  std::printf("wrote %zu requests and replies under %s\n", requests.size(), root.c_str());
  return 0;
}
