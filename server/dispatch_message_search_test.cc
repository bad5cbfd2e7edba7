// Message embeddings, SearchMessages and context memories at the wire level, against a real
// engine: appends and upserts (single and batched) carry the embedding and replies say
// has_embedding, a search reply carries each hit's message and similarity (and, by keyword or
// hybrid, its BM25, ranks and which legs ran), context replies carry memories and their budget,
// and every refusal names its field.
#include <gtest/gtest.h>

#include "server/dispatcher.h"
#include "server/op_table.h"
#include "server/testing/wire_helpers.h"
#include "server/wire_in.h"
#include "server/wire_out.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

using testing::Body;
using testing::Builder;
using testing::BuildRequest;
using testing::ParsedResponse;
using B = wire::RequestBody;
using wire::StatusCode;

constexpr uint32_t kDim = 4;
using FloatVector = flatbuffers::Offset<flatbuffers::Vector<float>>;

FloatVector OptFloats(Builder& fbb, const std::vector<float>& values) {
  return values.empty() ? FloatVector() : fbb.CreateVector(values);
}

// The fields of a MessageSearchFilters a test sets; all empty: the table is absent.
struct FilterArgs {
  std::vector<Uuid> conversation_ids;
  std::vector<std::string> roles;
  std::optional<int64_t> created_from, created_until;
};

flatbuffers::Offset<wire::MessageSearchFilters> BuildFilters(Builder& fbb, const FilterArgs& args) {
  if (args.conversation_ids.empty() && args.roles.empty() && !args.created_from &&
      !args.created_until) {
    return {};
  }
  std::vector<wire::Id> ids;
  for (const Uuid& id : args.conversation_ids) ids.push_back(ToWireId(id));
  const auto id_vector = ids.empty() ? 0 : fbb.CreateVectorOfStructs(ids);
  const auto roles = args.roles.empty() ? 0 : fbb.CreateVectorOfStrings(args.roles);
  flatbuffers::Optional<int64_t> from = flatbuffers::nullopt, until = flatbuffers::nullopt;
  if (args.created_from) from = *args.created_from;
  if (args.created_until) until = *args.created_until;
  return wire::CreateMessageSearchFilters(fbb, id_vector, roles, from, until);
}

struct SearchArgs {
  std::vector<float> query = {1, 0, 0, 0};
  int64_t top_k = 10;
  std::optional<float> min_similarity;
  FilterArgs filters;
  std::optional<std::string> query_text;  // absent when unset
  wire::Fusion fusion = wire::Fusion::rrf;
};

class DispatchMessageSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.dimension = kDim;
    options.sync_writes = false;
    engine_ = std::move(Engine::Open(options)).value();
    dispatcher_ = std::make_unique<Dispatcher>(*engine_, stats_,
                                               DispatcherOptions{options.data_dir, 1u << 20});
    NewConversation conversation;
    conversation.title = "Trip";
    trip_ = engine_->CreateConversation("alice", conversation)->id;
    conversation.title = "Food";
    food_ = engine_->CreateConversation("alice", conversation)->id;
  }

  // An AppendMessageRequest (or UpsertMessageRequest with `id`).
  std::string AppendRequest(const Uuid& conversation, const std::string& role,
                            const std::string& content, const std::vector<float>& embedding,
                            std::optional<Uuid> id = std::nullopt) {
    return BuildRequest(3, "alice", [&](Builder& fbb) {
      const wire::Id conversation_id = ToWireId(conversation);
      const wire::Id message_id = id ? ToWireId(*id) : wire::Id();
      const auto message =
          wire::CreateNewMessage(fbb, id ? &message_id : nullptr, &conversation_id,
                                 fbb.CreateString(role), fbb.CreateString(content), 0, 0, 0, 0,
                                 flatbuffers::nullopt, 0, OptFloats(fbb, embedding));
      if (id) {
        return Body(B::UpsertMessageRequest, wire::CreateUpsertMessageRequest(fbb, message));
      }
      return Body(B::AppendMessageRequest, wire::CreateAppendMessageRequest(fbb, message));
    });
  }
  // Appends through the wire; returns the message's id.
  Uuid Append(const Uuid& conversation, const std::string& role, const std::string& content,
              const std::vector<float>& embedding) {
    ParsedResponse response = Call(AppendRequest(conversation, role, content, embedding));
    EXPECT_TRUE(response.ok()) << response.message();
    if (!response.ok()) return Uuid();
    const wire::Message* message = response->body_as_MessageReply()->message();
    EXPECT_EQ(message->has_embedding(), !embedding.empty());
    return FromWireId(*message->id());
  }

  std::string SearchRequest(const SearchArgs& args) {
    return BuildRequest(5, "alice", [&](Builder& fbb) {
      const auto query = OptFloats(fbb, args.query);
      const auto filters = BuildFilters(fbb, args.filters);
      flatbuffers::Optional<float> min_similarity = flatbuffers::nullopt;
      if (args.min_similarity) min_similarity = *args.min_similarity;
      const auto text = args.query_text ? fbb.CreateString(*args.query_text)
                                        : flatbuffers::Offset<flatbuffers::String>();
      return Body(B::SearchMessagesRequest,
                  wire::CreateSearchMessagesRequest(fbb, query, args.top_k, min_similarity, filters,
                                                    flatbuffers::nullopt, text, args.fusion));
    });
  }

  std::string ContextRequest(const std::vector<float>& embedding, int64_t token_budget,
                             int64_t max_messages, int64_t k_memories, const FilterArgs& filters,
                             const std::string& query_text = "") {
    return BuildRequest(7, "alice", [&](Builder& fbb) {
      const auto query = OptFloats(fbb, embedding);
      const auto memory_filters = BuildFilters(fbb, filters);
      const auto text = query_text.empty() ? flatbuffers::Offset<flatbuffers::String>()
                                           : fbb.CreateString(query_text);
      const wire::Id id = ToWireId(trip_);
      return Body(B::AssembleContextRequest,
                  wire::CreateAssembleContextRequest(
                      fbb, &id, token_budget, max_messages, query, text, /*k_chunks=*/0, 0,
                      flatbuffers::nullopt, flatbuffers::nullopt, k_memories, memory_filters));
    });
  }

  ParsedResponse Call(const std::string& payload) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    EXPECT_NE(request, nullptr) << error;
    return ParsedResponse(dispatcher_->Handle(alice_, *request));
  }
  const wire::MessageSearchReply* Found(const ParsedResponse& response) {
    EXPECT_TRUE(response.ok()) << testing::CodeName(response.code()) << ": " << response.message();
    if (!response.ok()) return nullptr;
    EXPECT_EQ(response->body_type(), wire::ResponseBody::MessageSearchReply);
    return response->body_as_MessageSearchReply();
  }
  void ExpectError(const std::string& payload, StatusCode code, const std::string& field) {
    ParsedResponse response = Call(payload);
    EXPECT_EQ(response.code(), code) << response.message();
    EXPECT_EQ(response.field(), field) << response.message();
  }

  mnemo::testing::TempDir dir_;
  ServerStats stats_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Uuid trip_, food_;
  const Principal alice_{KeyKind::kUser, "alice", "alice00000000000"};
};

TEST_F(DispatchMessageSearchTest, SearchReplyCarriesTheMessagesNearestFirst) {
  const Uuid kyoto = Append(trip_, "user", "Kyoto in spring?", {1, 0.1f, 0, 0});
  const Uuid osaka = Append(trip_, "assistant", "Osaka is close", {0.6f, 0.8f, 0, 0});
  Append(food_, "user", "ramen", {0, 0, 1, 0});
  Append(trip_, "user", "no embedding", {});

  ParsedResponse response = Call(SearchRequest(SearchArgs{}));
  const wire::MessageSearchReply* reply = Found(response);
  ASSERT_NE(reply, nullptr);
  ASSERT_NE(reply->hits(), nullptr);
  ASSERT_EQ(reply->hits()->size(), 3u);  // the message without an embedding is not searchable
  const wire::MessageHit* best = reply->hits()->Get(0);
  EXPECT_EQ(FromWireId(*best->message()->id()), kyoto);
  EXPECT_EQ(FromWireId(*best->message()->conversation_id()), trip_);
  EXPECT_EQ(best->message()->content()->str(), "Kyoto in spring?");
  EXPECT_EQ(best->message()->role(), wire::Role::user);
  EXPECT_TRUE(best->message()->has_embedding());
  EXPECT_GT(best->similarity(), 0.99f);
  EXPECT_EQ(FromWireId(*reply->hits()->Get(1)->message()->id()), osaka);
  EXPECT_NEAR(reply->hits()->Get(1)->similarity(), 0.6f, 1e-5f);
  EXPECT_NEAR(reply->hits()->Get(2)->similarity(), 0.0f, 1e-5f);
  EXPECT_TRUE(reply->exact());
  EXPECT_TRUE(reply->fewer_than_top_k());

  SearchArgs two;
  two.top_k = 2;
  ParsedResponse limited = Call(SearchRequest(two));
  ASSERT_NE(Found(limited), nullptr);
  EXPECT_EQ(limited->body_as_MessageSearchReply()->hits()->size(), 2u);
  EXPECT_FALSE(limited->body_as_MessageSearchReply()->fewer_than_top_k());
}

TEST_F(DispatchMessageSearchTest, FiltersAndMinSimilarityReachTheEngine) {
  Append(trip_, "user", "Kyoto", {1, 0, 0, 0});
  const Uuid osaka = Append(trip_, "assistant", "Osaka", {0.6f, 0.8f, 0, 0});
  const Uuid ramen = Append(food_, "user", "ramen", {0.5f, 0, 0.5f, 0});

  SearchArgs by_role;
  by_role.filters.roles = {"assistant"};
  ParsedResponse assistant = Call(SearchRequest(by_role));
  ASSERT_NE(Found(assistant), nullptr);
  ASSERT_EQ(assistant->body_as_MessageSearchReply()->hits()->size(), 1u);
  EXPECT_EQ(FromWireId(*assistant->body_as_MessageSearchReply()->hits()->Get(0)->message()->id()),
            osaka);

  SearchArgs by_conversation;
  by_conversation.filters.conversation_ids = {food_};
  ParsedResponse food = Call(SearchRequest(by_conversation));
  ASSERT_NE(Found(food), nullptr);
  ASSERT_EQ(food->body_as_MessageSearchReply()->hits()->size(), 1u);
  EXPECT_EQ(FromWireId(*food->body_as_MessageSearchReply()->hits()->Get(0)->message()->id()),
            ramen);

  SearchArgs future;
  future.filters.created_from = INT64_C(4102444800000000);  // 2100-01-01
  ParsedResponse none = Call(SearchRequest(future));
  ASSERT_NE(Found(none), nullptr);
  EXPECT_EQ(none->body_as_MessageSearchReply()->hits()->size(), 0u);

  SearchArgs close;
  close.min_similarity = 0.9f;
  ParsedResponse near = Call(SearchRequest(close));
  ASSERT_NE(Found(near), nullptr);
  EXPECT_EQ(near->body_as_MessageSearchReply()->hits()->size(), 1u);
}

TEST_F(DispatchMessageSearchTest, UpsertsAndBatchesCarryTheEmbedding) {
  const Uuid id = Uuid::Generate();
  ParsedResponse stored = Call(AppendRequest(trip_, "user", "v1", {1, 0, 0, 0}, id));
  ASSERT_TRUE(stored.ok()) << stored.message();
  EXPECT_TRUE(stored->body_as_MessageReply()->message()->has_embedding());
  ParsedResponse removed = Call(AppendRequest(trip_, "user", "v2", {}, id));
  ASSERT_TRUE(removed.ok()) << removed.message();
  EXPECT_FALSE(removed->body_as_MessageReply()->message()->has_embedding());
  ParsedResponse empty = Call(SearchRequest(SearchArgs{}));
  ASSERT_NE(Found(empty), nullptr);
  EXPECT_EQ(empty->body_as_MessageSearchReply()->hits()->size(), 0u);

  const std::string batch = BuildRequest(9, "alice", [&](Builder& fbb) {
    const wire::Id conversation_id = ToWireId(trip_);
    const auto message = wire::CreateNewMessage(
        fbb, nullptr, &conversation_id, fbb.CreateString("user"), fbb.CreateString("batched"), 0, 0,
        0, 0, flatbuffers::nullopt, 0, fbb.CreateVector(std::vector<float>{0, 1, 0, 0}));
    const std::vector<flatbuffers::Offset<wire::BatchOp>> ops = {
        wire::CreateBatchOp(fbb, 0, 0, message)};
    return Body(B::ApplyBatchRequest, wire::CreateApplyBatchRequest(fbb, fbb.CreateVector(ops)));
  });
  ParsedResponse applied = Call(batch);
  ASSERT_TRUE(applied.ok()) << applied.message();
  SearchArgs args;
  args.query = {0, 1, 0, 0};
  ParsedResponse found = Call(SearchRequest(args));
  ASSERT_NE(Found(found), nullptr);
  ASSERT_EQ(found->body_as_MessageSearchReply()->hits()->size(), 1u);
  EXPECT_EQ(found->body_as_MessageSearchReply()->hits()->Get(0)->message()->content()->str(),
            "batched");
}

TEST_F(DispatchMessageSearchTest, ContextRepliesCarryMemoriesAndTheirBudget) {
  // An older message of another conversation is a memory; the window's own message is not.
  const Uuid memory = Append(food_, "user", "we loved the ramen", {1, 0, 0, 0});
  Append(trip_, "user", "hello", {0.9f, 0.1f, 0, 0});
  ParsedResponse response = Call(ContextRequest({1, 0, 0, 0}, 1000, 20, 5, {}));
  ASSERT_TRUE(response.ok()) << response.message();
  const wire::ContextReply* reply = response->body_as_ContextReply();
  ASSERT_NE(reply->memories(), nullptr);
  ASSERT_EQ(reply->memories()->size(), 1u);
  const wire::ContextMemory* item = reply->memories()->Get(0);
  EXPECT_EQ(FromWireId(*item->message()->id()), memory);
  EXPECT_EQ(item->message()->content()->str(), "we loved the ramen");
  EXPECT_GT(item->similarity(), 0.99f);
  EXPECT_GT(item->tokens(), 0);
  EXPECT_EQ(item->token_source(), wire::TokenSource::estimated);
  const wire::ContextBudget* budget = reply->budget();
  EXPECT_EQ(budget->memory_tokens(), item->tokens());
  EXPECT_EQ(budget->memories_left_out(), 0);
  EXPECT_EQ(budget->remaining(), budget->budget() - budget->system_prompt_tokens() -
                                     budget->message_tokens() - budget->chunk_tokens() -
                                     budget->memory_tokens());

  // k_memories 0, or a filter that admits nothing: no memories.
  ParsedResponse off = Call(ContextRequest({1, 0, 0, 0}, 1000, 20, 0, {}));
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->body_as_ContextReply()->memories()->size(), 0u);
  FilterArgs assistants;
  assistants.roles = {"assistant"};
  ParsedResponse filtered = Call(ContextRequest({1, 0, 0, 0}, 1000, 20, 5, assistants));
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(filtered->body_as_ContextReply()->memories()->size(), 0u);
}

TEST_F(DispatchMessageSearchTest, KeywordAndHybridSearchesTravelTheWire) {
  const Uuid kyoto = Append(trip_, "user", "Temples of Kyoto in spring", {1, 0, 0, 0});
  const Uuid plain = Append(food_, "user", "Kyoto tofu without an embedding", {});
  Append(food_, "assistant", "ramen", {0, 1, 0, 0});

  SearchArgs text;
  text.query.clear();
  text.query_text = "kyoto";
  ParsedResponse by_text = Call(SearchRequest(text));
  const wire::MessageSearchReply* reply = Found(by_text);
  ASSERT_NE(reply, nullptr);
  ASSERT_EQ(reply->hits()->size(), 2u);
  for (const wire::MessageHit* hit : *reply->hits()) {
    ASSERT_TRUE(hit->bm25().has_value());
    EXPECT_DOUBLE_EQ(hit->score(), *hit->bm25());
    EXPECT_EQ(hit->vector_rank(), 0);
  }
  EXPECT_EQ(reply->hits()->Get(0)->text_rank(), 1);
  ASSERT_NE(reply->text(), nullptr);
  EXPECT_TRUE(reply->text()->ran());
  EXPECT_EQ(reply->text()->terms()->Get(0)->str(), "kyoto");
  EXPECT_EQ(reply->text()->rows(), 3);
  ASSERT_NE(reply->vector(), nullptr);
  EXPECT_FALSE(reply->vector()->ran());

  SearchArgs both = text;
  both.query = {1, 0, 0, 0};
  both.fusion = wire::Fusion::weighted;
  ParsedResponse hybrid = Call(SearchRequest(both));
  reply = Found(hybrid);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->fusion(), wire::Fusion::weighted);
  EXPECT_TRUE(reply->text()->ran());
  EXPECT_TRUE(reply->vector()->ran());
  EXPECT_EQ(FromWireId(*reply->hits()->Get(0)->message()->id()), kyoto);  // first in both legs
  EXPECT_GT(reply->hits()->Get(0)->vector_rank(), 0);
  EXPECT_GT(reply->hits()->Get(0)->text_rank(), 0);
  bool plain_found = false;
  for (const wire::MessageHit* hit : *reply->hits()) {
    if (FromWireId(*hit->message()->id()) != plain) continue;
    plain_found = true;
    EXPECT_EQ(hit->vector_rank(), 0);
    EXPECT_TRUE(hit->bm25().has_value());
  }
  EXPECT_TRUE(plain_found);

  // Vector only (an older client's request): the reply says the vector leg ran.
  ParsedResponse by_vector = Call(SearchRequest(SearchArgs{}));
  reply = Found(by_vector);
  ASSERT_NE(reply, nullptr);
  EXPECT_TRUE(reply->vector()->ran());
  EXPECT_FALSE(reply->text()->ran());
  EXPECT_FALSE(reply->hits()->Get(0)->bm25().has_value());

  // Context memories by keyword alone.
  ParsedResponse context = Call(ContextRequest({}, 1000, 0, 5, {}, "tofu"));
  ASSERT_TRUE(context.ok()) << context.message();
  const auto* memories = context->body_as_ContextReply()->memories();
  ASSERT_EQ(memories->size(), 1u);
  EXPECT_EQ(FromWireId(*memories->Get(0)->message()->id()), plain);
  ASSERT_TRUE(memories->Get(0)->bm25().has_value());
  EXPECT_DOUBLE_EQ(memories->Get(0)->score(), *memories->Get(0)->bm25());

  SearchArgs blank;
  blank.query.clear();
  blank.query_text = "  ";
  ExpectError(SearchRequest(blank), StatusCode::VALIDATION_ERROR, "query_text");
  SearchArgs neither;
  neither.query.clear();
  ExpectError(SearchRequest(neither), StatusCode::VALIDATION_ERROR, "query");
  SearchArgs bad_fusion = both;
  bad_fusion.fusion = static_cast<wire::Fusion>(7);
  ExpectError(SearchRequest(bad_fusion), StatusCode::VALIDATION_ERROR, "fusion");
}

TEST_F(DispatchMessageSearchTest, BadInputIsAValidationErrorNamingTheField) {
  ExpectError(AppendRequest(trip_, "user", "short", {1, 0, 0}), StatusCode::VALIDATION_ERROR,
              "embedding");
  ExpectError(AppendRequest(trip_, "user", "zero", {0, 0, 0, 0}), StatusCode::VALIDATION_ERROR,
              "embedding");

  SearchArgs dimension;
  dimension.query = {1, 0};
  ExpectError(SearchRequest(dimension), StatusCode::VALIDATION_ERROR, "query");
  SearchArgs role;
  role.filters.roles = {"user", "robot"};
  ExpectError(SearchRequest(role), StatusCode::VALIDATION_ERROR, "filters.roles");
  for (const int64_t k : {int64_t{0}, kMaxTopK + 1}) {
    SearchArgs top;
    top.top_k = k;
    ExpectError(SearchRequest(top), StatusCode::VALIDATION_ERROR, "top_k");
  }
  SearchArgs range;
  range.filters.created_from = 200;
  range.filters.created_until = 100;
  ExpectError(SearchRequest(range), StatusCode::VALIDATION_ERROR, "filters.created_until");

  for (const int64_t k : {int64_t{-1}, kMaxTopK + 1}) {
    ExpectError(ContextRequest({1, 0, 0, 0}, 1000, 20, k, {}), StatusCode::VALIDATION_ERROR,
                "k_memories");
  }
  FilterArgs robots;
  robots.roles = {"robot"};
  ExpectError(ContextRequest({1, 0, 0, 0}, 1000, 20, 5, robots), StatusCode::VALIDATION_ERROR,
              "memory_filters.roles");
}

TEST_F(DispatchMessageSearchTest, IsASearchGroupReadThatMayRunInline) {
  EXPECT_EQ(GroupOf(B::SearchMessagesRequest), OpGroup::kSearch);
  EXPECT_EQ(OpName(B::SearchMessagesRequest), "SearchMessages");
  const std::string payload = SearchRequest(SearchArgs{});
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  ASSERT_NE(request, nullptr) << error;
  EXPECT_TRUE(MayRunInline(*request));
  EXPECT_FALSE(RunsOnIoThread(*request));
  ASSERT_TRUE(Call(payload).ok());
  bool counted = false;
  for (const OpSnapshot& op : stats_.Snapshot()) counted |= op.name == "SearchMessages";
  EXPECT_TRUE(counted);
}

}  // namespace
}  // namespace mnemo::server
