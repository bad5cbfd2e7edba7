// Persistence: everything written is there, identical, after a clean close and after a crash
// (a child process that writes and dies without closing the engine).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class ReopenTest : public EngineTest {};

TEST_F(ReopenTest, EverythingSurvivesCloseAndReopen) {
  const Conversation c = MakeConversation("alice", "Persistent Ünïcode");
  const Conversation deleted = MakeConversation("alice", "deleted one");
  Unwrap(engine_->SoftDeleteConversation("alice", deleted.id));
  std::vector<Uuid> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(
        Append("alice", c.id, i % 2 ? "assistant" : "user", "m" + std::to_string(i), i).id);
  const Document d = MakeDocument("alice", "kept.md");
  const Conversation before = Unwrap(engine_->GetConversation("alice", c.id));

  Reopen();

  const Conversation after = Unwrap(engine_->GetConversation("alice", c.id));
  EXPECT_EQ(after.title, before.title);
  EXPECT_EQ(after.message_count, 20);
  EXPECT_EQ(after.total_tokens, before.total_tokens);
  EXPECT_EQ(after.updated_at, before.updated_at);
  EXPECT_EQ(after.last_message_at, before.last_message_at);
  MessageQuery query;
  query.limit = 100;
  const MessagePage page = Unwrap(engine_->ListMessages("alice", c.id, query));
  ASSERT_EQ(page.items.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(page.items[i].id, ids[i]);
  const UserStats stats = Unwrap(engine_->GetUserStats("alice"));
  EXPECT_EQ(stats.active, 1);
  EXPECT_EQ(stats.deleted, 1);
  EXPECT_EQ(Unwrap(engine_->SearchConversationsByTitle("alice", "ünïcode", {})).total, 1);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", d.id)).filename, "kept.md");

  // Appending after reopen continues the sequence (no overwrite of old messages).
  const Message next = Append("alice", c.id, "user", "after reopen");
  const std::vector<Message> last = Unwrap(engine_->LastMessages("alice", c.id, 2));
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].id, ids.back());
  EXPECT_EQ(last[1].id, next.id);
}

TEST_F(ReopenTest, AcknowledgedWritesSurviveACrash) {
  const Conversation c = MakeConversation("alice");
  const std::string data_dir = dir_.Sub("data");
  engine_.reset();  // the child owns the directory now

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    EngineOptions options;
    options.data_dir = data_dir;
    auto engine = Engine::Open(options);
    if (!engine.ok()) ::_exit(2);
    for (int i = 0; i < 50; ++i) {
      NewMessage input;
      input.conversation_id = c.id;
      input.role = "user";
      input.content = "crash " + std::to_string(i);
      input.tokens_used = 1;
      auto appended = (*engine)->AppendMessage("alice", input);
      if (!appended.ok()) ::_exit(3);
      // Report the acknowledged id, then carry on; the process dies without closing.
      const std::string line = appended->id.ToString() + "\n";
      if (::write(pipe_fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        ::_exit(4);
    }
    ::_exit(0);  // no destructors, no flush, no close: a crash as far as RocksDB is concerned
  }
  ::close(pipe_fds[1]);
  std::string acknowledged;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;)
    acknowledged.append(buf, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);

  Reopen();
  size_t count = 0;
  for (size_t pos = 0; pos < acknowledged.size(); pos = acknowledged.find('\n', pos) + 1) {
    const auto id = Uuid::Parse(acknowledged.substr(pos, 36));
    ASSERT_TRUE(id.has_value());
    EXPECT_TRUE(engine_->GetMessage("alice", *id).ok()) << id->ToString();
    ++count;
  }
  EXPECT_EQ(count, 50u);
  const Conversation after = Unwrap(engine_->GetConversation("alice", c.id));
  EXPECT_EQ(after.message_count, 50);
  EXPECT_EQ(after.total_tokens, 50);
}

TEST_F(ReopenTest, AcknowledgedChunksAreSearchableAfterACrash) {
  constexpr uint32_t kDim = 16;
  EngineOptions options;
  options.data_dir = dir_.Sub("vectors");
  options.dimension = kDim;
  // A first life with a saved graph, so the crash leaves graph and storage out of step.
  Uuid document_id;
  {
    auto engine = Unwrap(Engine::Open(options));
    NewDocument doc;
    doc.filename = "crash.md";
    doc.file_type = "md";
    document_id = Unwrap(engine->CreateDocument("alice", doc)).id;
    std::vector<NewChunk> chunks;
    for (int i = 0; i < 100; ++i) {
      NewChunk chunk;
      chunk.document_id = document_id;
      chunk.chunk_index = i;
      chunk.chunk_text = "before";
      chunk.embedding.assign(kDim, 0.01f);
      chunk.embedding[i % kDim] = 1.0f + static_cast<float>(i) / 100.0f;
      chunks.push_back(std::move(chunk));
    }
    Unwrap(engine->AddChunks("alice", chunks));
    engine->WaitForIndexing();
  }
  const auto vector_for = [&](int i) {
    std::vector<float> v(kDim, -0.5f);
    v[i % kDim] = 3.0f;
    v[(i / kDim) % kDim] += 2.0f;
    v[(i * 7) % kDim] -= 1.0f;
    return v;
  };
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto engine = Engine::Open(options);
    if (!engine.ok()) ::_exit(2);
    for (int i = 0; i < 60; ++i) {
      NewChunk chunk;
      chunk.document_id = document_id;
      chunk.chunk_index = 1000 + i;
      chunk.chunk_text = "after " + std::to_string(i);
      chunk.embedding = vector_for(i);
      if (!(*engine)->AddChunks("alice", {chunk}).ok()) ::_exit(3);
    }
    ::_exit(0);  // no Close(): graphs unsaved, memtables unflushed
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);

  auto engine = Unwrap(Engine::Open(options));
  EXPECT_EQ(Unwrap(engine->GetDocument("alice", document_id)).total_chunks, 160);
  int64_t rows = 0;
  for (const auto& partition : engine->ListPartitions()) rows += partition.rows;
  EXPECT_EQ(rows, 160);
  for (int i = 0; i < 60; ++i) {
    SearchRequest request;
    request.query = vector_for(i);
    request.top_k = 1;
    const SearchResponse response = Unwrap(engine->Search("alice", request));
    ASSERT_EQ(response.hits.size(), 1u);
    EXPECT_EQ(response.hits[0].chunk_index, 1000 + i);
    EXPECT_NEAR(response.hits[0].similarity, 1.0f, 1e-4) << i;
  }
}

TEST_F(ReopenTest, DimensionMismatchOnReopenIsRefused) {
  engine_.reset();
  EngineOptions options;
  options.data_dir = dir_.Sub("data");
  options.dimension = 384;
  auto opened = Engine::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kValidationError);
  EXPECT_EQ(opened.status().field(), "dimension");
  Reopen();  // the default (stored) dimension still opens
  EXPECT_EQ(engine_->dimension(), 1536u);
}

}  // namespace
}  // namespace mnemo
