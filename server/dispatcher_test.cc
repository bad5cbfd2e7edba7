// The dispatcher driven in-process: wire requests in, wire replies out, against a real Engine in
// a temporary directory.  Also the Hello handshake and the principals' isolation rules.
#include "server/dispatcher.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "server/hello.h"
#include "server/testing/wire_helpers.h"
#include "server/wire_in.h"
#include "server/wire_out.h"
#include "testing/log_capture.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

using testing::Body;
using testing::Builder;
using testing::BuildRequest;
using testing::ParsedResponse;
using B = wire::RequestBody;
using wire::StatusCode;

constexpr uint32_t kDim = 8;

flatbuffers::Offset<flatbuffers::String> Str(Builder& fbb, std::string_view text) {
  return fbb.CreateString(text);
}

std::vector<float> Vec(float seed) {
  std::vector<float> v(kDim);
  for (uint32_t i = 0; i < kDim; ++i)
    v[i] = std::sin(seed * static_cast<float>(i + 1)) + 0.01f * static_cast<float>(i);
  return v;
}

// Before any engine thread starts: tests capture the log while those threads run.
[[maybe_unused]] const auto kLogDistributor = mnemo::testing::InstallLogDistributor();

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.dimension = kDim;
    options.sync_writes = false;
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
    dispatcher_ = std::make_unique<Dispatcher>(*engine_, stats_,
                                               DispatcherOptions{options.data_dir, 1u << 20});
  }

  ParsedResponse Call(const Principal& principal, const std::string& payload) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    EXPECT_NE(request, nullptr) << error;
    return ParsedResponse(dispatcher_->Handle(principal, *request));
  }
  // Calls and expects success.
  ParsedResponse Ok(const Principal& principal, const std::string& payload) {
    ParsedResponse response = Call(principal, payload);
    EXPECT_TRUE(response.ok()) << testing::CodeName(response.code()) << ": " << response.message();
    return response;
  }

  std::string CreateConversation(std::string_view user, std::string_view title, uint64_t id = 1) {
    return testing::CreateConversationRequest(id, user, title);
  }
  std::string ById(B type, std::string_view user, const wire::Id& id, bool flag = false) {
    return BuildRequest(9, user, [&](Builder& fbb) -> std::pair<B, flatbuffers::Offset<void>> {
      switch (type) {
        case B::GetConversationRequest:
          return Body(type, wire::CreateGetConversationRequest(fbb, &id, flag));
        case B::DeleteConversationRequest:
          return Body(type, wire::CreateDeleteConversationRequest(fbb, &id, flag));
        case B::RestoreConversationRequest:
          return Body(type, wire::CreateRestoreConversationRequest(fbb, &id));
        case B::GetMessageRequest: return Body(type, wire::CreateGetMessageRequest(fbb, &id));
        case B::GetTokenStatsRequest: return Body(type, wire::CreateGetTokenStatsRequest(fbb, &id));
        case B::DeleteMessagesRequest:
          return Body(type, wire::CreateDeleteMessagesRequest(fbb, &id));
        case B::GetDocumentRequest:
          return Body(type, wire::CreateGetDocumentRequest(fbb, &id, flag));
        case B::DeleteDocumentRequest:
          return Body(type, wire::CreateDeleteDocumentRequest(fbb, &id, flag));
        case B::RestoreDocumentRequest:
          return Body(type, wire::CreateRestoreDocumentRequest(fbb, &id));
        default:
          ADD_FAILURE() << "no id request for " << wire::EnumNameRequestBody(type);
          return {};
      }
    });
  }
  std::string AppendMessage(std::string_view user, const wire::Id& conversation,
                            std::string_view role, std::string_view content,
                            std::optional<int64_t> tokens = std::nullopt,
                            std::string_view tool_calls = {}) {
    return BuildRequest(3, user, [&](Builder& fbb) {
      const auto calls =
          tool_calls.empty() ? flatbuffers::Offset<flatbuffers::String>() : Str(fbb, tool_calls);
      const auto message = wire::CreateNewMessage(fbb, nullptr, &conversation, Str(fbb, role),
                                                  Str(fbb, content), 0, calls, 0, 0, tokens);
      return Body(B::AppendMessageRequest, wire::CreateAppendMessageRequest(fbb, message));
    });
  }
  std::string CreateDocument(std::string_view user, std::string_view filename) {
    return BuildRequest(4, user, [&](Builder& fbb) {
      const auto document = wire::CreateNewDocument(fbb, nullptr, Str(fbb, filename),
                                                    Str(fbb, "txt"), Str(fbb, "body"));
      return Body(B::CreateDocumentRequest, wire::CreateCreateDocumentRequest(fbb, document));
    });
  }
  std::string AddChunks(std::string_view user, const wire::Id& document,
                        const std::vector<std::vector<float>>& vectors, int64_t first_index = 0) {
    return BuildRequest(5, user, [&](Builder& fbb) {
      std::vector<flatbuffers::Offset<wire::NewChunk>> chunks;
      for (size_t i = 0; i < vectors.size(); ++i) {
        chunks.push_back(wire::CreateNewChunk(
            fbb, nullptr, &document, first_index + static_cast<int64_t>(i),
            Str(fbb, "chunk " + std::to_string(i)), fbb.CreateVector(vectors[i])));
      }
      return Body(B::AddChunksRequest, wire::CreateAddChunksRequest(fbb, fbb.CreateVector(chunks)));
    });
  }
  std::string Search(std::string_view user, const std::vector<float>& query, int64_t top_k = 5) {
    return BuildRequest(6, user, [&](Builder& fbb) {
      const auto search = wire::CreateSearchQuery(fbb, fbb.CreateVector(query), top_k);
      return Body(B::SearchRequest, wire::CreateSearchRequest(fbb, search));
    });
  }
  std::string Simple(B type, std::string_view user = {}) {
    return BuildRequest(8, user, [&](Builder& fbb) -> std::pair<B, flatbuffers::Offset<void>> {
      switch (type) {
        case B::GetUserStatsRequest: return Body(type, wire::CreateGetUserStatsRequest(fbb));
        case B::CountDocumentsRequest: return Body(type, wire::CreateCountDocumentsRequest(fbb));
        case B::GetStatsRequest: return Body(type, wire::CreateGetStatsRequest(fbb));
        case B::ListPartitionsRequest: return Body(type, wire::CreateListPartitionsRequest(fbb));
        case B::ListConversationsRequest:
          return Body(type, wire::CreateListConversationsRequest(fbb));
        case B::ListDocumentsRequest: return Body(type, wire::CreateListDocumentsRequest(fbb));
        default: ADD_FAILURE(); return {};
      }
    });
  }

  mnemo::testing::TempDir dir_;
  ServerStats stats_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  const Principal service_{KeyKind::kService, "", "svc0000000000000"};
  const Principal alice_{KeyKind::kUser, "alice", "alice00000000000"};
  const Principal bob_{KeyKind::kUser, "bob", "bob0000000000000"};
};

TEST_F(DispatcherTest, TraceIdAppearsInTheLogSanitized) {
  mnemo::testing::LogCapture capture;
  spdlog::set_level(spdlog::level::info);
  const std::string blank_title = BuildRequest(
      77, "alice",
      [](Builder& fbb) {
        const auto conversation = wire::CreateNewConversation(fbb, nullptr, fbb.CreateString("  "));
        return Body(B::CreateConversationRequest,
                    wire::CreateCreateConversationRequest(fbb, conversation));
      },
      "req-42\nforged line");
  EXPECT_EQ(Call(alice_, blank_title).code(), StatusCode::VALIDATION_ERROR);
  const std::string captured = capture.Stop();
  EXPECT_NE(captured.find("request 77 [trace req-42?forged line] CreateConversation"),
            std::string::npos)
      << captured;
}

TEST_F(DispatcherTest, ConversationsRoundTrip) {
  auto created = Ok(alice_, CreateConversation("", "Weather in Berlin", 41));
  EXPECT_EQ(created->id(), 41u);
  ASSERT_EQ(created->body_type(), wire::ResponseBody::ConversationReply);
  const wire::Conversation* row = created->body_as_ConversationReply()->conversation();
  EXPECT_EQ(row->user_id()->str(), "alice");
  EXPECT_EQ(row->title()->str(), "Weather in Berlin");
  EXPECT_EQ(row->model()->str(), kDefaultModel);
  const wire::Id id = *row->id();

  auto got = Ok(alice_, ById(B::GetConversationRequest, "alice", id));
  EXPECT_EQ(got->body_as_ConversationReply()->conversation()->title()->str(), "Weather in Berlin");

  Ok(alice_, CreateConversation("", "Second"));
  auto listed = Ok(alice_, Simple(B::ListConversationsRequest));
  ASSERT_EQ(listed->body_type(), wire::ResponseBody::ConversationPage);
  EXPECT_EQ(listed->body_as_ConversationPage()->total(), 2);
  EXPECT_EQ(listed->body_as_ConversationPage()->items()->Get(0)->title()->str(),
            "Second");  // newest first

  auto searched = Ok(alice_, BuildRequest(2, "", [](Builder& fbb) {
                       return Body(B::ListConversationsRequest,
                                   wire::CreateListConversationsRequest(
                                       fbb, wire::ConversationOrder::created_desc, 0, 20, 0, false,
                                       fbb.CreateString("BERLIN")));
                     }));
  ASSERT_EQ(searched->body_as_ConversationPage()->items()->size(), 1u);

  auto updated = Ok(alice_, BuildRequest(2, "", [&](Builder& fbb) {
                      return Body(B::UpdateConversationRequest,
                                  wire::CreateUpdateConversationRequest(
                                      fbb, &id, fbb.CreateString("Renamed"), 0, 0, 0,
                                      fbb.CreateString(R"({"pinned":true})")));
                    }));
  EXPECT_EQ(updated->body_as_ConversationReply()->conversation()->title()->str(), "Renamed");
  EXPECT_EQ(updated->body_as_ConversationReply()->conversation()->metadata()->str(),
            R"({"pinned":true})");

  auto deleted = Ok(alice_, ById(B::DeleteConversationRequest, "", id));
  EXPECT_TRUE(deleted->body_as_ConversationReply()->conversation()->is_deleted());
  EXPECT_EQ(Call(alice_, ById(B::GetConversationRequest, "", id)).code(), StatusCode::NOT_FOUND);
  Ok(alice_, ById(B::GetConversationRequest, "", id, /*include_deleted=*/true));
  auto stats = Ok(alice_, Simple(B::GetUserStatsRequest));
  EXPECT_EQ(stats->body_as_UserStats()->total(), 2);
  EXPECT_EQ(stats->body_as_UserStats()->deleted(), 1);
  auto restored = Ok(alice_, ById(B::RestoreConversationRequest, "", id));
  EXPECT_FALSE(restored->body_as_ConversationReply()->conversation()->is_deleted());

  auto hard = Ok(alice_, ById(B::DeleteConversationRequest, "", id, /*hard=*/true));
  EXPECT_EQ(hard->body_type(), wire::ResponseBody::Done);
  EXPECT_EQ(Call(alice_, ById(B::GetConversationRequest, "", id, true)).code(),
            StatusCode::NOT_FOUND);

  // Upsert with a client id is idempotent.
  const wire::Id client_id(0x0191aaaabbbb7ccc, 0x8dddeeeeffff0000);
  const auto upsert = [&](std::string_view title) {
    return BuildRequest(3, "", [&](Builder& fbb) {
      const auto conversation =
          wire::CreateNewConversation(fbb, &client_id, fbb.CreateString(title));
      return Body(B::UpsertConversationRequest,
                  wire::CreateUpsertConversationRequest(fbb, conversation));
    });
  };
  Ok(alice_, upsert("v1"));
  auto second = Ok(alice_, upsert("v2"));
  EXPECT_EQ(second->body_as_ConversationReply()->conversation()->id()->hi(), client_id.hi());
  EXPECT_EQ(second->body_as_ConversationReply()->conversation()->title()->str(), "v2");
}

TEST_F(DispatcherTest, MessagesRoundTrip) {
  auto created = Ok(alice_, CreateConversation("", "Chat"));
  const wire::Id conversation = *created->body_as_ConversationReply()->conversation()->id();
  Ok(alice_, AppendMessage("", conversation, "user", "What's the weather?", 9));
  auto call = Ok(alice_, AppendMessage("", conversation, "assistant", "Let me check.", 14,
                                       R"([{"id":"call_1","name":"get_weather"}])"));
  const wire::Id call_id = *call->body_as_MessageReply()->message()->id();
  Ok(alice_, AppendMessage("", conversation, "assistant", "7 degrees.", 12));

  auto got = Ok(alice_, ById(B::GetMessageRequest, "", call_id));
  EXPECT_EQ(got->body_as_MessageReply()->message()->role(), wire::Role::assistant);
  EXPECT_EQ(got->body_as_MessageReply()->message()->tokens_used(), 14);

  const auto list = [&](wire::SortOrder order, std::string_view role, bool tool_calls) {
    return BuildRequest(4, "", [&](Builder& fbb) {
      const auto role_offset =
          role.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(role);
      return Body(B::ListMessagesRequest,
                  wire::CreateListMessagesRequest(fbb, &conversation, order, 0, 50, 0, role_offset,
                                                  tool_calls));
    });
  };
  auto ascending = Ok(alice_, list(wire::SortOrder::ascending, "", false));
  ASSERT_EQ(ascending->body_as_MessageList()->items()->size(), 3u);
  EXPECT_EQ(ascending->body_as_MessageList()->total(), 3);
  EXPECT_EQ(ascending->body_as_MessageList()->items()->Get(0)->content()->str(),
            "What's the weather?");
  auto descending = Ok(alice_, list(wire::SortOrder::descending, "", false));
  EXPECT_EQ(descending->body_as_MessageList()->items()->Get(0)->content()->str(), "7 degrees.");
  EXPECT_EQ(Ok(alice_, list(wire::SortOrder::ascending, "assistant", false))
                ->body_as_MessageList()
                ->total(),
            2);
  EXPECT_EQ(Ok(alice_, list(wire::SortOrder::ascending, "", true))->body_as_MessageList()->total(),
            1);
  auto bad_role = Call(alice_, list(wire::SortOrder::ascending, "robot", false));
  EXPECT_EQ(bad_role.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(bad_role.field(), "role");

  auto last = Ok(alice_, BuildRequest(5, "", [&](Builder& fbb) {
                   return Body(B::LastMessagesRequest,
                               wire::CreateLastMessagesRequest(fbb, &conversation, 2));
                 }));
  ASSERT_EQ(last->body_as_MessageList()->items()->size(), 2u);
  EXPECT_EQ(last->body_as_MessageList()->items()->Get(1)->content()->str(), "7 degrees.");

  const auto last_by_role = [&](std::string_view role) {
    return BuildRequest(6, "", [&](Builder& fbb) {
      return Body(B::LastMessageByRoleRequest,
                  wire::CreateLastMessageByRoleRequest(fbb, &conversation, fbb.CreateString(role)));
    });
  };
  EXPECT_EQ(Ok(alice_, last_by_role("user"))->body_as_MessageReply()->message()->content()->str(),
            "What's the weather?");
  EXPECT_EQ(Ok(alice_, last_by_role("tool"))->body_as_MessageReply()->message(), nullptr);

  auto tool_results = Ok(alice_, BuildRequest(7, "", [&](Builder& fbb) {
                           return Body(B::SetToolResultsRequest,
                                       wire::CreateSetToolResultsRequest(
                                           fbb, &call_id, fbb.CreateString(R"({"t":7})")));
                         }));
  EXPECT_EQ(tool_results->body_as_MessageReply()->message()->tool_results()->str(), R"({"t":7})");

  auto tokens = Ok(alice_, ById(B::GetTokenStatsRequest, "", conversation));
  EXPECT_EQ(tokens->body_as_TokenStats()->total_tokens(), 35);
  EXPECT_EQ(tokens->body_as_TokenStats()->per_role()->size(), 4u);
  EXPECT_EQ(tokens->body_as_TokenStats()->per_role()->Get(1)->message_count(), 2);

  auto conversation_row = Ok(alice_, ById(B::GetConversationRequest, "", conversation));
  EXPECT_EQ(conversation_row->body_as_ConversationReply()->conversation()->message_count(), 3);

  auto deleted = Ok(alice_, ById(B::DeleteMessagesRequest, "", conversation));
  EXPECT_EQ(deleted->body_as_CountReply()->count(), 3);
}

TEST_F(DispatcherTest, DocumentsChunksAndSearch) {
  auto created = Ok(alice_, CreateDocument("", "notes.txt"));
  const wire::Id document = *created->body_as_DocumentReply()->document()->id();
  auto added = Ok(alice_, AddChunks("", document, {Vec(1), Vec(2), Vec(3)}));
  ASSERT_EQ(added->body_as_ChunkList()->chunks()->size(), 3u);

  auto found = Ok(alice_, Search("", Vec(2), 2));
  const wire::SearchReply* reply = found->body_as_SearchReply();
  ASSERT_EQ(reply->hits()->size(), 2u);
  EXPECT_EQ(reply->hits()->Get(0)->chunk_index(), 1);
  EXPECT_NEAR(reply->hits()->Get(0)->similarity(), 1.0, 1e-5);
  EXPECT_EQ(reply->hits()->Get(0)->filename()->str(), "notes.txt");
  EXPECT_TRUE(reply->exact());

  auto batch =
      Ok(alice_, BuildRequest(2, "", [&](Builder& fbb) {
           std::vector<flatbuffers::Offset<wire::SearchQuery>> queries;
           for (float seed : {1.0f, 3.0f})
             queries.push_back(wire::CreateSearchQuery(fbb, fbb.CreateVector(Vec(seed)), 1));
           return Body(B::SearchBatchRequest,
                       wire::CreateSearchBatchRequest(fbb, fbb.CreateVector(queries)));
         }));
  ASSERT_EQ(batch->body_as_SearchBatchReply()->results()->size(), 2u);
  EXPECT_EQ(batch->body_as_SearchBatchReply()->results()->Get(1)->hits()->Get(0)->chunk_index(), 2);

  // Bob sees none of Alice's chunks.
  EXPECT_EQ(Ok(bob_, Search("", Vec(2)))->body_as_SearchReply()->hits()->size(), 0u);

  auto listed = Ok(alice_, Simple(B::ListDocumentsRequest));
  EXPECT_EQ(listed->body_as_DocumentPage()->total(), 1);
  EXPECT_EQ(listed->body_as_DocumentPage()->items()->Get(0)->total_chunks(), 3);
  auto by_name = Ok(alice_, BuildRequest(3, "", [](Builder& fbb) {
                      return Body(B::ListDocumentsRequest,
                                  wire::CreateListDocumentsRequest(fbb, 0, 20, 0, false,
                                                                   fbb.CreateString("NOTES")));
                    }));
  EXPECT_EQ(by_name->body_as_DocumentPage()->total(), 1);

  Ok(alice_, ById(B::DeleteDocumentRequest, "", document));
  EXPECT_EQ(Ok(alice_, Search("", Vec(2)))->body_as_SearchReply()->hits()->size(), 0u);
  EXPECT_EQ(Ok(alice_, Simple(B::CountDocumentsRequest))->body_as_DocumentCounts()->deleted(), 1);
  Ok(alice_, ById(B::RestoreDocumentRequest, "", document));
  EXPECT_EQ(Ok(alice_, Search("", Vec(2)))->body_as_SearchReply()->hits()->size(), 3u);
  EXPECT_EQ(Ok(alice_, ById(B::GetDocumentRequest, "", document))
                ->body_as_DocumentReply()
                ->document()
                ->filename()
                ->str(),
            "notes.txt");
  EXPECT_EQ(Ok(alice_, ById(B::DeleteDocumentRequest, "", document, /*hard=*/true))->body_type(),
            wire::ResponseBody::Done);
  EXPECT_EQ(Call(alice_, ById(B::GetDocumentRequest, "", document, true)).code(),
            StatusCode::NOT_FOUND);
}

TEST_F(DispatcherTest, EmbeddingsAreValidated) {
  auto created = Ok(alice_, CreateDocument("", "a.md"));
  const wire::Id document = *created->body_as_DocumentReply()->document()->id();
  EXPECT_EQ(Call(alice_, AddChunks("", document, {std::vector<float>(kDim + 1, 0.5f)})).code(),
            StatusCode::VALIDATION_ERROR);
  std::vector<float> nan_vector = Vec(1);
  nan_vector[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(Call(alice_, AddChunks("", document, {nan_vector})).code(),
            StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(Call(alice_, AddChunks("", document, {std::vector<float>(kDim, 0.0f)})).code(),
            StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(Call(alice_, Search("", std::vector<float>(3, 1.0f))).code(),
            StatusCode::VALIDATION_ERROR);
  // Nothing was written.
  EXPECT_EQ(Ok(alice_, ById(B::GetDocumentRequest, "", document))
                ->body_as_DocumentReply()
                ->document()
                ->total_chunks(),
            0);
}

TEST_F(DispatcherTest, BatchIsAtomic) {
  const wire::Id conversation(0x0191000000007000, 0x8000000000000001);
  const auto batch = [&](std::string_view second_role) {
    return BuildRequest(11, "", [&](Builder& fbb) {
      std::vector<flatbuffers::Offset<wire::BatchOp>> ops;
      const auto new_conversation =
          wire::CreateNewConversation(fbb, &conversation, fbb.CreateString("Batch"));
      ops.push_back(wire::CreateBatchOp(fbb, new_conversation));
      const auto message = wire::CreateNewMessage(
          fbb, nullptr, &conversation, fbb.CreateString(second_role), fbb.CreateString("hi"));
      ops.push_back(wire::CreateBatchOp(fbb, 0, 0, message));
      return Body(B::ApplyBatchRequest, wire::CreateApplyBatchRequest(fbb, fbb.CreateVector(ops)));
    });
  };
  auto failed = Call(alice_, batch("robot"));
  EXPECT_EQ(failed.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_NE(failed.message().find("op 1"), std::string::npos) << failed.message();
  EXPECT_EQ(Call(alice_, ById(B::GetConversationRequest, "", conversation)).code(),
            StatusCode::NOT_FOUND);

  auto applied = Ok(alice_, batch("user"));
  ASSERT_EQ(applied->body_as_BatchReply()->ids()->size(), 2u);
  EXPECT_EQ(applied->body_as_BatchReply()->ids()->Get(0)->lo(), conversation.lo());
  EXPECT_EQ(Ok(alice_, ById(B::GetConversationRequest, "", conversation))
                ->body_as_ConversationReply()
                ->conversation()
                ->message_count(),
            1);

  auto empty_op =
      Call(alice_, BuildRequest(12, "", [](Builder& fbb) {
             std::vector<flatbuffers::Offset<wire::BatchOp>> ops{wire::CreateBatchOp(fbb)};
             return Body(B::ApplyBatchRequest,
                         wire::CreateApplyBatchRequest(fbb, fbb.CreateVector(ops)));
           }));
  EXPECT_EQ(empty_op.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_NE(empty_op.message().find("op 0"), std::string::npos);
}

TEST_F(DispatcherTest, UserIsolationThroughPrincipals) {
  auto created = Ok(alice_, CreateConversation("", "Private"));
  const wire::Id id = *created->body_as_ConversationReply()->conversation()->id();
  // Bob's key cannot see it, nor name Alice.
  EXPECT_EQ(Call(bob_, ById(B::GetConversationRequest, "", id)).code(), StatusCode::NOT_FOUND);
  auto impersonation = Call(bob_, ById(B::GetConversationRequest, "alice", id));
  EXPECT_EQ(impersonation.code(), StatusCode::AUTHORIZATION_ERROR);
  EXPECT_EQ(impersonation.field(), "user_id");
  EXPECT_EQ(Call(alice_, ById(B::GetConversationRequest, "bob", id)).code(),
            StatusCode::AUTHORIZATION_ERROR);
  EXPECT_EQ(Call(bob_, AppendMessage("", id, "user", "intrusion")).code(), StatusCode::NOT_FOUND);
  // A service key acts for whoever it names, and must name someone.
  Ok(service_, ById(B::GetConversationRequest, "alice", id));
  EXPECT_EQ(Call(service_, ById(B::GetConversationRequest, "bob", id)).code(),
            StatusCode::NOT_FOUND);
  auto unnamed = Call(service_, ById(B::GetConversationRequest, "", id));
  EXPECT_EQ(unnamed.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(unnamed.field(), "user_id");
  // Too long a user id is the engine's validation error.
  EXPECT_EQ(Call(service_, CreateConversation(std::string(300, 'x'), "t")).code(),
            StatusCode::VALIDATION_ERROR);
}

TEST_F(DispatcherTest, AdminNeedsAServicePrincipal) {
  Ok(alice_, CreateConversation("", "One"));
  auto created = Ok(alice_, CreateDocument("", "doc.txt"));
  const wire::Id document = *created->body_as_DocumentReply()->document()->id();
  Ok(alice_, AddChunks("", document, {Vec(1), Vec(2)}));

  EXPECT_EQ(Call(alice_, Simple(B::ListPartitionsRequest)).code(), StatusCode::AUTHORIZATION_ERROR);
  EXPECT_EQ(Call(alice_, Simple(B::GetStatsRequest)).code(), StatusCode::AUTHORIZATION_ERROR);

  auto partitions = Ok(service_, Simple(B::ListPartitionsRequest));
  ASSERT_EQ(partitions->body_as_PartitionList()->partitions()->size(), 1u);
  const wire::PartitionInfo* partition = partitions->body_as_PartitionList()->partitions()->Get(0);
  EXPECT_EQ(partition->rows(), 2);
  const std::string month = partition->month()->str();

  auto stats = Ok(service_, Simple(B::GetStatsRequest));
  const wire::StatsReply* reply = stats->body_as_StatsReply();
  EXPECT_GT(reply->data_bytes(), 0u);
  bool saw_create = false;
  for (const wire::OpStats* op : *reply->ops()) {
    if (op->name()->str() == "CreateConversation") {
      saw_create = true;
      EXPECT_EQ(op->count(), 1u);
      EXPECT_GT(op->p50_us(), 0);
    }
    if (op->name()->str() == "ListPartitions") {
      EXPECT_EQ(op->errors(), 1u);  // Alice's refused call
    }
  }
  EXPECT_TRUE(saw_create);

  const auto with_month = [&](B type, const std::string& path = {}) {
    return BuildRequest(20, "", [&](Builder& fbb) -> std::pair<B, flatbuffers::Offset<void>> {
      const auto m = fbb.CreateString(month);
      switch (type) {
        case B::RebuildPartitionRequest:
          return Body(type, wire::CreateRebuildPartitionRequest(fbb, m));
        case B::ArchivePartitionRequest:
          return Body(type, wire::CreateArchivePartitionRequest(fbb, m, fbb.CreateString(path)));
        case B::DropPartitionRequest: return Body(type, wire::CreateDropPartitionRequest(fbb, m));
        case B::AttachArchiveRequest:
          return Body(type, wire::CreateAttachArchiveRequest(fbb, fbb.CreateString(path)));
        case B::CreateBackupRequest:
          return Body(type, wire::CreateCreateBackupRequest(fbb, fbb.CreateString(path)));
        default: ADD_FAILURE(); return {};
      }
    });
  };
  EXPECT_EQ(Ok(service_, with_month(B::RebuildPartitionRequest))->body_type(),
            wire::ResponseBody::Done);
  const std::string archive = dir_.Sub("archive.bin");
  EXPECT_EQ(
      Ok(service_, with_month(B::ArchivePartitionRequest, archive))->body_as_CountReply()->count(),
      2);
  EXPECT_EQ(Ok(service_, with_month(B::DropPartitionRequest))->body_as_CountReply()->count(), 2);
  EXPECT_EQ(Ok(alice_, Search("", Vec(1)))->body_as_SearchReply()->hits()->size(), 0u);
  EXPECT_EQ(
      Ok(service_, with_month(B::AttachArchiveRequest, archive))->body_as_AttachReply()->attached(),
      2);
  EXPECT_EQ(Ok(alice_, Search("", Vec(1)))->body_as_SearchReply()->hits()->size(), 2u);
  EXPECT_EQ(Call(alice_, with_month(B::CreateBackupRequest, dir_.Sub("nope"))).code(),
            StatusCode::AUTHORIZATION_ERROR);

  // The backup carries the key file along.
  KeyStore keys(KeyStore::PathFor(dir_.Sub("data")));
  ASSERT_TRUE(keys.Create(KeyKind::kService, "").ok());
  const std::string backup = dir_.Sub("backup");
  EXPECT_EQ(Ok(service_, with_month(B::CreateBackupRequest, backup))->body_type(),
            wire::ResponseBody::Done);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(backup) / "CURRENT"));
  EXPECT_TRUE(std::filesystem::exists(KeyStore::PathFor(backup)));
  EXPECT_EQ(Call(service_, with_month(B::CreateBackupRequest, backup)).code(),
            StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(Call(service_, with_month(B::AttachArchiveRequest, "")).field(), "path");
}

TEST_F(DispatcherTest, MalformedRequestsGetValidationErrors) {
  // An unknown union type (a newer client) and NONE.
  for (uint8_t type : {uint8_t{0}, uint8_t{200}}) {
    auto response =
        Call(alice_, BuildRequest(31, "", [&](Builder& fbb) {
               return std::make_pair(static_cast<B>(type), wire::CreateDone(fbb).Union());
             }));
    EXPECT_EQ(response->id(), 31u);
    EXPECT_EQ(response.code(), StatusCode::VALIDATION_ERROR);
  }
  // A known type without its table.
  auto no_body =
      Call(alice_, BuildRequest(32, "", [](Builder&) {
             return std::make_pair(B::GetConversationRequest, flatbuffers::Offset<void>());
           }));
  EXPECT_EQ(no_body.code(), StatusCode::VALIDATION_ERROR);
  // A request without its required sub-table or id.
  auto no_conversation =
      Call(alice_, BuildRequest(33, "", [](Builder& fbb) {
             return Body(B::CreateConversationRequest, wire::CreateCreateConversationRequest(fbb));
           }));
  EXPECT_EQ(no_conversation.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(no_conversation.field(), "conversation");
  auto no_id =
      Call(alice_, BuildRequest(34, "", [](Builder& fbb) {
             return Body(B::GetConversationRequest, wire::CreateGetConversationRequest(fbb));
           }));
  EXPECT_EQ(no_id.field(), "id");
  // A hello after the handshake.
  EXPECT_EQ(Call(alice_, testing::HelloRequest(35)).code(), StatusCode::VALIDATION_ERROR);
  // Blank title: the engine's validation, with the field.
  auto blank = Call(alice_, CreateConversation("", "   "));
  EXPECT_EQ(blank.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(blank.field(), "title");
}

TEST_F(DispatcherTest, OversizedRepliesBecomePayloadTooLarge) {
  Dispatcher small(*engine_, stats_, DispatcherOptions{dir_.Sub("data"), 2048});
  for (int i = 0; i < 30; ++i) Ok(alice_, CreateConversation("", std::string(200, 'a' + i % 26)));
  const std::string payload = Simple(B::ListConversationsRequest);
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(payload, &error);
  ASSERT_NE(request, nullptr);
  ParsedResponse response(small.Handle(alice_, *request));
  EXPECT_EQ(response.code(), StatusCode::PAYLOAD_TOO_LARGE);
}

// ---- the handshake ----

class HelloTest : public ::testing::Test {
 protected:
  HelloOutcome Hello(const std::string& payload, bool loopback = true) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    EXPECT_NE(request, nullptr) << error;
    HelloSettings settings{1u << 20, 16, 8, loopback};
    return HandleHello(*request, keys_, settings);
  }
  mnemo::testing::TempDir dir_;
  KeyStore keys_{KeyStore::PathFor(dir_.path().string())};
};

TEST_F(HelloTest, ProtectedModeOnLoopbackOnly) {
  auto accepted = Hello(testing::HelloRequest(1));
  ASSERT_TRUE(accepted.principal);
  EXPECT_TRUE(accepted.principal->is_service());
  ParsedResponse reply(accepted.response);
  ASSERT_TRUE(reply.ok());
  const wire::HelloReply* hello = reply->body_as_HelloReply();
  EXPECT_EQ(hello->protocol_version(), protocol::kProtocolVersion);
  EXPECT_EQ(hello->max_frame_bytes(), 1u << 20);
  EXPECT_EQ(hello->max_in_flight(), 16u);
  EXPECT_EQ(hello->dimension(), 8u);
  EXPECT_EQ(hello->principal()->str(), "service");
  EXPECT_FALSE(hello->server_version()->str().empty());

  auto remote = Hello(testing::HelloRequest(2), /*loopback=*/false);
  EXPECT_FALSE(remote.principal);
  EXPECT_EQ(ParsedResponse(remote.response).code(), StatusCode::AUTHENTICATION_ERROR);
}

TEST_F(HelloTest, KeysAreRequiredOnceTheyExistAndRevocationBites) {
  auto user = keys_.Create(KeyKind::kUser, "alice");
  ASSERT_TRUE(user.ok());
  EXPECT_FALSE(Hello(testing::HelloRequest(1)).principal);  // no key: refused now
  auto accepted = Hello(testing::HelloRequest(2, user->key), /*loopback=*/false);
  ASSERT_TRUE(accepted.principal);
  EXPECT_EQ(ParsedResponse(accepted.response)->body_as_HelloReply()->principal()->str(), "alice");
  auto wrong = Hello(testing::HelloRequest(3, "mnemo_nonsense"));
  EXPECT_FALSE(wrong.principal);
  EXPECT_EQ(ParsedResponse(wrong.response).code(), StatusCode::AUTHENTICATION_ERROR);
  ASSERT_TRUE(keys_.Revoke(user->record.id).ok());
  auto revoked = Hello(testing::HelloRequest(4, user->key));
  EXPECT_FALSE(revoked.principal);
  EXPECT_EQ(ParsedResponse(revoked.response).code(), StatusCode::AUTHENTICATION_ERROR);
}

TEST_F(HelloTest, WrongProtocolVersion) {
  auto outcome = Hello(testing::HelloRequest(5, "", 99));
  EXPECT_FALSE(outcome.principal);
  ParsedResponse response(outcome.response);
  EXPECT_EQ(response->id(), 5u);
  EXPECT_EQ(response.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(response.message(), "unsupported protocol version 99; server speaks 1");
  EXPECT_EQ(ParsedResponse(HelloRequiredResponse(6)).code(), StatusCode::AUTHENTICATION_ERROR);
}

}  // namespace
}  // namespace mnemo::server
