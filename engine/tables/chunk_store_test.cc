// ChunkStore against a recording ChunkVectors: the store owns the rows, counts and uniqueness,
// and hands each change of a chunk's vector side to the vector layer in the same transaction.
#include "tables/chunk_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/key_codec.h"
#include "storage/lock_table.h"
#include "tables/document_store.h"
#include "testing/temp_dir.h"
#include "vector/chunk_rows.h"

namespace mnemo::tables {
namespace {

// Records every call and keeps the payloads as the vector store does, so that reads work.
class RecordingVectors : public ChunkVectors {
 public:
  std::vector<std::string> calls;
  Status check_error = Status::Ok();  // returned by Check of input `failing_input`
  size_t failing_input = SIZE_MAX;
  Status stage_error = Status::Ok();
  uint64_t next_label = 1;

  class Batch : public NewChunks {
   public:
    Batch(RecordingVectors& owner, std::string_view user_id) : owner_(owner), user_(user_id) {}
    Status Check(size_t i) override {
      owner_.calls.push_back("check " + std::to_string(i));
      return i == owner_.failing_input ? owner_.check_error : Status::Ok();
    }
    VectorRef Add(size_t i, const Chunk& chunk, const Document& document) override {
      owner_.calls.push_back("add " + std::to_string(i));
      EXPECT_EQ(document.id, chunk.document_id);
      const VectorRef ref{owner_.next_label++, MonthOf(chunk.created_at)};
      added_.emplace_back(ref, chunk);
      return ref;
    }
    Status Stage(storage::WriteTxn& txn) override {
      owner_.calls.push_back("stage " + std::to_string(added_.size()));
      MNEMO_RETURN_IF_ERROR(owner_.stage_error);
      for (const auto& [ref, chunk] : added_)
        txn.Put(storage::Cf::kIndex, keys::PayloadKey(ref.month, ref.label),
                vector::EncodePayload(PayloadOf(user_, chunk)));
      return Status::Ok();
    }

   private:
    RecordingVectors& owner_;
    std::string user_;
    std::vector<std::pair<VectorRef, Chunk>> added_;
  };

  static vector::ChunkPayload PayloadOf(std::string_view user_id, const Chunk& chunk) {
    return vector::ChunkPayload{std::string(user_id), chunk.id,         chunk.document_id,
                                chunk.chunk_index,    chunk.created_at, chunk.metadata};
  }

  std::unique_ptr<NewChunks> StartChunks(std::string_view user_id,
                                         std::span<const NewChunk* const> inputs) override {
    calls.push_back("start " + std::to_string(inputs.size()));
    return std::make_unique<Batch>(*this, user_id);
  }
  Status StageHide(storage::WriteTxn& txn, std::string_view user_id, const Chunk& chunk,
                   const VectorRef& ref) override {
    calls.push_back("hide " + std::to_string(ref.label));
    txn.Delete(storage::Cf::kIndex, keys::PayloadKey(ref.month, ref.label));
    txn.Put(storage::Cf::kIndex, keys::DeletedPayloadKey(ref.month, ref.label),
            vector::EncodePayload(PayloadOf(user_id, chunk)));
    return Status::Ok();
  }
  Result<VectorRef> StageShow(storage::WriteTxn& txn, std::string_view user_id, const Chunk& chunk,
                              const Document&, const VectorRef& ref) override {
    const VectorRef moved{next_label++, ref.month};
    calls.push_back("show " + std::to_string(ref.label) + " as " + std::to_string(moved.label));
    txn.Delete(storage::Cf::kIndex, keys::DeletedPayloadKey(ref.month, ref.label));
    txn.Put(storage::Cf::kIndex, keys::PayloadKey(moved.month, moved.label),
            vector::EncodePayload(PayloadOf(user_id, chunk)));
    return moved;
  }
  Status StageRemoveChunks(storage::WriteTxn& txn, std::string_view,
                           std::span<const StoredChunk> chunks) override {
    std::string call = "remove";
    for (const StoredChunk& chunk : chunks) {
      call += " " + std::to_string(chunk.ref.label) + (chunk.hidden ? "h" : "");
      txn.Delete(storage::Cf::kIndex,
                 chunk.hidden ? keys::DeletedPayloadKey(chunk.ref.month, chunk.ref.label)
                              : keys::PayloadKey(chunk.ref.month, chunk.ref.label));
    }
    calls.push_back(call);
    return Status::Ok();
  }
};

class ChunkStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    options.sync_writes = false;
    db_ = std::move(storage::Db::Open(options)).value();
    documents_ = std::make_unique<DocumentStore>(*db_);
    chunks_ = std::make_unique<ChunkStore>(*db_, *documents_);
    chunks_->set_vectors(&vectors_);
    documents_->set_chunks(chunks_.get());
  }

  // Runs `fn(txn)` and commits what it staged when it succeeds, as the engine does.
  template <typename Fn>
  auto Write(Fn&& fn) {
    auto guard = locks_.LockUser("alice");
    storage::WriteTxn txn(*db_);
    auto result = fn(txn);
    if (result.ok()) {
      EXPECT_TRUE(txn.Commit().ok());
    }
    return result;
  }

  Document MakeDocument() {
    NewDocument input;
    input.filename = "a.md";
    input.file_type = "md";
    return Write([&](storage::WriteTxn& txn) { return documents_->Create(txn, "alice", input); })
        .value();
  }

  static NewChunk At(const Uuid& document, int64_t index) {
    NewChunk chunk;
    chunk.id = Uuid::Generate();
    chunk.document_id = document;
    chunk.chunk_index = index;
    chunk.chunk_text = "text " + std::to_string(index);
    chunk.embedding = {1.0f, 0.0f};
    return chunk;
  }

  Result<std::vector<Chunk>> Add(const std::vector<NewChunk>& chunks) {
    return Write([&](storage::WriteTxn& txn) { return chunks_->StageAdd(txn, "alice", chunks); });
  }

  int64_t TotalChunks(const Uuid& document) {
    return documents_->Get("alice", document, false).value().total_chunks;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Db> db_;
  storage::LockTable locks_;
  RecordingVectors vectors_;
  std::unique_ptr<DocumentStore> documents_;
  std::unique_ptr<ChunkStore> chunks_;
};

TEST_F(ChunkStoreTest, AddChecksEveryInputAndStagesNewChunksOnce) {
  const Document doc = MakeDocument();
  const std::vector<NewChunk> inputs = {At(doc.id, 0), At(doc.id, 1)};
  const std::vector<Chunk> added = Add(inputs).value();
  EXPECT_EQ(vectors_.calls, (std::vector<std::string>{"start 2", "check 0", "add 0", "check 1",
                                                      "add 1", "stage 2"}));
  EXPECT_EQ(TotalChunks(doc.id), 2);
  const Chunk got = chunks_->Get("alice", added[1].id, false).value();
  EXPECT_EQ(got.chunk_text, "text 1");
  EXPECT_EQ(got.chunk_index, 1);

  // A retry is checked but stages nothing; a taken chunk_index under another id is refused.
  vectors_.calls.clear();
  ASSERT_TRUE(Add(inputs).ok());
  EXPECT_EQ(vectors_.calls, (std::vector<std::string>{"start 2", "check 0", "check 1"}));
  EXPECT_EQ(Add({At(doc.id, 1)}).status().code(), StatusCode::kDuplicateRecord);
  EXPECT_EQ(TotalChunks(doc.id), 2);
}

TEST_F(ChunkStoreTest, AVectorSideFailureStopsTheWriteAndNamesTheChunk) {
  const Document doc = MakeDocument();
  vectors_.failing_input = 1;
  vectors_.check_error = Status::ValidationError("embedding", "must be finite");
  const auto refused = Add({At(doc.id, 0), At(doc.id, 1), At(doc.id, 2)});
  ASSERT_EQ(refused.status().code(), StatusCode::kValidationError);
  EXPECT_EQ(refused.status().field(), "embedding");
  EXPECT_EQ(std::string(refused.status().message()).rfind("chunk 1: ", 0), 0u);
  EXPECT_EQ(vectors_.calls, (std::vector<std::string>{"start 3", "check 0", "add 0", "check 1"}));

  vectors_.failing_input = SIZE_MAX;
  vectors_.stage_error = Status::Unavailable("disk");
  const NewChunk chunk = At(doc.id, 0);
  EXPECT_EQ(Add({chunk}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(TotalChunks(doc.id), 0);
  EXPECT_EQ(chunks_->Get("alice", *chunk.id, true).status().code(), StatusCode::kNotFound);
}

TEST_F(ChunkStoreTest, SoftDeleteRestoreAndDeleteMoveTheVectorSideWithTheRow) {
  const Document doc = MakeDocument();
  const std::vector<Chunk> added = Add({At(doc.id, 0), At(doc.id, 1), At(doc.id, 2)}).value();
  const auto stage = [&](auto fn) { return Write(fn).value(); };
  vectors_.calls.clear();
  stage(
      [&](storage::WriteTxn& txn) { return chunks_->StageSoftDelete(txn, "alice", added[0].id); });
  EXPECT_EQ(TotalChunks(doc.id), 2);
  stage([&](storage::WriteTxn& txn) { return chunks_->StageRestore(txn, "alice", added[0].id); });
  EXPECT_EQ(TotalChunks(doc.id), 3);
  stage(
      [&](storage::WriteTxn& txn) { return chunks_->StageSoftDelete(txn, "alice", added[1].id); });
  stage([&](storage::WriteTxn& txn) { return chunks_->StageDelete(txn, "alice", added[1].id); });
  EXPECT_EQ(TotalChunks(doc.id), 2);
  // The restored chunk lives at its new label (4): a hard delete of the document removes it and
  // chunk 2 (label 3), both live.
  stage([&](storage::WriteTxn& txn) { return documents_->HardDelete(txn, "alice", doc.id); });
  EXPECT_EQ(vectors_.calls, (std::vector<std::string>{"hide 1", "show 1 as 4", "hide 2",
                                                      "remove 2h", "remove 4 3"}));
  EXPECT_EQ(chunks_->Get("alice", added[0].id, true).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mnemo::tables
