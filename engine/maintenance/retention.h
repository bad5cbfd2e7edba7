// Retention: applies a RetentionPolicy (mnemo/maintenance.h) to a data directory — retires
// month partitions older than the policy keeps and purges soft-deleted rows older than the
// purge age — and keeps the purge queue (tables/purge_queue.h) complete for directories written
// before it existed.  RetentionRunner applies a policy periodically on its own thread and logs
// what each run did.
//
// Guarantees, each checked under the owner's write lock right before the delete:
//   - a month is retired only when it ends at or before the cut-off (no row created at or after
//     the cut-off is ever in it);
//   - a row is purged only while it is still soft-deleted and its deleted_at is before the purge
//     cut-off (a row restored, or deleted again later, stays).
//
// Thread-safety: Retention is thread-safe; runs are serialized (a run asked for while another
// runs waits for it), so two runs never pick the same archive name.  RetentionRunner: construct
// and destroy on one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "mnemo/maintenance.h"
#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/key_codec.h"
#include "storage/lock_table.h"
#include "tables/chunk_store.h"
#include "tables/conversation_store.h"
#include "tables/document_store.h"
#include "vector/vector_store.h"

namespace mnemo::maintenance {

class Retention {
 public:
  // Every reference must outlive the Retention.
  Retention(storage::Db& db, storage::LockTable& locks,
            const tables::ConversationStore& conversations, const tables::DocumentStore& documents,
            const tables::ChunkStore& chunks, vector::VectorStore& vectors)
      : db_(db),
        locks_(locks),
        conversations_(conversations),
        documents_(documents),
        chunks_(chunks),
        vectors_(vectors) {}

  // Adds the purge-queue entries of rows soft-deleted before the queue existed (once per data
  // directory; a marker in the meta family records that it ran).
  Status EnsurePurgeQueue();

  // Applies `policy` as of `now`.  VALIDATION_ERROR for a negative keep_months or purge age;
  // otherwise the first storage error stops the run (what was done stays done).
  Result<RetentionReport> Apply(const RetentionPolicy& policy, Timestamp now);

  // Counters since construction, for metrics.
  void FillMetrics(EngineMetrics* metrics) const;

 private:
  Status RetireMonths(const RetentionPolicy& policy, RetentionReport* report);
  Status Purge(RetentionReport* report);
  // Purges one queue entry if its row is still soft-deleted since before `cutoff`; counts it.
  Status PurgeOne(keys::PurgeKind kind, const Uuid& id, const std::string& user_id,
                  Timestamp cutoff, RetentionReport* report);

  storage::Db& db_;
  storage::LockTable& locks_;
  const tables::ConversationStore& conversations_;
  const tables::DocumentStore& documents_;
  const tables::ChunkStore& chunks_;
  vector::VectorStore& vectors_;

  std::mutex run_mutex_;  // held by Apply
  std::atomic<uint64_t> runs_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> months_retired_{0};
  std::atomic<uint64_t> rows_retired_{0};
  std::atomic<uint64_t> conversations_purged_{0};
  std::atomic<uint64_t> documents_purged_{0};
  std::atomic<uint64_t> chunks_purged_{0};
};

// Runs Retention::Apply(policy, now) every `interval` (first run one interval after start) and
// logs each run that did something, and each failure.
class RetentionRunner {
 public:
  // `retention` must outlive the runner.
  RetentionRunner(Retention& retention, RetentionPolicy policy, std::chrono::seconds interval);
  // Stops the thread (waits for a run in progress).
  ~RetentionRunner();
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;

 private:
  void Loop();

  Retention& retention_;
  const RetentionPolicy policy_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace mnemo::maintenance
