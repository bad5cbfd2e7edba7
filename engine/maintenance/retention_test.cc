// Retention: retiring months (with and without archives), purging soft-deleted rows after the
// purge age, the background runner, the purge-queue backfill, and retention under write load.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "storage/db.h"
#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "testing/engine_fixture.h"
#include "testing/log_capture.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;
constexpr int64_t kDay = int64_t{24} * 3600 * 1'000'000;

std::vector<float> Vector(int seed) {
  std::vector<float> v(kDim, 0.01f);
  v[static_cast<size_t>(seed) % kDim] = 1.0f;
  v[static_cast<size_t>(seed / kDim) % kDim] += 0.5f;
  return v;
}

// 2026-03-15T12:00:00Z.
Timestamp March15() { return *ParseTimestamp("2026-03-15T12:00:00Z"); }

// Before any engine thread starts: a test captures the log while those threads run.
[[maybe_unused]] const auto kLogDistributor = testing::InstallLogDistributor();

class RetentionTest : public testing::EngineTest {
 protected:
  void SetUp() override { ReopenWith({}); }
  void ReopenWith(EngineOptions options) {
    options.dimension = kDim;
    Reopen(options);
  }

  Chunk AddAt(const Uuid& document, int64_t index, Timestamp created_at,
              const std::string& user = "alice") {
    NewChunk chunk;
    chunk.document_id = document;
    chunk.chunk_index = index;
    chunk.chunk_text = "t" + std::to_string(index);
    chunk.embedding = Vector(static_cast<int>(index));
    chunk.created_at = created_at;
    return Unwrap(engine_->AddChunks(user, {chunk})).front();
  }

  std::vector<std::string> Months() {
    std::vector<std::string> months;
    for (const auto& p : engine_->ListPartitions()) months.push_back(p.month);
    return months;
  }
};

TEST_F(RetentionTest, RetiresOnlyMonthsThatEndByTheCutoff) {
  const Document doc = MakeDocument("alice");
  const Chunk december = AddAt(doc.id, 0, *ParseTimestamp("2025-12-10T00:00:00Z"));
  const Chunk january_end = AddAt(doc.id, 1, *ParseTimestamp("2026-01-31T23:59:59.999999Z"));
  const Chunk at_cutoff = AddAt(doc.id, 2, *ParseTimestamp("2026-02-01T00:00:00Z"));
  const Chunk march = AddAt(doc.id, 3, *ParseTimestamp("2026-03-10T00:00:00Z"));
  Unwrap(engine_->SoftDeleteChunk("alice", december.id));  // soft-deleted rows go with their month

  RetentionPolicy policy;
  policy.keep_months = 2;  // February and March 2026
  const RetentionReport report = Unwrap(engine_->ApplyRetention(policy, March15()));
  EXPECT_EQ(report.month_cutoff, *ParseTimestamp("2026-02-01T00:00:00Z"));
  ASSERT_EQ(report.retired.size(), 2u);
  EXPECT_EQ(report.retired[0].month, "2025-12");
  EXPECT_EQ(report.retired[0].rows, 1);
  EXPECT_EQ(report.retired[1].month, "2026-01");
  EXPECT_EQ(report.retired[1].rows, 1);
  EXPECT_TRUE(report.retired[0].archive_path.empty());
  EXPECT_STATUS(engine_->GetChunk("alice", december.id, true), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetChunk("alice", january_end.id), StatusCode::kNotFound, "");
  EXPECT_TRUE(engine_->GetChunk("alice", at_cutoff.id).ok());
  EXPECT_TRUE(engine_->GetChunk("alice", march.id).ok());
  EXPECT_EQ(Months(), std::vector<std::string>({"2026-02", "2026-03"}));
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", doc.id)).total_chunks, 2);

  // keep_months = 1 on the 1st of a month keeps that month only; 0 keeps everything.
  policy.keep_months = 0;
  EXPECT_TRUE(Unwrap(engine_->ApplyRetention(policy, March15() + 365 * kDay)).retired.empty());
  policy.keep_months = 1;
  const RetentionReport next =
      Unwrap(engine_->ApplyRetention(policy, *ParseTimestamp("2026-03-01T00:00:00Z")));
  ASSERT_EQ(next.retired.size(), 1u);
  EXPECT_EQ(next.retired[0].month, "2026-02");
  EXPECT_TRUE(engine_->GetChunk("alice", march.id).ok());

  policy.keep_months = -1;
  EXPECT_STATUS(engine_->ApplyRetention(policy, March15()), StatusCode::kValidationError,
                "keep_months");
  policy = {};
  policy.purge_after_seconds = -5;
  EXPECT_STATUS(engine_->ApplyRetention(policy, March15()), StatusCode::kValidationError,
                "purge_after_seconds");
}

TEST_F(RetentionTest, ArchivesBeforeRetiringAndTheArchiveReattaches) {
  const Document doc = MakeDocument("alice");
  const Chunk old = AddAt(doc.id, 0, *ParseTimestamp("2025-06-02T00:00:00Z"));
  AddAt(doc.id, 1, *ParseTimestamp("2025-06-03T00:00:00Z"));
  const std::string archive_dir = dir_.Sub("archives/nested");
  RetentionPolicy policy;
  policy.keep_months = 3;
  policy.archive_dir = archive_dir;
  const RetentionReport report = Unwrap(engine_->ApplyRetention(policy, March15()));
  ASSERT_EQ(report.retired.size(), 1u);
  EXPECT_EQ(report.retired[0].archive_path, archive_dir + "/2025-06.mnemoarc");
  EXPECT_TRUE(std::filesystem::exists(report.retired[0].archive_path));
  EXPECT_STATUS(engine_->GetChunk("alice", old.id), StatusCode::kNotFound, "");

  const AttachResult attached = Unwrap(engine_->AttachArchive(report.retired[0].archive_path));
  EXPECT_EQ(attached.attached, 2);
  EXPECT_EQ(Unwrap(engine_->GetChunk("alice", old.id)).chunk_text, "t0");
  // Retiring the same month again does not overwrite the first archive.
  const RetentionReport again = Unwrap(engine_->ApplyRetention(policy, March15()));
  ASSERT_EQ(again.retired.size(), 1u);
  EXPECT_EQ(again.retired[0].archive_path, archive_dir + "/2025-06.1.mnemoarc");
  EXPECT_TRUE(std::filesystem::exists(report.retired[0].archive_path));
}

TEST_F(RetentionTest, PurgesOnlyRowsDeletedLongerAgoThanThePurgeAge) {
  const Conversation conversation = MakeConversation("alice");
  Append("alice", conversation.id, "user", "hello");
  const Conversation kept = MakeConversation("alice", "kept");
  const Document doc = MakeDocument("alice");
  const Chunk chunk = AddAt(doc.id, 0, NowMicros());
  const Document live = MakeDocument("alice", "live.md");
  const Chunk loose = AddAt(live.id, 0, NowMicros());

  const Timestamp deleted_at =
      *Unwrap(engine_->SoftDeleteConversation("alice", conversation.id)).deleted_at;
  Unwrap(engine_->SoftDeleteDocument("alice", doc.id));
  const Timestamp chunk_deleted_at =
      *Unwrap(engine_->SoftDeleteChunk("alice", loose.id)).deleted_at;
  // Deleted and restored: never purged.
  Unwrap(engine_->SoftDeleteConversation("alice", kept.id));
  Unwrap(engine_->UndeleteConversation("alice", kept.id));

  RetentionPolicy policy;
  policy.purge_after_seconds = kDefaultPurgeAfterDays * 24 * 3600;
  // Exactly 30 days after the deletes: not older than the purge age yet.
  RetentionReport report = Unwrap(engine_->ApplyRetention(policy, deleted_at + 30 * kDay));
  EXPECT_EQ(report.conversations_purged, 0);
  EXPECT_TRUE(engine_->GetConversation("alice", conversation.id, true).ok());
  EXPECT_TRUE(engine_->GetChunk("alice", loose.id, true).ok());
  report = Unwrap(engine_->ApplyRetention(policy, chunk_deleted_at + 30 * kDay + 1));
  EXPECT_EQ(report.conversations_purged, 1);
  EXPECT_EQ(report.documents_purged, 1);
  EXPECT_EQ(report.chunks_purged, 1);
  EXPECT_EQ(report.purge_cutoff, chunk_deleted_at + 1);
  EXPECT_STATUS(engine_->GetConversation("alice", conversation.id, true), StatusCode::kNotFound,
                "");
  EXPECT_STATUS(engine_->GetDocument("alice", doc.id, true), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetChunk("alice", chunk.id, true), StatusCode::kNotFound, "");
  EXPECT_STATUS(engine_->GetChunk("alice", loose.id, true), StatusCode::kNotFound, "");
  EXPECT_TRUE(engine_->GetConversation("alice", kept.id).ok());
  EXPECT_EQ(Unwrap(engine_->GetUserStats("alice")).total, 1);
  EXPECT_EQ(Unwrap(engine_->CountDocuments("alice")).total, 1);
  EXPECT_EQ(Unwrap(engine_->GetDocument("alice", live.id)).total_chunks, 0);
  // Nothing is left to purge, even much later.
  report = Unwrap(engine_->ApplyRetention(policy, deleted_at + 3650 * kDay));
  EXPECT_EQ(report.conversations_purged + report.documents_purged + report.chunks_purged, 0);
  const EngineMetrics metrics = engine_->GetMetrics();
  EXPECT_EQ(metrics.conversations_purged, 1u);
  EXPECT_EQ(metrics.chunks_purged, 1u);
  EXPECT_EQ(metrics.retention_runs, 3u);
}

TEST_F(RetentionTest, BackgroundRunnerPurgesWithTheConfiguredPolicyAndLogsIt) {
  mnemo::testing::LogCapture capture;
  spdlog::set_level(spdlog::level::info);
  EngineOptions options;
  options.retention.purge_after_seconds = 1;
  options.retention_interval = std::chrono::seconds(1);
  ReopenWith(options);
  EXPECT_EQ(engine_->retention_policy().purge_after_seconds, 1);
  const Conversation conversation = MakeConversation("alice");
  Unwrap(engine_->SoftDeleteConversation("alice", conversation.id));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (engine_->GetConversation("alice", conversation.id, true).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_STATUS(engine_->GetConversation("alice", conversation.id, true), StatusCode::kNotFound,
                "");
  EXPECT_GE(engine_->GetMetrics().retention_runs, 1u);
  engine_.reset();  // stops the runner before the log is read
  const std::string log = capture.Stop();
  EXPECT_NE(log.find("purged 1 conversation(s), 0 document(s), 0 chunk(s) deleted before"),
            std::string::npos)
      << log;
  EngineOptions invalid;
  invalid.retention.keep_months = -2;
  invalid.dimension = kDim;
  invalid.data_dir = dir_.Sub("other");
  EXPECT_STATUS(Engine::Open(invalid), StatusCode::kValidationError, "retention");
}

// A data directory written before the purge queue existed has soft-deleted rows without queue
// entries; opening it records them.
TEST_F(RetentionTest, OpeningAnOlderDirectoryFillsThePurgeQueue) {
  const Conversation conversation = MakeConversation("alice");
  const Timestamp deleted_at =
      *Unwrap(engine_->SoftDeleteConversation("alice", conversation.id)).deleted_at;
  engine_.reset();
  {
    storage::DbOptions options;
    options.path = dir_.Sub("data");
    auto db = Unwrap(storage::Db::Open(options));
    storage::WriteTxn txn(*db);
    txn.Delete(storage::Cf::kMeta, "purge_queue_v1");
    txn.Delete(storage::Cf::kIndex,
               keys::PurgeKey(deleted_at, keys::PurgeKind::kConversation, conversation.id));
    ASSERT_TRUE(txn.Commit().ok());
  }
  ReopenWith({});
  RetentionPolicy policy;
  policy.purge_after_seconds = 60;
  EXPECT_EQ(Unwrap(engine_->ApplyRetention(policy, deleted_at + 61'000'000)).conversations_purged,
            1);
}

// Writers keep adding chunks to the current month (and back-filling old months) and deleting
// and restoring some, while retention retires old months and purges: no acknowledged row
// created at or after the cut-off is removed, no row deleted within the purge age is purged,
// and every document's total_chunks matches its live chunks.
TEST_F(RetentionTest, UnderWriteLoadNoRowNewerThanTheCutoffIsRemoved) {
  constexpr int kWriters = 3;
  constexpr int kChunksPerWriter = 120;
  const Timestamp now = NowMicros();
  const uint32_t current = MonthOf(now);
  std::vector<Document> documents;
  for (int w = 0; w < kWriters; ++w) documents.push_back(MakeDocument("user" + std::to_string(w)));

  std::mutex mutex;
  std::vector<std::pair<std::string, Chunk>> kept;  // acknowledged, at or after the cut-off
  std::vector<std::pair<std::string, Chunk>>
      soft_deleted;  // deleted just now: within the purge age
  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      struct Done {
        std::atomic<int>& count;
        ~Done() { count.fetch_add(1); }
      } done{writers_done};
      const std::string user = "user" + std::to_string(w);
      std::mt19937 rng(static_cast<uint32_t>(w));
      for (int i = 0; i < kChunksPerWriter; ++i) {
        const bool backfill = i % 4 == 3;
        const Timestamp created_at =
            backfill ? MonthStart(current - 1 - static_cast<uint32_t>(rng() % 3)) + i : NowMicros();
        NewChunk chunk;
        chunk.document_id = documents[static_cast<size_t>(w)].id;
        chunk.chunk_index = i;
        chunk.chunk_text = "row";
        chunk.embedding = Vector(i);
        chunk.created_at = created_at;
        auto added = engine_->AddChunks(user, {chunk});
        ASSERT_TRUE(added.ok()) << added.status().ToString();
        if (backfill) continue;
        std::lock_guard lock(mutex);
        if (i % 5 == 1) {
          ASSERT_TRUE(engine_->SoftDeleteChunk(user, added->front().id).ok());
          soft_deleted.emplace_back(user, added->front());
        } else if (i % 7 == 2) {
          ASSERT_TRUE(engine_->SoftDeleteChunk(user, added->front().id).ok());
          ASSERT_TRUE(engine_->RestoreChunk(user, added->front().id).ok());
          kept.emplace_back(user, added->front());
        } else {
          kept.emplace_back(user, added->front());
        }
      }
    });
  }
  RetentionPolicy policy;
  policy.keep_months = 1;
  policy.purge_after_seconds = 3600;
  int runs = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while ((writers_done.load() < kWriters || runs < 3) &&
         std::chrono::steady_clock::now() < deadline) {
    const RetentionReport report = Unwrap(engine_->ApplyRetention(policy, NowMicros()));
    EXPECT_EQ(report.month_cutoff, MonthStart(current));
    for (const auto& retired : report.retired) EXPECT_LT(retired.month, MonthName(current));
    EXPECT_EQ(report.chunks_purged, 0);
    ++runs;
  }
  for (auto& thread : threads) thread.join();
  Unwrap(engine_->ApplyRetention(policy, NowMicros()));

  for (const auto& [user, chunk] : kept) {
    EXPECT_TRUE(engine_->GetChunk(user, chunk.id).ok())
        << "acknowledged chunk " << chunk.id.ToString() << " is gone";
  }
  for (const auto& [user, chunk] : soft_deleted) {
    const auto stored = engine_->GetChunk(user, chunk.id, /*include_deleted=*/true);
    ASSERT_TRUE(stored.ok()) << "soft-deleted chunk purged within the purge age";
    EXPECT_TRUE(stored->is_deleted);
  }
  for (int w = 0; w < kWriters; ++w) {
    const std::string user = "user" + std::to_string(w);
    const Document doc = Unwrap(engine_->GetDocument(user, documents[static_cast<size_t>(w)].id));
    ChunkListOptions options;
    options.limit = kMaxChunkPageSize;
    const ChunkPage page = Unwrap(engine_->ListChunks(user, doc.id, options));
    EXPECT_EQ(doc.total_chunks, static_cast<int64_t>(page.items.size()));
    for (const Chunk& chunk : page.items) EXPECT_GE(chunk.created_at, MonthStart(current));
  }
  EXPECT_EQ(Months(), std::vector<std::string>({MonthName(current)}));
}

}  // namespace
}  // namespace mnemo
