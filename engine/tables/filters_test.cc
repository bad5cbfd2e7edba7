// List filters and counts of conversations, messages and documents: time ranges, model,
// metadata, file types, and count/exists.
#include <gtest/gtest.h>

#include <thread>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

// Waits until the clock has moved past `ts`, so rows created after it have later timestamps.
Timestamp After(Timestamp ts) {
  while (NowMicros() <= ts) std::this_thread::sleep_for(std::chrono::microseconds(50));
  return NowMicros();
}

std::vector<std::string> Titles(const ConversationPage& page) {
  std::vector<std::string> titles;
  for (const auto& c : page.items) titles.push_back(c.title);
  return titles;
}

class FilterTest : public EngineTest {
 protected:
  Conversation Make(const std::string& title, const std::string& model,
                    const std::string& metadata) {
    NewConversation input;
    input.title = title;
    input.model = model;
    input.metadata = metadata;
    return Unwrap(engine_->CreateConversation("alice", input));
  }
};

TEST_F(FilterTest, ConversationsByTimeRangeModelAndMetadata) {
  const Conversation a = Make("alpha", "gpt", R"({"team":"red","n":1})");
  const Timestamp t1 = After(a.created_at);
  const Conversation b = Make("beta", "claude", R"({"team":"blue"})");
  const Timestamp t2 = After(b.created_at);
  const Conversation c = Make("gamma", "claude", R"({"team":"red","n":2})");
  Make("delta", "claude", "{}");
  NewConversation bobs;
  bobs.title = "bob";
  bobs.model = "claude";
  Unwrap(engine_->CreateConversation("bob", bobs));

  ConversationListOptions options;
  options.filter.created_from = t1;
  options.filter.created_until = t2;
  ConversationPage page = Unwrap(engine_->ListConversations("alice", options));
  EXPECT_EQ(Titles(page), std::vector<std::string>({"beta"}));
  EXPECT_EQ(page.total, 1);

  options = {};
  options.filter.created_from = t1;  // open-ended: b, c and the fourth
  EXPECT_EQ(Unwrap(engine_->ListConversations("alice", options)).total, 3);
  options = {};
  options.filter.created_until = t1;
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"alpha"}));

  options = {};
  options.filter.model = "claude";
  page = Unwrap(engine_->ListConversations("alice", options));
  EXPECT_EQ(page.total, 3);
  EXPECT_EQ(Titles(page)[1], "gamma");

  options = {};
  options.filter.metadata_equals = {{"team", "\"red\""}};
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"gamma", "alpha"}));
  options.filter.metadata_equals = {{"team", "\"red\""}, {"n", "2"}};
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"gamma"}));

  // Combined with paging: total counts every match, pages hold limit.
  options = {};
  options.filter.model = "claude";
  options.limit = 1;
  page = Unwrap(engine_->ListConversations("alice", options));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.total, 3);
  ASSERT_FALSE(page.next_cursor.empty());
  options.cursor = page.next_cursor;
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"gamma"}));

  // Updated-at range on the by-updated order: touch b only.
  const Timestamp t3 = After(NowMicros());
  ConversationUpdate touch;
  touch.summary = "touched";
  Unwrap(engine_->UpdateConversation("alice", b.id, touch));
  options = {};
  options.order = ConversationOrder::kUpdatedDesc;
  options.filter.updated_from = t3;
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"beta"}));
  // ... and by created order (checked on the row).
  options.order = ConversationOrder::kCreatedDesc;
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"beta"}));
  // Title search with the by-updated order (checked on the row).
  options = {};
  options.order = ConversationOrder::kUpdatedDesc;
  options.filter.title_contains = "AMM";
  EXPECT_EQ(Titles(Unwrap(engine_->ListConversations("alice", options))),
            std::vector<std::string>({"gamma"}));

  // Counts and existence.
  ConversationFilter filter;
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter)), 4);
  filter.model = "claude";
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter)), 3);
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter, false, 1)), 1);
  filter.model = "nobody";
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter, false, 1)), 0);
  Unwrap(engine_->SoftDeleteConversation("alice", c.id));
  filter = {};
  filter.metadata_equals = {{"team", "\"red\""}};
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter)), 1);
  EXPECT_EQ(Unwrap(engine_->CountConversations("alice", filter, /*include_deleted=*/true)), 2);
  EXPECT_EQ(Unwrap(engine_->CountConversations("bob", {})), 1);
}

TEST_F(FilterTest, ConversationFilterErrorsNameTheField) {
  ConversationListOptions options;
  options.filter.created_from = 100;
  options.filter.created_until = 100;
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                "created_until");
  options = {};
  options.filter.updated_from = 5;
  options.filter.updated_until = 1;
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                "updated_until");
  options = {};
  options.filter.model = "";
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                "model");
  options = {};
  options.filter.metadata_equals = {{"k", "{not json"}};
  EXPECT_STATUS(engine_->ListConversations("alice", options), StatusCode::kValidationError,
                "metadata");
  EXPECT_STATUS(engine_->CountConversations("alice", options.filter), StatusCode::kValidationError,
                "metadata");
  EXPECT_STATUS(engine_->CountConversations("", {}), StatusCode::kValidationError, "user_id");
}

TEST_F(FilterTest, MessagesByTimeRangeAndMetadata) {
  const Uuid conversation = MakeConversation("alice").id;
  NewMessage input;
  input.conversation_id = conversation;
  input.role = "user";
  input.content = "one";
  input.metadata = R"({"lang":"en"})";
  const Message one = Unwrap(engine_->AppendMessage("alice", input));
  const Timestamp t1 = After(one.created_at);
  input.content = "two";
  input.metadata = R"({"lang":"fr"})";
  const Message two = Unwrap(engine_->AppendMessage("alice", input));
  const Timestamp t2 = After(two.created_at);
  input.content = "three";
  input.role = "assistant";
  input.metadata = R"({"lang":"en"})";
  Unwrap(engine_->AppendMessage("alice", input));

  MessageQuery query;
  query.created_from = t1;
  query.created_until = t2;
  MessagePage page = Unwrap(engine_->ListMessages("alice", conversation, query));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].content, "two");
  EXPECT_EQ(page.total, 1);
  query = {};
  query.metadata_equals = {{"lang", "\"en\""}};
  query.order = SortOrder::kDescending;
  page = Unwrap(engine_->ListMessages("alice", conversation, query));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].content, "three");
  query.role = Role::kUser;
  EXPECT_EQ(Unwrap(engine_->CountMessages("alice", conversation, query)), 1);
  EXPECT_EQ(Unwrap(engine_->CountMessages("alice", conversation, {})), 3);
  EXPECT_EQ(Unwrap(engine_->CountMessages("alice", conversation, {}, 2)), 2);

  query = {};
  query.created_from = t2;
  query.created_until = t1;
  EXPECT_STATUS(engine_->ListMessages("alice", conversation, query), StatusCode::kValidationError,
                "created_until");
  EXPECT_STATUS(engine_->CountMessages("alice", conversation, query), StatusCode::kValidationError,
                "created_until");
  EXPECT_STATUS(engine_->CountMessages("bob", conversation, {}), StatusCode::kNotFound, "");
}

TEST_F(FilterTest, DocumentsByFileTypeTimeAndMetadata) {
  const auto make = [&](const std::string& name, const std::string& type,
                        const std::string& metadata) {
    NewDocument input;
    input.filename = name;
    input.file_type = type;
    input.metadata = metadata;
    return Unwrap(engine_->CreateDocument("alice", input));
  };
  const Document a = make("a.pdf", "pdf", R"({"src":"web"})");
  const Timestamp t1 = After(a.created_at);
  make("b.md", "md", R"({"src":"upload"})");
  make("c.pdf", "pdf", R"({"src":"upload"})");
  make("d.html", "html", "{}");

  DocumentListOptions options;
  options.filter.file_types = {"pdf"};
  DocumentPage page = Unwrap(engine_->ListDocuments("alice", options));
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].filename, "c.pdf");
  options.filter.file_types = {"pdf", "html"};
  EXPECT_EQ(Unwrap(engine_->ListDocuments("alice", options)).total, 3);
  options.filter.created_from = t1;
  EXPECT_EQ(Unwrap(engine_->ListDocuments("alice", options)).total, 2);
  options = {};
  options.filter.metadata_equals = {{"src", "\"upload\""}};
  options.filter.filename_contains = "C.";
  page = Unwrap(engine_->ListDocuments("alice", options));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].filename, "c.pdf");

  DocumentFilter filter;
  filter.file_types = {"md"};
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice", filter)), 1);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice", DocumentFilter{})), 4);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice", DocumentFilter{}, false, 1)), 1);
  filter.file_types = {"exe"};
  EXPECT_STATUS(engine_->CountDocuments("alice", filter), StatusCode::kValidationError,
                "file_types");
  options = {};
  options.filter.file_types = {"docx", "zip"};
  EXPECT_STATUS(engine_->ListDocuments("alice", options), StatusCode::kValidationError,
                "file_types");
  options = {};
  options.filter.created_from = 10;
  options.filter.created_until = 9;
  EXPECT_STATUS(engine_->ListDocuments("alice", options), StatusCode::kValidationError,
                "created_until");
  EXPECT_EQ(Unwrap(engine_->CountDocuments("bob", DocumentFilter{})), 0);
}

}  // namespace
}  // namespace mnemo
