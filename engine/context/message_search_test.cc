// Message embeddings and Engine::SearchMessages: written and deleted with their messages,
// filtered by conversation, role and time, isolated per user, kept across a reopen, exact against
// a brute-force ranking, and bad input refused with nothing stored.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/batch.h"
#include "testing/engine_fixture.h"
#include "testing/vectors.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;

std::vector<float> Basis(int i) { return testing::BasisVector(kDim, i); }

class MessageSearchTest : public testing::EngineTest {
 protected:
  void SetUp() override { Reopen(Options()); }

  static EngineOptions Options() {
    EngineOptions options;
    options.dimension = kDim;
    return options;
  }

  Message AppendWith(const std::string& user, const Uuid& conversation, const std::string& role,
                     const std::string& content, std::vector<float> embedding) {
    NewMessage input;
    input.conversation_id = conversation;
    input.role = role;
    input.content = content;
    input.embedding = std::move(embedding);
    return Unwrap(engine_->AppendMessage(user, input));
  }

  MessageSearchResponse Search(const std::string& user, std::vector<float> query,
                               int64_t top_k = 10, MessageSearchFilters filters = {}) {
    MessageSearchRequest request;
    request.query = std::move(query);
    request.top_k = top_k;
    request.filters = std::move(filters);
    return Unwrap(engine_->SearchMessages(user, request));
  }

  static std::vector<std::string> Contents(const MessageSearchResponse& response) {
    std::vector<std::string> out;
    for (const MessageHit& hit : response.hits) out.push_back(hit.message.content);
    return out;
  }
};

TEST_F(MessageSearchTest, FindsMessagesWithEmbeddingsNearestFirst) {
  const Conversation conv = MakeConversation("alice");
  const Message m0 = AppendWith("alice", conv.id, "user", "zero", Basis(0));
  AppendWith("alice", conv.id, "assistant", "one", Basis(1));
  const Message plain = Append("alice", conv.id, "user", "no embedding");
  std::vector<float> near_zero = Basis(0);
  near_zero[1] = 0.5f;
  AppendWith("alice", conv.id, "user", "near zero", near_zero);

  EXPECT_TRUE(m0.has_embedding);
  EXPECT_FALSE(plain.has_embedding);
  EXPECT_TRUE(Unwrap(engine_->GetMessage("alice", m0.id)).has_embedding);
  EXPECT_FALSE(Unwrap(engine_->GetMessage("alice", plain.id)).has_embedding);

  const MessageSearchResponse found = Search("alice", Basis(0));
  EXPECT_EQ(Contents(found), (std::vector<std::string>{"zero", "near zero", "one"}));
  EXPECT_FLOAT_EQ(found.hits[0].similarity, 1.0f);
  EXPECT_EQ(found.hits[0].message.id, m0.id);
  EXPECT_EQ(found.hits[0].message.conversation_id, conv.id);
  EXPECT_TRUE(found.exact);
  EXPECT_TRUE(found.fewer_than_top_k);  // three messages carry embeddings, ten were asked for
  EXPECT_EQ(engine_->GetMetrics().message_vectors, 3);
  EXPECT_TRUE(engine_->GetMetrics().partitions.empty());  // messages are in no partition
  EXPECT_EQ(Search("alice", Basis(0), 2).hits.size(), 2u);
  EXPECT_FALSE(Search("alice", Basis(0), 2).fewer_than_top_k);
}

TEST_F(MessageSearchTest, ChunkAndMessageSearchesDoNotSeeEachOther) {
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "a message", Basis(3));
  SearchRequest chunks;
  chunks.query = Basis(3);
  EXPECT_TRUE(Unwrap(engine_->Search("alice", chunks)).hits.empty());

  // Each search's top 1 is its own kind, even when a row of the other kind is nearer.
  const Document doc = MakeDocument("alice");
  NewChunk chunk;
  chunk.document_id = doc.id;
  chunk.chunk_text = "a chunk";
  chunk.embedding = Basis(4);
  Unwrap(engine_->AddChunks("alice", {chunk}));
  EXPECT_EQ(Contents(Search("alice", Basis(4), 1)), (std::vector<std::string>{"a message"}));
  chunks.top_k = 1;
  const SearchResponse found = Unwrap(engine_->Search("alice", chunks));
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].chunk_text, "a chunk");
}

TEST_F(MessageSearchTest, FiltersByConversationRoleAndTime) {
  const Conversation a = MakeConversation("alice", "a");
  const Conversation b = MakeConversation("alice", "b");
  AppendWith("alice", a.id, "user", "a user", Basis(0));
  const Message middle = AppendWith("alice", a.id, "assistant", "a assistant", Basis(0));
  AppendWith("alice", b.id, "user", "b user", Basis(0));

  MessageSearchFilters in_b;
  in_b.conversation_ids = {b.id};
  EXPECT_EQ(Contents(Search("alice", Basis(0), 10, in_b)), (std::vector<std::string>{"b user"}));

  MessageSearchFilters assistants;
  assistants.roles = {Role::kAssistant};
  EXPECT_EQ(Contents(Search("alice", Basis(0), 10, assistants)),
            (std::vector<std::string>{"a assistant"}));
  MessageSearchFilters users_and_tools;
  users_and_tools.roles = {Role::kUser, Role::kTool};
  EXPECT_EQ(Search("alice", Basis(0), 10, users_and_tools).hits.size(), 2u);

  MessageSearchFilters from_middle;
  from_middle.created_from = middle.created_at;
  auto later = Contents(Search("alice", Basis(0), 10, from_middle));
  std::sort(later.begin(), later.end());
  EXPECT_EQ(later, (std::vector<std::string>{"a assistant", "b user"}));
  MessageSearchFilters before_middle;
  before_middle.created_until = middle.created_at;
  EXPECT_EQ(Contents(Search("alice", Basis(0), 10, before_middle)),
            (std::vector<std::string>{"a user"}));
}

TEST_F(MessageSearchTest, UsersAreIsolated) {
  const Conversation mine = MakeConversation("alice");
  const Conversation theirs = MakeConversation("bob");
  AppendWith("alice", mine.id, "user", "alice's", Basis(0));
  AppendWith("bob", theirs.id, "user", "bob's", Basis(0));
  EXPECT_EQ(Contents(Search("alice", Basis(0))), (std::vector<std::string>{"alice's"}));
  EXPECT_EQ(Contents(Search("bob", Basis(0))), (std::vector<std::string>{"bob's"}));
  // Naming another user's conversation in the filter finds nothing.
  MessageSearchFilters theirs_only;
  theirs_only.conversation_ids = {theirs.id};
  EXPECT_TRUE(Search("alice", Basis(0), 10, theirs_only).hits.empty());
  EXPECT_TRUE(Search("carol", Basis(0)).hits.empty());
}

TEST_F(MessageSearchTest, VectorsGoWithTheirMessages) {
  const Conversation conv = MakeConversation("alice");
  const Message gone = AppendWith("alice", conv.id, "user", "deleted", Basis(0));
  AppendWith("alice", conv.id, "user", "kept", Basis(1));
  Unwrap(engine_->DeleteMessage("alice", gone.id));
  EXPECT_EQ(Contents(Search("alice", Basis(0))), (std::vector<std::string>{"kept"}));

  // Soft-deleting the conversation hides its messages from the ranking itself (a nearer hidden
  // message never takes a place of the top k); restoring it brings them back.
  const Conversation other = MakeConversation("alice", "other");
  std::vector<float> farther = Basis(1);
  farther[2] = 0.5f;
  const Message visible = AppendWith("alice", other.id, "user", "visible", farther);
  Unwrap(engine_->SoftDeleteConversation("alice", conv.id));
  EXPECT_EQ(Contents(Search("alice", Basis(1), 1)), (std::vector<std::string>{"visible"}));
  Unwrap(engine_->DeleteMessage("alice", visible.id));
  EXPECT_TRUE(Search("alice", Basis(1)).hits.empty());
  Unwrap(engine_->UndeleteConversation("alice", conv.id));
  EXPECT_EQ(Contents(Search("alice", Basis(1))), (std::vector<std::string>{"kept"}));

  Unwrap(engine_->DeleteAllMessages("alice", conv.id));
  EXPECT_TRUE(Search("alice", Basis(1)).hits.empty());

  const Message again = AppendWith("alice", conv.id, "user", "again", Basis(2));
  ASSERT_TRUE(engine_->HardDeleteConversation("alice", conv.id).ok());
  EXPECT_TRUE(Search("alice", Basis(2)).hits.empty());
  EXPECT_TRUE(engine_->GetMessage("alice", again.id).status().IsNotFound());
  // Nothing is left to come back on the next open.
  Reopen(Options());
  EXPECT_TRUE(Search("alice", Basis(2)).hits.empty());
}

TEST_F(MessageSearchTest, AConversationIdReusedAfterAHardDeleteStartsLive) {
  NewConversation input;
  input.id = Uuid::Generate();
  input.title = "reused";
  Unwrap(engine_->CreateConversation("alice", input));
  AppendWith("alice", *input.id, "user", "first life", Basis(0));
  Unwrap(engine_->SoftDeleteConversation("alice", *input.id));
  ASSERT_TRUE(engine_->HardDeleteConversation("alice", *input.id).ok());
  Unwrap(engine_->CreateConversation("alice", input));
  AppendWith("alice", *input.id, "user", "second life", Basis(0));
  EXPECT_EQ(Contents(Search("alice", Basis(0))), (std::vector<std::string>{"second life"}));
}

TEST_F(MessageSearchTest, UpsertReplacesTheEmbeddingAndUpdatesKeepIt) {
  const Conversation conv = MakeConversation("alice");
  const Message m = AppendWith("alice", conv.id, "user", "text", Basis(0));
  NewMessage upsert;
  upsert.id = m.id;
  upsert.conversation_id = conv.id;
  upsert.role = "user";
  upsert.content = "new text";
  upsert.embedding = Basis(4);
  EXPECT_TRUE(Unwrap(engine_->UpsertMessage("alice", upsert)).has_embedding);
  EXPECT_TRUE(Search("alice", Basis(0), 10).hits[0].similarity < 0.5f);
  ASSERT_EQ(Search("alice", Basis(4)).hits.size(), 1u);
  EXPECT_FLOAT_EQ(Search("alice", Basis(4)).hits[0].similarity, 1.0f);

  // An update keeps the embedding; a role change moves it to the new role.
  MessageUpdate update;
  update.role = "assistant";
  update.content = "edited";
  const Message updated = Unwrap(engine_->UpdateMessage("alice", m.id, update));
  EXPECT_TRUE(updated.has_embedding);
  MessageSearchFilters users;
  users.roles = {Role::kUser};
  EXPECT_TRUE(Search("alice", Basis(4), 10, users).hits.empty());
  MessageSearchFilters assistants;
  assistants.roles = {Role::kAssistant};
  EXPECT_EQ(Contents(Search("alice", Basis(4), 10, assistants)),
            (std::vector<std::string>{"edited"}));
  Unwrap(engine_->SetToolResults("alice", m.id, "{\"ok\":true}"));
  EXPECT_EQ(Search("alice", Basis(4)).hits.size(), 1u);

  // An upsert without an embedding removes the stored one.
  upsert.embedding.clear();
  EXPECT_FALSE(Unwrap(engine_->UpsertMessage("alice", upsert)).has_embedding);
  EXPECT_TRUE(Search("alice", Basis(4)).hits.empty());
  Reopen(Options());
  EXPECT_TRUE(Search("alice", Basis(4)).hits.empty());
}

TEST_F(MessageSearchTest, SurvivesReopenWithDeletesAndConversationStates) {
  const Conversation live = MakeConversation("alice", "live");
  const Conversation hidden = MakeConversation("alice", "hidden");
  for (int i = 0; i < 20; ++i)
    AppendWith("alice", live.id, "user", "live " + std::to_string(i), Basis(i));
  const Message deleted = AppendWith("alice", live.id, "user", "deleted", Basis(0));
  AppendWith("alice", hidden.id, "user", "hidden", Basis(0));
  Unwrap(engine_->DeleteMessage("alice", deleted.id));
  Unwrap(engine_->SoftDeleteConversation("alice", hidden.id));
  engine_->WaitForIndexing();
  Reopen(Options());
  // Appended after the reopen: labels continue above the stored ones.
  AppendWith("alice", live.id, "tool", "after reopen", Basis(0));
  const MessageSearchResponse found = Search("alice", Basis(0), 20);
  std::vector<std::string> contents = Contents(found);
  std::sort(contents.begin(), contents.end());
  EXPECT_EQ(contents[0], "after reopen");
  EXPECT_EQ(std::count_if(found.hits.begin(), found.hits.end(),
                          [](const MessageHit& hit) { return hit.similarity > 0.99f; }),
            4);  // live 0, live 8, live 16 and the new one; never "deleted" or "hidden"
  for (const MessageHit& hit : found.hits) {
    EXPECT_NE(hit.message.content, "deleted");
    EXPECT_NE(hit.message.content, "hidden");
  }
  Unwrap(engine_->UndeleteConversation("alice", hidden.id));
  MessageSearchFilters in_hidden;
  in_hidden.conversation_ids = {hidden.id};
  EXPECT_EQ(Contents(Search("alice", Basis(0), 10, in_hidden)),
            (std::vector<std::string>{"hidden"}));
}

TEST_F(MessageSearchTest, MatchesABruteForceRanking) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const Conversation conv = MakeConversation("alice");
  std::vector<std::pair<std::string, std::vector<float>>> stored;
  std::vector<WriteOp> ops;
  for (int i = 0; i < 600; ++i) {
    std::vector<float> v(kDim);
    for (float& x : v) x = normal(rng);
    NewMessage input;
    input.conversation_id = conv.id;
    input.role = "user";
    input.content = "m" + std::to_string(i);
    input.embedding = v;
    ops.push_back(AppendMessageOp{input});
    stored.emplace_back(input.content, v);
  }
  Unwrap(engine_->ApplyBatch("alice", ops));
  engine_->WaitForIndexing();
  for (int q = 0; q < 20; ++q) {
    std::vector<float> query(kDim);
    for (float& x : query) x = normal(rng);
    std::vector<std::pair<double, std::string>> expected;
    for (const auto& [content, v] : stored)
      expected.emplace_back(testing::Cosine(query, v), content);
    std::sort(expected.rbegin(), expected.rend());
    MessageSearchRequest request;
    request.query = query;
    request.top_k = 10;
    request.ef = kMaxEf;
    const MessageSearchResponse found = Unwrap(engine_->SearchMessages("alice", request));
    ASSERT_EQ(found.hits.size(), 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(found.hits[i].message.content, expected[i].second)
          << "query " << q << " rank " << i;
      EXPECT_NEAR(found.hits[i].similarity, expected[i].first, 1e-4);
    }
  }
}

// Each append stores its vector inline in its batch; the vector log later moves them to its
// segment files, and the message graph reads them there.  Answers stay exact throughout.
TEST_F(MessageSearchTest, VectorsMovedOutOfTheirBatchesStayExact) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  const Conversation conv = MakeConversation("alice");
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < 130; ++i) {
    std::vector<float> v(kDim);
    for (float& x : v) x = normal(rng);
    AppendWith("alice", conv.id, "user", "m" + std::to_string(i), v);
    vectors.push_back(std::move(v));
  }
  engine_->WaitForIndexing();
  const std::string segments = dir_.Sub("data") + "/vectors";
  bool moved = false;
  for (int attempt = 0; attempt < 200 && !moved; ++attempt) {
    for (const auto& entry : std::filesystem::directory_iterator(segments))
      moved = moved || std::filesystem::file_size(entry.path()) > 0;
    if (!moved) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(moved) << "no vector was moved to the segments";
  const auto expect_exact = [&] {
    for (int i = 0; i < 130; i += 9) {
      const MessageSearchResponse found = Search("alice", vectors[i], 1);
      ASSERT_EQ(found.hits.size(), 1u) << i;
      EXPECT_EQ(found.hits[0].message.content, "m" + std::to_string(i));
      EXPECT_NEAR(found.hits[0].similarity, 1.0f, 1e-5) << i;
    }
  };
  expect_exact();
  Reopen(Options());  // the rest move at open
  expect_exact();
}

TEST_F(MessageSearchTest, BadEmbeddingsAreRefusedAndNothingIsStored) {
  const Conversation conv = MakeConversation("alice");
  NewMessage input;
  input.conversation_id = conv.id;
  input.role = "user";
  input.content = "x";
  input.embedding = std::vector<float>(kDim + 1, 1.0f);
  auto wrong_dim = engine_->AppendMessage("alice", input);
  ASSERT_TRUE(wrong_dim.status().IsValidationError());
  EXPECT_EQ(wrong_dim.status().field(), "embedding");
  input.embedding = std::vector<float>(kDim, 0.0f);
  EXPECT_EQ(engine_->AppendMessage("alice", input).status().field(), "embedding");
  input.embedding = Basis(0);
  input.embedding[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(engine_->AppendMessage("alice", input).status().field(), "embedding");
  // A batch whose second op is bad writes neither.
  NewMessage good = input;
  good.embedding = Basis(0);
  EXPECT_FALSE(engine_->ApplyBatch("alice", {AppendMessageOp{good}, AppendMessageOp{input}}).ok());
  EXPECT_EQ(Unwrap(engine_->GetConversation("alice", conv.id, false)).message_count, 0);
  EXPECT_TRUE(Search("alice", Basis(0)).hits.empty());
  Reopen(Options());
  EXPECT_TRUE(Search("alice", Basis(0)).hits.empty());
}

TEST_F(MessageSearchTest, BadQueriesNameTheirField) {
  const auto field_of = [&](const MessageSearchRequest& request) {
    auto found = engine_->SearchMessages("alice", request);
    EXPECT_TRUE(found.status().IsValidationError()) << found.status().ToString();
    return std::string(found.status().field());
  };
  MessageSearchRequest request;
  request.query = Basis(0);
  request.query.push_back(1.0f);
  EXPECT_EQ(field_of(request), "query");
  request.query = std::vector<float>(kDim, 0.0f);
  EXPECT_EQ(field_of(request), "query");
  request.query = Basis(0);
  request.top_k = 0;
  EXPECT_EQ(field_of(request), "top_k");
  request.top_k = kMaxTopK + 1;
  EXPECT_EQ(field_of(request), "top_k");
  request.top_k = 10;
  request.min_similarity = 2.0f;
  EXPECT_EQ(field_of(request), "min_similarity");
  request.min_similarity.reset();
  request.ef = 0;
  EXPECT_EQ(field_of(request), "ef");
  request.ef.reset();
  request.filters.roles = {static_cast<Role>(9)};
  EXPECT_EQ(field_of(request), "filters.roles");
  request.filters.roles.clear();
  request.filters.created_from = 100;
  request.filters.created_until = 100;
  EXPECT_EQ(field_of(request), "filters.created_until");
  EXPECT_TRUE(engine_->SearchMessages("", MessageSearchRequest{}).status().IsValidationError());
}

}  // namespace
}  // namespace mnemo
