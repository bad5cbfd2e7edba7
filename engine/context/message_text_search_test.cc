// Keyword (BM25) and hybrid message search: every message's content is indexed in the write that
// stores it (with or without an embedding) and leaves the index with it (edit, delete, purge,
// conversation delete), soft-deleted conversations are hidden, users are isolated (results and
// BM25 statistics), month partitions leave messages alone, failed writes index nothing, the index
// survives a reopen, messages stored without terms are backfilled, fusion matches RRF computed
// by hand, and bad queries are refused naming their field.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mnemo/batch.h"
#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;

std::vector<float> Basis(int i) { return testing::BasisVector(kDim, i); }

class MessageTextSearchTest : public testing::EngineTest {
 protected:
  void SetUp() override { Reopen(Options()); }

  static EngineOptions Options() {
    EngineOptions options;
    options.dimension = kDim;
    return options;
  }

  Message AppendWith(const std::string& user, const Uuid& conversation, const std::string& role,
                     const std::string& content, std::vector<float> embedding = {}) {
    NewMessage input;
    input.conversation_id = conversation;
    input.role = role;
    input.content = content;
    input.embedding = std::move(embedding);
    return Unwrap(engine_->AppendMessage(user, input));
  }

  Result<MessageSearchResponse> TrySearch(const std::string& user, const std::string& text,
                                          MessageSearchFilters filters = {}, int64_t top_k = 10) {
    MessageSearchRequest request;
    request.query_text = text;
    request.top_k = top_k;
    request.filters = std::move(filters);
    return engine_->SearchMessages(user, request);
  }

  MessageSearchResponse Search(const std::string& user, const std::string& text,
                               MessageSearchFilters filters = {}, int64_t top_k = 10) {
    return Unwrap(TrySearch(user, text, std::move(filters), top_k));
  }

  std::vector<std::string> Found(const std::string& user, const std::string& text,
                                 MessageSearchFilters filters = {}) {
    return Contents(Search(user, text, std::move(filters)));
  }

  static std::vector<std::string> Contents(const MessageSearchResponse& response) {
    std::vector<std::string> out;
    for (const MessageHit& hit : response.hits) out.push_back(hit.message.content);
    return out;
  }

  static std::vector<std::string> Sorted(std::vector<std::string> values) {
    std::sort(values.begin(), values.end());
    return values;
  }

  int64_t MessageRows() { return engine_->TextIndexStats()->message_rows; }
};

TEST_F(MessageTextSearchTest, FindsEnglishChineseAndMixedContent) {
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "The quick brown fox jumps over the lazy dog");
  AppendWith("alice", conv.id, "assistant", "我喜欢吃苹果和香蕉");
  AppendWith("alice", conv.id, "user", "Apple pie 苹果派 recipe for the weekend");
  AppendWith("alice", conv.id, "assistant", "Nothing relevant here", Basis(0));

  EXPECT_EQ(Found("alice", "fox"),
            (std::vector<std::string>{"The quick brown fox jumps over the lazy dog"}));
  // Stemming: "jumping" finds "jumps".
  EXPECT_EQ(Found("alice", "jumping foxes").size(), 1u);
  EXPECT_EQ(Sorted(Found("alice", "苹果")),
            Sorted({"我喜欢吃苹果和香蕉", "Apple pie 苹果派 recipe for the weekend"}));
  EXPECT_EQ(Found("alice", "香蕉"), (std::vector<std::string>{"我喜欢吃苹果和香蕉"}));
  EXPECT_EQ(Found("alice", "APPLE recipes"),
            (std::vector<std::string>{"Apple pie 苹果派 recipe for the weekend"}));
  // A message with an embedding is indexed too.
  EXPECT_EQ(Found("alice", "relevant"), (std::vector<std::string>{"Nothing relevant here"}));

  const MessageSearchResponse found = Search("alice", "fox");
  EXPECT_TRUE(found.text.ran);
  EXPECT_FALSE(found.vector.ran);
  EXPECT_EQ(found.text.rows, 4);
  EXPECT_EQ(found.text.candidates, 1);
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].text_rank, 1);
  EXPECT_EQ(found.hits[0].vector_rank, 0);
  ASSERT_TRUE(found.hits[0].bm25.has_value());
  EXPECT_GT(*found.hits[0].bm25, 0);
  EXPECT_DOUBLE_EQ(found.hits[0].score, *found.hits[0].bm25);
  EXPECT_EQ(found.hits[0].message.conversation_id, conv.id);
  EXPECT_TRUE(found.fewer_than_top_k);
  EXPECT_EQ(MessageRows(), 4);
}

TEST_F(MessageTextSearchTest, BetterMatchesRankFirst) {
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "kafka kafka kafka consumer lag");
  AppendWith("alice", conv.id, "user", "kafka once in a long sentence about many other things");
  AppendWith("alice", conv.id, "user", "postgres replication");
  EXPECT_EQ(Found("alice", "kafka"),
            (std::vector<std::string>{"kafka kafka kafka consumer lag",
                                      "kafka once in a long sentence about many other things"}));
}

TEST_F(MessageTextSearchTest, FiltersByConversationRoleAndTime) {
  const Conversation a = MakeConversation("alice");
  const Conversation b = MakeConversation("alice");
  const Message first = AppendWith("alice", a.id, "user", "deploy plan alpha");
  const Message second = AppendWith("alice", a.id, "assistant", "deploy plan beta");
  AppendWith("alice", b.id, "user", "deploy plan gamma");

  MessageSearchFilters only_b;
  only_b.conversation_ids = {b.id};
  EXPECT_EQ(Found("alice", "deploy", only_b), (std::vector<std::string>{"deploy plan gamma"}));
  MessageSearchFilters assistants;
  assistants.roles = {Role::kAssistant};
  EXPECT_EQ(Found("alice", "deploy", assistants), (std::vector<std::string>{"deploy plan beta"}));
  MessageSearchFilters window;
  window.created_from = second.created_at;
  window.created_until = second.created_at + 1;
  EXPECT_EQ(Found("alice", "deploy", window), (std::vector<std::string>{"deploy plan beta"}));
  window.created_from = first.created_at;
  EXPECT_EQ(Sorted(Found("alice", "deploy", window)),
            Sorted({"deploy plan alpha", "deploy plan beta"}));
}

TEST_F(MessageTextSearchTest, EditsReindexTheContentAndTheRole) {
  const Conversation conv = MakeConversation("alice");
  const Message m = AppendWith("alice", conv.id, "user", "original wording about tulips");
  MessageUpdate content;
  content.content = "revised wording about orchids";
  Unwrap(engine_->UpdateMessage("alice", m.id, content));
  EXPECT_TRUE(Found("alice", "tulips").empty());
  EXPECT_EQ(Found("alice", "orchids"), (std::vector<std::string>{"revised wording about orchids"}));
  EXPECT_EQ(MessageRows(), 1);

  // Role filters follow a role change.
  MessageSearchFilters users;
  users.roles = {Role::kUser};
  MessageSearchFilters assistants;
  assistants.roles = {Role::kAssistant};
  MessageUpdate role;
  role.role = "assistant";
  Unwrap(engine_->UpdateMessage("alice", m.id, role));
  EXPECT_TRUE(Found("alice", "orchids", users).empty());
  EXPECT_EQ(Found("alice", "orchids", assistants).size(), 1u);

  // Other fields keep the terms as they are.
  MessageUpdate metadata;
  metadata.metadata = R"({"k": 1})";
  Unwrap(engine_->UpdateMessage("alice", m.id, metadata));
  EXPECT_EQ(Found("alice", "orchids").size(), 1u);
  EXPECT_EQ(MessageRows(), 1);

  // An upsert replaces the content; a blank one leaves no terms.
  NewMessage upsert;
  upsert.id = m.id;
  upsert.conversation_id = conv.id;
  upsert.role = "user";
  upsert.content = "upserted text about cacti";
  Unwrap(engine_->UpsertMessage("alice", upsert));
  EXPECT_TRUE(Found("alice", "orchids").empty());
  EXPECT_EQ(Found("alice", "cacti").size(), 1u);
  upsert.content = "";
  upsert.parts = R"([{"type": "image"}])";
  Unwrap(engine_->UpsertMessage("alice", upsert));
  EXPECT_TRUE(Found("alice", "cacti").empty());
  EXPECT_EQ(MessageRows(), 0);
}

TEST_F(MessageTextSearchTest, DeletesRemoveTheTerms) {
  const Conversation kept = MakeConversation("alice");
  const Conversation emptied = MakeConversation("alice");
  const Conversation erased = MakeConversation("alice");
  const Message one = AppendWith("alice", kept.id, "user", "saffron risotto");
  AppendWith("alice", kept.id, "user", "saffron tea");
  AppendWith("alice", emptied.id, "user", "saffron buns", Basis(1));
  AppendWith("alice", emptied.id, "user", "saffron rice");
  AppendWith("alice", erased.id, "user", "saffron milk");
  EXPECT_EQ(MessageRows(), 5);
  EXPECT_EQ(engine_->GetMetrics().message_terms, 5);

  Unwrap(engine_->DeleteMessage("alice", one.id));
  EXPECT_EQ(MessageRows(), 4);
  EXPECT_EQ(Unwrap(engine_->DeleteAllMessages("alice", emptied.id)), 2);
  EXPECT_EQ(MessageRows(), 2);
  ASSERT_TRUE(engine_->HardDeleteConversation("alice", erased.id).ok());
  EXPECT_EQ(MessageRows(), 1);
  EXPECT_EQ(engine_->GetMetrics().message_terms, 1);
  EXPECT_EQ(Found("alice", "saffron"), (std::vector<std::string>{"saffron tea"}));
  const MessageSearchResponse found = Search("alice", "saffron");
  EXPECT_EQ(found.text.rows, 1);  // BM25's N counts the live rows only
}

TEST_F(MessageTextSearchTest, SoftDeletedConversationsAreHiddenAndPurgedWithTheirTerms) {
  const Conversation conv = MakeConversation("alice");
  const Conversation other = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "hidden lighthouse lighthouse");
  AppendWith("alice", other.id, "user", "visible lighthouse");
  Unwrap(engine_->SoftDeleteConversation("alice", conv.id));
  EXPECT_EQ(Found("alice", "lighthouse"), (std::vector<std::string>{"visible lighthouse"}));
  // The better-scoring hidden message takes no place of the top k.
  EXPECT_EQ(Contents(Search("alice", "lighthouse", {}, 1)),
            (std::vector<std::string>{"visible lighthouse"}));
  Unwrap(engine_->UndeleteConversation("alice", conv.id));
  EXPECT_EQ(Found("alice", "lighthouse").size(), 2u);

  Unwrap(engine_->SoftDeleteConversation("alice", conv.id));
  Reopen(Options());  // the deleted state is read back from the conversation row
  EXPECT_EQ(Found("alice", "lighthouse"), (std::vector<std::string>{"visible lighthouse"}));
  EXPECT_EQ(MessageRows(), 2);
  RetentionPolicy purge;
  purge.purge_after_seconds = 1;
  const RetentionReport report = Unwrap(engine_->ApplyRetention(purge, NowMicros() + 10'000'000));
  EXPECT_EQ(report.conversations_purged, 1);
  EXPECT_EQ(MessageRows(), 1);
}

TEST_F(MessageTextSearchTest, UsersAreIsolatedInResultsAndStatistics) {
  const Conversation a = MakeConversation("alice");
  const Conversation b = MakeConversation("bob");
  AppendWith("alice", a.id, "user", "quantum entanglement notes");
  AppendWith("alice", a.id, "user", "grocery list");
  const double alone = *Search("alice", "quantum").hits.at(0).bm25;
  for (int i = 0; i < 20; ++i)
    AppendWith("bob", b.id, "user", "quantum computing " + std::to_string(i));

  const MessageSearchResponse alice = Search("alice", "quantum");
  EXPECT_EQ(Contents(alice), (std::vector<std::string>{"quantum entanglement notes"}));
  EXPECT_EQ(alice.text.rows, 2);  // bob's rows are not in alice's N nor her df
  EXPECT_DOUBLE_EQ(*alice.hits[0].bm25, alone);
  EXPECT_EQ(Search("bob", "quantum", {}, 100).hits.size(), 20u);
  EXPECT_TRUE(Found("bob", "grocery").empty());
  EXPECT_EQ(Search("bob", "grocery").text.unknown_terms, (std::vector<std::string>{"groceri"}));
  EXPECT_TRUE(Found("carol", "quantum").empty());
  // Another user's conversation id as a filter finds nothing.
  MessageSearchFilters bobs;
  bobs.conversation_ids = {b.id};
  EXPECT_TRUE(Found("alice", "quantum", bobs).empty());
}

TEST_F(MessageTextSearchTest, MonthPartitionsLeaveMessageTermsAlone) {
  // Archive, drop and attach concern the document corpus; messages are in no partition.
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "partition neighbour message");
  const Document doc = MakeDocument("alice");
  NewChunk chunk;
  chunk.document_id = doc.id;
  chunk.chunk_text = "partition chunk";
  chunk.embedding = Basis(2);
  Unwrap(engine_->AddChunks("alice", {chunk}));
  const std::vector<PartitionInfo> partitions = engine_->ListPartitions();
  ASSERT_EQ(partitions.size(), 1u);
  const std::string archive = dir_.Sub("month.mnemoarc");
  EXPECT_EQ(Unwrap(engine_->ArchivePartition(partitions[0].month, archive)), 1);
  EXPECT_EQ(Unwrap(engine_->DropPartition(partitions[0].month)), 1);
  EXPECT_EQ(Found("alice", "partition"), (std::vector<std::string>{"partition neighbour message"}));
  EXPECT_EQ(MessageRows(), 1);
  EXPECT_EQ(Unwrap(engine_->AttachArchive(archive)).attached, 1);
  EXPECT_EQ(MessageRows(), 1);
  EXPECT_EQ(Found("alice", "partition").size(), 1u);
}

TEST_F(MessageTextSearchTest, AFailedWriteIndexesNothing) {
  const Conversation conv = MakeConversation("alice");
  NewMessage good;
  good.conversation_id = conv.id;
  good.role = "user";
  good.content = "batch marmalade";
  NewMessage bad = good;
  bad.role = "narrator";
  auto applied = engine_->ApplyBatch("alice", {AppendMessageOp{good}, AppendMessageOp{bad}});
  EXPECT_TRUE(applied.status().IsValidationError());
  NewMessage bad_embedding = good;
  bad_embedding.embedding = {1.0f};  // wrong dimension: refused after the terms were staged
  EXPECT_TRUE(engine_->AppendMessage("alice", bad_embedding).status().IsValidationError());
  EXPECT_EQ(MessageRows(), 0);
  EXPECT_TRUE(Found("alice", "marmalade").empty());
  EXPECT_EQ(engine_->GetMetrics().message_terms, 0);
  Reopen(Options());
  EXPECT_EQ(MessageRows(), 0);
}

TEST_F(MessageTextSearchTest, SurvivesReopenAndNeverReusesALabel) {
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "durable walnut");
  const Message last = AppendWith("alice", conv.id, "user", "durable pecan");
  AppendWith("alice", conv.id, "user", "the of and");  // stop words only: no terms
  Reopen(Options());
  EXPECT_EQ(Sorted(Found("alice", "durable")), Sorted({"durable walnut", "durable pecan"}));
  EXPECT_EQ(MessageRows(), 2);
  // A message written after the reopen takes a new label: deleting the one with the largest
  // label before the reopen leaves it alone.
  AppendWith("alice", conv.id, "user", "durable almond");
  Unwrap(engine_->DeleteMessage("alice", last.id));
  EXPECT_EQ(Sorted(Found("alice", "durable")), Sorted({"durable walnut", "durable almond"}));
  Reopen(Options());
  EXPECT_EQ(Sorted(Found("alice", "durable")), Sorted({"durable walnut", "durable almond"}));
}

TEST_F(MessageTextSearchTest, MessagesStoredWithoutTermsAreBackfilledAcrossReopens) {
  // Rows written with keyword search off are what earlier builds wrote: no terms ref.
  EngineOptions off = Options();
  off.keyword_search = false;
  Reopen(off);
  const Conversation big = MakeConversation("alice");
  const Conversation deleted = MakeConversation("alice");
  const Conversation bobs = MakeConversation("bob");
  constexpr int kBig = 300;  // more than one step
  for (int i = 0; i < kBig; ++i) {
    AppendWith("alice", big.id, "user", "heron " + std::to_string(i),
               i == 0 ? Basis(0) : std::vector<float>{});
  }
  AppendWith("alice", deleted.id, "user", "heron in a deleted conversation");
  AppendWith("bob", bobs.id, "user", "heron of bob");
  AppendWith("bob", bobs.id, "user", "   ");
  Unwrap(engine_->SoftDeleteConversation("alice", deleted.id));
  EXPECT_EQ(TrySearch("alice", "heron").status().code(), StatusCode::kUnavailable);

  EngineOptions later = Options();
  later.backfill_message_terms = false;
  Reopen(later);
  EXPECT_EQ(MessageRows(), 0);
  EXPECT_FALSE(engine_->GetMetrics().message_terms_backfill_done);
  // One step: 256 messages of the first conversation in key order, committed with the cursor.
  EXPECT_FALSE(Unwrap(engine_->BackfillMessageTerms(1)));
  const int64_t first_step = MessageRows();
  EXPECT_GT(first_step, 0);
  EXPECT_LE(first_step, 256);
  EXPECT_EQ(engine_->GetMetrics().message_terms_backfilled, first_step);

  Reopen(later);  // resumes after the last committed step
  EXPECT_EQ(MessageRows(), first_step);
  // Written ahead of the pass: indexed by its own write, skipped by the pass.
  AppendWith("alice", big.id, "user", "heron written during the pass");
  EXPECT_TRUE(Unwrap(engine_->BackfillMessageTerms()));
  EXPECT_EQ(MessageRows(), kBig + 3);  // every message once; the blank one has no terms
  EXPECT_EQ(engine_->GetMetrics().message_terms_backfilled, kBig + 2 - first_step);
  EXPECT_TRUE(engine_->GetMetrics().message_terms_backfill_done);
  EXPECT_EQ(Search("alice", "heron", {}, 1000).hits.size(), static_cast<size_t>(kBig + 1));
  EXPECT_EQ(Found("bob", "heron"), (std::vector<std::string>{"heron of bob"}));
  Unwrap(engine_->UndeleteConversation("alice", deleted.id));
  EXPECT_EQ(Search("alice", "heron", {}, 1000).hits.size(), static_cast<size_t>(kBig + 2));

  // The pass is over: later opens do nothing, and the backfilled rows keep their embeddings.
  Reopen(Options());
  EXPECT_TRUE(engine_->GetMetrics().message_terms_backfill_done);
  EXPECT_EQ(engine_->GetMetrics().message_terms_backfilled, 0);
  MessageSearchRequest by_vector;
  by_vector.query = Basis(0);
  EXPECT_EQ(Contents(Unwrap(engine_->SearchMessages("alice", by_vector))),
            (std::vector<std::string>{"heron 0"}));
  // A backfilled message's terms go with it.
  const MessageSearchResponse bob = Search("bob", "heron");
  Unwrap(engine_->DeleteMessage("bob", bob.hits.at(0).message.id));
  EXPECT_TRUE(Found("bob", "heron").empty());
  EXPECT_EQ(MessageRows(), kBig + 2);
}

TEST_F(MessageTextSearchTest, HybridFusesBothLegsAsRrfComputedByHand) {
  const Conversation conv = MakeConversation("alice");
  // Text relevance to "violin" and vector closeness to Basis(0) disagree on purpose.
  std::vector<float> v0 = Basis(0);
  std::vector<float> near = Basis(0);
  near[1] = 0.3f;
  std::vector<float> far = Basis(0);
  far[1] = 1.5f;
  AppendWith("alice", conv.id, "user", "violin violin violin lessons", far);
  AppendWith("alice", conv.id, "user", "violin", near);
  AppendWith("alice", conv.id, "user", "piano lessons", v0);
  AppendWith("alice", conv.id, "user", "violin strings and a long description of rosin", Basis(3));
  AppendWith("alice", conv.id, "user", "cello", Basis(4));

  MessageSearchRequest text_only;
  text_only.query_text = "violin";
  const MessageSearchResponse text = Unwrap(engine_->SearchMessages("alice", text_only));
  MessageSearchRequest vector_only;
  vector_only.query = Basis(0);
  const MessageSearchResponse vector = Unwrap(engine_->SearchMessages("alice", vector_only));
  ASSERT_EQ(text.hits.size(), 3u);
  ASSERT_EQ(vector.hits.size(), 5u);
  EXPECT_TRUE(vector.vector.ran);
  EXPECT_FALSE(vector.text.ran);

  // RRF with k = 60: each leg that returned a message adds 1 / (60 + rank).
  std::map<std::string, double> expected;
  for (size_t i = 0; i < text.hits.size(); ++i)
    expected[text.hits[i].message.content] += 1.0 / (60.0 + static_cast<double>(i + 1));
  for (size_t i = 0; i < vector.hits.size(); ++i)
    expected[vector.hits[i].message.content] += 1.0 / (60.0 + static_cast<double>(i + 1));
  std::vector<std::pair<double, std::string>> by_hand;
  for (const auto& [content, score] : expected) by_hand.emplace_back(score, content);
  std::sort(by_hand.begin(), by_hand.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });

  MessageSearchRequest both;
  both.query = Basis(0);
  both.query_text = "violin";
  const MessageSearchResponse fused = Unwrap(engine_->SearchMessages("alice", both));
  EXPECT_TRUE(fused.text.ran);
  EXPECT_TRUE(fused.vector.ran);
  EXPECT_EQ(fused.fusion, Fusion::kRrf);
  EXPECT_EQ(fused.text.candidates, 3);
  EXPECT_EQ(fused.vector.candidates, 5);
  ASSERT_EQ(fused.hits.size(), by_hand.size());
  for (size_t i = 0; i < by_hand.size(); ++i) {
    EXPECT_EQ(fused.hits[i].message.content, by_hand[i].second) << i;
    EXPECT_NEAR(fused.hits[i].score, by_hand[i].first, 1e-12) << i;
  }
  // Each hit says what each leg made of it.
  for (const MessageHit& hit : fused.hits) {
    EXPECT_EQ(hit.bm25.has_value(), hit.text_rank > 0);
    EXPECT_GT(hit.vector_rank, 0);  // every message has an embedding here
    if (hit.text_rank > 0) {
      EXPECT_EQ(text.hits[static_cast<size_t>(hit.text_rank - 1)].message.id, hit.message.id);
      EXPECT_DOUBLE_EQ(*hit.bm25, *text.hits[static_cast<size_t>(hit.text_rank - 1)].bm25);
    }
    EXPECT_FLOAT_EQ(hit.similarity,
                    vector.hits[static_cast<size_t>(hit.vector_rank - 1)].similarity);
  }

  // Weighted with all the weight on the text leg: the text ranking first (its last hit
  // normalises to 0, tied with the rest).
  both.fusion = Fusion::kWeighted;
  both.text_weight = 1.0;
  const MessageSearchResponse weighted = Unwrap(engine_->SearchMessages("alice", both));
  EXPECT_EQ(weighted.fusion, Fusion::kWeighted);
  ASSERT_GE(weighted.hits.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(weighted.hits[i].message.id, text.hits[i].message.id);
  EXPECT_DOUBLE_EQ(weighted.hits[0].score, 1.0);
}

TEST_F(MessageTextSearchTest, BadQueriesAreRefusedNamingTheirField) {
  const Conversation conv = MakeConversation("alice");
  AppendWith("alice", conv.id, "user", "something searchable");
  const auto field_of = [&](const MessageSearchRequest& request) {
    auto found = engine_->SearchMessages("alice", request);
    EXPECT_TRUE(found.status().IsValidationError()) << found.status().ToString();
    return std::string(found.status().field());
  };
  MessageSearchRequest request;
  EXPECT_EQ(field_of(request), "query");  // neither an embedding nor a text
  request.query_text = "   ";
  EXPECT_EQ(field_of(request), "query_text");
  request.query_text = "";
  EXPECT_EQ(field_of(request), "query_text");
  request.query_text = std::string("bad \xff byte");
  EXPECT_EQ(field_of(request), "query_text");
  request.query_text = std::string(kMaxTextQueryBytes + 1, 'a');
  EXPECT_EQ(field_of(request), "query_text");
  request.query_text = "searchable";
  request.query = {1.0f, 2.0f};  // wrong dimension
  EXPECT_EQ(field_of(request), "query");
  request.query.clear();
  request.min_similarity = 0.5f;  // applies to the vector leg only
  EXPECT_EQ(field_of(request), "min_similarity");
  request.min_similarity.reset();
  request.top_k = 0;
  EXPECT_EQ(field_of(request), "top_k");
  request.top_k = 10;
  request.query = Basis(0);
  request.rrf_k = 0;
  EXPECT_EQ(field_of(request), "rrf_k");
  request.rrf_k.reset();
  request.candidates = 5;  // below top_k
  EXPECT_EQ(field_of(request), "candidates");
  request.candidates.reset();
  request.text_weight = 1.5;
  EXPECT_EQ(field_of(request), "text_weight");

  // Stop words only: a valid query with an empty answer that says why.
  const MessageSearchResponse stop = Search("alice", "the and of");
  EXPECT_TRUE(stop.hits.empty());
  EXPECT_FALSE(stop.text.ran);
  EXPECT_EQ(stop.text.stopwords_ignored, 3);
  EXPECT_TRUE(stop.fewer_than_top_k);
  // Terms no message holds: named.
  const MessageSearchResponse unknown = Search("alice", "zyzzyva");
  EXPECT_TRUE(unknown.text.ran);
  EXPECT_EQ(unknown.text.unknown_terms, (std::vector<std::string>{"zyzzyva"}));
}

TEST_F(MessageTextSearchTest, ContextMemoriesUseTheQueryText) {
  const Conversation past = MakeConversation("alice");
  const Conversation now = MakeConversation("alice");
  AppendWith("alice", past.id, "user", "my dog is called biscuit", Basis(5));
  AppendWith("alice", past.id, "user", "unrelated weather chat", Basis(0));
  AppendWith("alice", now.id, "user", "what is biscuit's favourite toy?");

  ContextRequest request;
  request.conversation_id = now.id;
  request.token_budget = 10'000;
  request.k_chunks = 0;
  request.query_text = "biscuit";
  ContextResponse context = Unwrap(engine_->AssembleContext("alice", request));
  ASSERT_EQ(context.memories.size(), 1u);  // the recent window's message is left out
  EXPECT_EQ(context.memories[0].message.content, "my dog is called biscuit");
  ASSERT_TRUE(context.memories[0].bm25.has_value());
  EXPECT_DOUBLE_EQ(context.memories[0].score, *context.memories[0].bm25);

  request.query_embedding = Basis(0);  // both: fused, the vector leg adds the weather chat
  context = Unwrap(engine_->AssembleContext("alice", request));
  ASSERT_EQ(context.memories.size(), 2u);
  EXPECT_EQ(context.memories[0].message.content, "my dog is called biscuit");
  EXPECT_FALSE(context.memories[1].bm25.has_value());
  EXPECT_FLOAT_EQ(context.memories[1].similarity, 1.0f);
}

}  // namespace
}  // namespace mnemo
