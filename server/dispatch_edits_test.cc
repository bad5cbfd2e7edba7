// The dispatcher's newer operations at the wire level: single-row edits, counts and filters,
// chunk operations, retention.  Each is driven with a good request and with the malformed ones
// only the wire can carry (absent ids and tables, filter entries without key or value).
#include <gtest/gtest.h>

#include "server/dispatcher.h"
#include "server/testing/wire_helpers.h"
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

class DispatchEditsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.dimension = kDim;
    options.sync_writes = false;
    options.retention.purge_after_seconds = 86400;  // the "configured" policy
    engine_ = std::move(Engine::Open(options)).value();
    dispatcher_ = std::make_unique<Dispatcher>(*engine_, stats_,
                                               DispatcherOptions{options.data_dir, 1u << 20});
    NewConversation conversation;
    conversation.title = "c";
    conversation.model = "gpt";
    conversation_ = engine_->CreateConversation("alice", conversation)->id;
    NewMessage message;
    message.conversation_id = conversation_;
    message.role = "user";
    message.content = "hi";
    message.tokens_used = 4;
    message_ = engine_->AppendMessage("alice", message)->id;
    NewDocument document;
    document.filename = "a.md";
    document.file_type = "md";
    document_ = engine_->CreateDocument("alice", document)->id;
    NewChunk chunk;
    chunk.document_id = document_;
    chunk.chunk_text = "t";
    chunk.embedding = {1, 0, 0, 0};
    chunk_ = engine_->AddChunks("alice", {chunk})->front().id;
  }

  ParsedResponse Call(const std::string& payload, const Principal* principal = nullptr) {
    std::string error;
    const wire::Request* request = protocol::VerifyRequest(payload, &error);
    EXPECT_NE(request, nullptr) << error;
    return ParsedResponse(dispatcher_->Handle(principal ? *principal : alice_, *request));
  }
  ParsedResponse Ok(const std::string& payload) {
    ParsedResponse response = Call(payload);
    EXPECT_TRUE(response.ok()) << testing::CodeName(response.code()) << ": " << response.message();
    return response;
  }
  void ExpectError(const std::string& payload, StatusCode code, const std::string& field) {
    ParsedResponse response = Call(payload);
    EXPECT_EQ(response.code(), code) << response.message();
    EXPECT_EQ(response.field(), field) << response.message();
  }
  using Make = std::function<std::pair<B, flatbuffers::Offset<void>>(Builder&)>;
  std::string Request(const Make& make) { return BuildRequest(5, "alice", make); }

  // A metadata condition list with one entry; `key` empty leaves the key absent.
  static flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::MetadataEquals>>> Meta(
      Builder& fbb, std::string_view key, std::string_view value) {
    const auto k = key.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(key);
    return fbb.CreateVector(
        std::vector{wire::CreateMetadataEquals(fbb, k, fbb.CreateString(value))});
  }

  mnemo::testing::TempDir dir_;
  ServerStats stats_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  Uuid conversation_, message_, document_, chunk_;
  const Principal service_{KeyKind::kService, "", "svc0000000000000"};
  const Principal alice_{KeyKind::kUser, "alice", "alice00000000000"};
};

TEST_F(DispatchEditsTest, MessageEditsAndCounts) {
  const wire::Id id = ToWireId(message_);
  const wire::Id conversation = ToWireId(conversation_);
  auto updated = Ok(Request([&](Builder& fbb) {
    return Body(B::UpdateMessageRequest,
                wire::CreateUpdateMessageRequest(fbb, &id, 0, fbb.CreateString("edited"), 0,
                                                 fbb.CreateString("[]"), 0, 0, 9));
  }));
  ASSERT_EQ(updated->body_type(), wire::ResponseBody::MessageReply);
  EXPECT_EQ(updated->body_as_MessageReply()->message()->content()->str(), "edited");
  EXPECT_EQ(updated->body_as_MessageReply()->message()->tool_calls()->str(), "[]");
  EXPECT_EQ(engine_->GetConversation("alice", conversation_)->total_tokens, 9);
  ExpectError(Request([](Builder& fbb) {
                return Body(B::UpdateMessageRequest, wire::CreateUpdateMessageRequest(
                                                         fbb, nullptr, 0, fbb.CreateString("x")));
              }),
              StatusCode::VALIDATION_ERROR, "id");
  ExpectError(Request([&](Builder& fbb) {
                return Body(B::UpdateMessageRequest, wire::CreateUpdateMessageRequest(fbb, &id));
              }),
              StatusCode::VALIDATION_ERROR, "update");

  const auto count = [&](std::string_view role, bool exists_only) {
    return Request([&](Builder& fbb) {
      const auto filter = wire::CreateMessageFilter(fbb, role.empty() ? 0 : fbb.CreateString(role));
      return Body(B::CountMessagesRequest,
                  wire::CreateCountMessagesRequest(fbb, &conversation, filter, exists_only));
    });
  };
  EXPECT_EQ(Ok(count("", false))->body_as_CountReply()->count(), 1);
  EXPECT_EQ(Ok(count("assistant", true))->body_as_CountReply()->count(), 0);
  ExpectError(count("robot", false), StatusCode::VALIDATION_ERROR, "role");
  ExpectError(Request([](Builder& fbb) {
                return Body(B::CountMessagesRequest,
                            wire::CreateCountMessagesRequest(fbb, nullptr));
              }),
              StatusCode::VALIDATION_ERROR, "conversation_id");
  ExpectError(Request([&](Builder& fbb) {
                const auto filter = wire::CreateMessageFilter(
                    fbb, 0, false, flatbuffers::nullopt, flatbuffers::nullopt, Meta(fbb, "", "1"));
                return Body(B::CountMessagesRequest,
                            wire::CreateCountMessagesRequest(fbb, &conversation, filter));
              }),
              StatusCode::VALIDATION_ERROR, "metadata_equals");
  // The list takes the same filter table.
  auto listed = Ok(Request([&](Builder& fbb) {
    const auto filter = wire::CreateMessageFilter(fbb, 0, false, 0, flatbuffers::nullopt);
    return Body(B::ListMessagesRequest,
                wire::CreateListMessagesRequest(fbb, &conversation, wire::SortOrder::ascending, 0,
                                                50, 0, 0, false, filter));
  }));
  EXPECT_EQ(listed->body_as_MessageList()->total(), 1);

  auto deleted = Ok(Request([&](Builder& fbb) {
    return Body(B::DeleteMessageRequest, wire::CreateDeleteMessageRequest(fbb, &id));
  }));
  EXPECT_EQ(deleted->body_as_MessageReply()->message()->content()->str(), "edited");
  EXPECT_EQ(Call(Request([&](Builder& fbb) {
              return Body(B::DeleteMessageRequest, wire::CreateDeleteMessageRequest(fbb, &id));
            })).code(),
            StatusCode::NOT_FOUND);
  ExpectError(Request([](Builder& fbb) {
                return Body(B::DeleteMessageRequest,
                            wire::CreateDeleteMessageRequest(fbb, nullptr));
              }),
              StatusCode::VALIDATION_ERROR, "id");
}

TEST_F(DispatchEditsTest, ConversationAndDocumentFiltersAndCounts) {
  const auto count_conversations = [&](std::string_view model) {
    return Request([&](Builder& fbb) {
      const auto filter = wire::CreateConversationFilter(
          fbb, flatbuffers::nullopt, flatbuffers::nullopt, flatbuffers::nullopt,
          flatbuffers::nullopt, fbb.CreateString(model));
      return Body(B::CountConversationsRequest,
                  wire::CreateCountConversationsRequest(fbb, false, filter));
    });
  };
  EXPECT_EQ(Ok(count_conversations("gpt"))->body_as_CountReply()->count(), 1);
  EXPECT_EQ(Ok(count_conversations("claude"))->body_as_CountReply()->count(), 0);
  ExpectError(count_conversations(""), StatusCode::VALIDATION_ERROR, "model");
  ExpectError(Request([](Builder& fbb) {
                const auto filter = wire::CreateConversationFilter(fbb, 10, 5);
                return Body(
                    B::ListConversationsRequest,
                    wire::CreateListConversationsRequest(fbb, wire::ConversationOrder::created_desc,
                                                         0, 20, 0, false, 0, filter));
              }),
              StatusCode::VALIDATION_ERROR, "created_until");
  // The legacy title field still works and the filter's title wins over it.
  auto titled = Ok(Request([](Builder& fbb) {
    const auto filter = wire::CreateConversationFilter(
        fbb, flatbuffers::nullopt, flatbuffers::nullopt, flatbuffers::nullopt, flatbuffers::nullopt,
        0, fbb.CreateString("nomatch"));
    return Body(B::ListConversationsRequest,
                wire::CreateListConversationsRequest(fbb, wire::ConversationOrder::created_desc, 0,
                                                     20, 0, false, fbb.CreateString("c"), filter));
  }));
  EXPECT_EQ(titled->body_as_ConversationPage()->total(), 0);

  const wire::Id document = ToWireId(document_);
  auto updated = Ok(Request([&](Builder& fbb) {
    return Body(B::UpdateDocumentRequest,
                wire::CreateUpdateDocumentRequest(fbb, &document, fbb.CreateString("b.pdf"),
                                                  fbb.CreateString("pdf")));
  }));
  EXPECT_EQ(updated->body_as_DocumentReply()->document()->filename()->str(), "b.pdf");
  ExpectError(Request([&](Builder& fbb) {
                return Body(
                    B::UpdateDocumentRequest,
                    wire::CreateUpdateDocumentRequest(fbb, &document, 0, fbb.CreateString("exe")));
              }),
              StatusCode::VALIDATION_ERROR, "file_type");
  ExpectError(Request([](Builder& fbb) {
                return Body(B::UpdateDocumentRequest,
                            wire::CreateUpdateDocumentRequest(fbb, nullptr));
              }),
              StatusCode::VALIDATION_ERROR, "id");
  const auto count_documents = [&](std::string_view type) {
    return Request([&](Builder& fbb) {
      const auto types = fbb.CreateVector(std::vector{fbb.CreateString(type)});
      const auto filter =
          wire::CreateDocumentFilter(fbb, flatbuffers::nullopt, flatbuffers::nullopt, types);
      return Body(B::CountMatchingDocumentsRequest,
                  wire::CreateCountMatchingDocumentsRequest(fbb, false, filter));
    });
  };
  EXPECT_EQ(Ok(count_documents("pdf"))->body_as_CountReply()->count(), 1);
  EXPECT_EQ(Ok(count_documents("md"))->body_as_CountReply()->count(), 0);
  ExpectError(count_documents("zip"), StatusCode::VALIDATION_ERROR, "file_types");
  auto listed = Ok(Request([](Builder& fbb) {
    const auto filter = wire::CreateDocumentFilter(fbb, flatbuffers::nullopt, flatbuffers::nullopt,
                                                   0, fbb.CreateString("B."));
    return Body(B::ListDocumentsRequest,
                wire::CreateListDocumentsRequest(fbb, 0, 20, 0, false, 0, filter));
  }));
  EXPECT_EQ(listed->body_as_DocumentPage()->total(), 1);
}

TEST_F(DispatchEditsTest, ChunkOperations) {
  const wire::Id chunk = ToWireId(chunk_);
  const wire::Id document = ToWireId(document_);
  const auto delete_chunk = [&](bool hard) {
    return Request([&](Builder& fbb) {
      return Body(B::DeleteChunkRequest, wire::CreateDeleteChunkRequest(fbb, &chunk, hard));
    });
  };
  auto soft = Ok(delete_chunk(false));
  ASSERT_EQ(soft->body_type(), wire::ResponseBody::ChunkReply);
  EXPECT_TRUE(soft->body_as_ChunkReply()->chunk()->is_deleted());
  EXPECT_TRUE(soft->body_as_ChunkReply()->chunk()->deleted_at().has_value());
  const auto get = [&](bool include_deleted) {
    return Request([&](Builder& fbb) {
      return Body(B::GetChunkRequest, wire::CreateGetChunkRequest(fbb, &chunk, include_deleted));
    });
  };
  EXPECT_EQ(Call(get(false)).code(), StatusCode::NOT_FOUND);
  EXPECT_EQ(Ok(get(true))->body_as_ChunkReply()->chunk()->chunk_text()->str(), "t");
  auto restored = Ok(Request([&](Builder& fbb) {
    return Body(B::RestoreChunkRequest, wire::CreateRestoreChunkRequest(fbb, &chunk));
  }));
  EXPECT_FALSE(restored->body_as_ChunkReply()->chunk()->is_deleted());
  auto page = Ok(Request([&](Builder& fbb) {
    return Body(B::ListChunksRequest, wire::CreateListChunksRequest(fbb, &document));
  }));
  ASSERT_EQ(page->body_type(), wire::ResponseBody::ChunkPage);
  EXPECT_EQ(page->body_as_ChunkPage()->total(), 1);
  ExpectError(Request([&](Builder& fbb) {
                return Body(B::ListChunksRequest,
                            wire::CreateListChunksRequest(fbb, &document, 0, 0));
              }),
              StatusCode::VALIDATION_ERROR, "limit");
  ExpectError(Request([](Builder& fbb) {
                return Body(B::ListChunksRequest, wire::CreateListChunksRequest(fbb));
              }),
              StatusCode::VALIDATION_ERROR, "document_id");

  const auto replace = [&](std::vector<float> embedding) {
    return Request([&](Builder& fbb) {
      const auto chunks = fbb.CreateVector(std::vector{wire::CreateNewChunk(
          fbb, nullptr, &document, 3, fbb.CreateString("new"), fbb.CreateVector(embedding))});
      return Body(B::ReplaceChunksRequest,
                  wire::CreateReplaceChunksRequest(fbb, &document, chunks));
    });
  };
  ExpectError(replace({1, 2}), StatusCode::VALIDATION_ERROR, "embedding");
  auto replaced = Ok(replace({0, 1, 0, 0}));
  ASSERT_EQ(replaced->body_as_ChunkList()->chunks()->size(), 1u);
  EXPECT_EQ(replaced->body_as_ChunkList()->chunks()->Get(0)->chunk_index(), 3);
  EXPECT_EQ(Call(get(true)).code(),
            StatusCode::NOT_FOUND);  // the old chunk went with the replacement
  ExpectError(Request([](Builder& fbb) {
                return Body(B::ReplaceChunksRequest, wire::CreateReplaceChunksRequest(fbb));
              }),
              StatusCode::VALIDATION_ERROR, "document_id");
  const wire::Id new_chunk = *replaced->body_as_ChunkList()->chunks()->Get(0)->id();
  auto hard = Ok(Request([&](Builder& fbb) {
    return Body(B::DeleteChunkRequest, wire::CreateDeleteChunkRequest(fbb, &new_chunk, true));
  }));
  EXPECT_FALSE(hard->body_as_ChunkReply()->chunk()->is_deleted());
  EXPECT_EQ(engine_->GetDocument("alice", document_)->total_chunks, 0);
}

TEST_F(DispatchEditsTest, RetentionNeedsAServicePrincipal) {
  const auto retention = [](bool configured, int32_t keep_months, int64_t purge_after) {
    return BuildRequest(7, "", [&](Builder& fbb) {
      return Body(B::ApplyRetentionRequest,
                  wire::CreateApplyRetentionRequest(fbb, configured, keep_months, 0, purge_after));
    });
  };
  EXPECT_EQ(Call(retention(true, 0, 0), &alice_).code(), StatusCode::AUTHORIZATION_ERROR);
  engine_->SoftDeleteConversation("alice", conversation_).status().IgnoreError();
  auto configured = Call(retention(true, 0, 0), &service_);
  ASSERT_TRUE(configured.ok()) << configured.message();
  ASSERT_EQ(configured->body_type(), wire::ResponseBody::RetentionReply);
  EXPECT_GT(configured->body_as_RetentionReply()->purge_cutoff(), 0);          // 1 day before now
  EXPECT_EQ(configured->body_as_RetentionReply()->conversations_purged(), 0);  // deleted just now
  auto given = Call(retention(false, 2, 0), &service_);
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->body_as_RetentionReply()->purge_cutoff(), 0);
  EXPECT_GT(given->body_as_RetentionReply()->month_cutoff(), 0);
  auto bad = Call(retention(false, -1, 0), &service_);
  EXPECT_EQ(bad.code(), StatusCode::VALIDATION_ERROR);
  EXPECT_EQ(bad.field(), "keep_months");
}

}  // namespace
}  // namespace mnemo::server
