#include <gtest/gtest.h>

#include "testing/engine_fixture.h"

namespace mnemo {
namespace {

using testing::EngineTest;
using testing::Unwrap;

class DocumentTest : public EngineTest {};

TEST_F(DocumentTest, CreateGetAndDefaults) {
  NewDocument input;
  input.filename = "Report.PDF";
  input.file_type = "pdf";
  input.content = "quarterly numbers";
  const Document d = Unwrap(engine_->CreateDocument("alice", input));
  EXPECT_EQ(d.total_chunks, 0);
  EXPECT_EQ(d.metadata, "{}");
  EXPECT_FALSE(d.is_deleted);
  const Document got = Unwrap(engine_->GetDocument("alice", d.id));
  EXPECT_EQ(got.filename, "Report.PDF");
  EXPECT_EQ(got.content, "quarterly numbers");
  EXPECT_STATUS(engine_->GetDocument("bob", d.id), StatusCode::kNotFound, "");
}

TEST_F(DocumentTest, FieldRules) {
  NewDocument input;
  input.file_type = "md";
  for (const std::string& bad : {std::string(""), std::string(" "), std::string(256, 'f')}) {
    input.filename = bad;
    EXPECT_STATUS(engine_->CreateDocument("alice", input), StatusCode::kValidationError,
                  "filename");
  }
  input.filename = std::string(255, 'f');
  EXPECT_TRUE(engine_->CreateDocument("alice", input).ok());
  for (const char* bad : {"", "PDF", "exe", "markdown"}) {
    input.file_type = bad;
    EXPECT_STATUS(engine_->CreateDocument("alice", input), StatusCode::kValidationError,
                  "file_type");
  }
  for (const char* good : {"pdf", "txt", "docx", "md", "html"}) {
    input.file_type = good;
    EXPECT_TRUE(engine_->CreateDocument("alice", input).ok()) << good;
  }
  input.metadata = "1";
  EXPECT_STATUS(engine_->CreateDocument("alice", input), StatusCode::kValidationError, "metadata");
  input.metadata.reset();
  input.content = "\xFF";
  EXPECT_STATUS(engine_->CreateDocument("alice", input), StatusCode::kValidationError, "content");
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice")).total, 6);
}

TEST_F(DocumentTest, ListCountSearchAndDeletes) {
  const Document a = MakeDocument("alice", "Alpha Notes.md");
  const Document b = MakeDocument("alice", "beta-REPORT.md");
  const Document c = MakeDocument("alice", "Gamma report.md");
  MakeDocument("bob", "bob report.md");

  DocumentPage page = Unwrap(engine_->ListDocuments("alice", {}));
  EXPECT_EQ(page.total, 3);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, c.id);  // newest first
  EXPECT_EQ(page.items[2].id, a.id);

  page = Unwrap(engine_->SearchDocumentsByFilename("alice", "Report", {}));
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, c.id);

  EXPECT_TRUE(engine_->SoftDeleteDocument("alice", b.id).ok());
  EXPECT_STATUS(engine_->GetDocument("alice", b.id), StatusCode::kNotFound, "");
  EXPECT_TRUE(Unwrap(engine_->GetDocument("alice", b.id, true)).is_deleted);
  EXPECT_EQ(Unwrap(engine_->SearchDocumentsByFilename("alice", "report", {})).total, 1);
  DocumentCounts counts = Unwrap(engine_->CountDocuments("alice"));
  EXPECT_EQ(counts.total, 3);
  EXPECT_EQ(counts.active, 2);
  EXPECT_EQ(counts.deleted, 1);
  DocumentListOptions all;
  all.include_deleted = true;
  EXPECT_EQ(Unwrap(engine_->ListDocuments("alice", all)).total, 3);

  EXPECT_FALSE(Unwrap(engine_->UndeleteDocument("alice", b.id)).is_deleted);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice")).active, 3);

  EXPECT_STATUS(engine_->HardDeleteDocument("bob", a.id), StatusCode::kNotFound, "");
  ASSERT_TRUE(engine_->HardDeleteDocument("alice", a.id).ok());
  EXPECT_STATUS(engine_->GetDocument("alice", a.id, true), StatusCode::kNotFound, "");
  counts = Unwrap(engine_->CountDocuments("alice"));
  EXPECT_EQ(counts.total, 2);
  EXPECT_EQ(Unwrap(engine_->ListDocuments("alice", all)).items.size(), 2u);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("bob")).total, 1);
}

TEST_F(DocumentTest, PagingAndLimits) {
  for (int i = 0; i < 12; ++i) MakeDocument("alice", "doc" + std::to_string(i) + ".md");
  DocumentListOptions options;
  options.limit = 5;
  int seen = 0;
  for (int pages = 0; pages < 5; ++pages) {
    DocumentPage page = Unwrap(engine_->ListDocuments("alice", options));
    seen += static_cast<int>(page.items.size());
    if (page.next_cursor.empty()) break;
    options.cursor = page.next_cursor;
  }
  EXPECT_EQ(seen, 12);
  options = {};
  options.limit = 101;
  EXPECT_STATUS(engine_->ListDocuments("alice", options), StatusCode::kValidationError, "limit");
}

TEST_F(DocumentTest, ClientIdIsIdempotentPerUser) {
  NewDocument input;
  input.id = Uuid::Generate();
  input.filename = "a.txt";
  input.file_type = "txt";
  Unwrap(engine_->CreateDocument("alice", input));
  Unwrap(engine_->CreateDocument("alice", input));
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice")).total, 1);
  EXPECT_STATUS(engine_->CreateDocument("bob", input), StatusCode::kDuplicateRecord, "");
}

}  // namespace
}  // namespace mnemo
