// MessageTextBackfill: gives the messages stored before their content was indexed (rows without
// a terms ref: written by earlier builds, or while keyword search was off) their keyword-index
// terms, one bounded step at a time, so a data directory upgraded in place finds its old
// messages by keyword.
//
// One pass walks the messages family in key order (conversation by conversation).  A step reads
// at most kRowsPerStep messages of one conversation, under its user's write lock, and commits
// their terms, their rewritten rows and the key of the last message it read (the cursor, in the
// meta family) in one transaction: a pass stopped anywhere resumes after the last committed step
// and never indexes a message twice.  Messages written while a pass runs are indexed by their
// own writes (a step skips rows that hold a terms ref).  The end of the pass stores a marker;
// later opens find it and do nothing.  Opening a data directory with keyword search off clears
// the marker (its writes store no terms), so the next open with keyword search on runs a pass.
//
// Until the pass ends, keyword search over messages misses the messages not reached yet
// (EngineMetrics says how far it is).  MessageTextBackfillRunner runs the steps on a background
// thread at a lower CPU priority than request threads.
//
// Thread-safety: MessageTextBackfill is thread-safe (steps are serialized).  The runner:
// construct and destroy on one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/lock_table.h"
#include "tables/conversation_store.h"
#include "tables/message_store.h"

namespace mnemo::maintenance {

class MessageTextBackfill {
 public:
  // Messages a step reads at most.
  static constexpr size_t kRowsPerStep = 256;

  // Every reference must outlive the backfill.
  MessageTextBackfill(storage::Db& db, storage::LockTable& locks,
                      const tables::ConversationStore& conversations,
                      const tables::MessageStore& messages)
      : db_(db), locks_(locks), conversations_(conversations), messages_(messages) {}

  // Reads the stored progress.  Call once before Step().
  Status Init();
  // Clears the end-of-pass marker and the cursor (keyword search is off: writes store no terms).
  static Status Reset(storage::Db& db);

  // Runs one step; *done is true when the pass has ended (then and later, Step does nothing).
  Status Step(bool* done);
  // Steps until the pass ends.
  Status Finish();

  bool done() const { return done_.load(std::memory_order_acquire); }
  // Messages given terms since open.
  int64_t indexed() const { return indexed_.load(std::memory_order_relaxed); }

 private:
  storage::Db& db_;
  storage::LockTable& locks_;
  const tables::ConversationStore& conversations_;
  const tables::MessageStore& messages_;

  std::mutex step_mutex_;  // held by Step
  std::string cursor_;     // GUARDED_BY(step_mutex_): the last message key read; empty: none
  std::atomic<bool> done_{false};
  std::atomic<int64_t> indexed_{0};
};

// Runs MessageTextBackfill::Step on its own thread until the pass ends or the runner is
// destroyed; logs the pass's end and any failure (a failed step stops the runner: the next open
// resumes).
class MessageTextBackfillRunner {
 public:
  // `backfill` must outlive the runner.
  explicit MessageTextBackfillRunner(MessageTextBackfill& backfill);
  // Stops the thread (after the step in progress).
  ~MessageTextBackfillRunner();
  MessageTextBackfillRunner(const MessageTextBackfillRunner&) = delete;
  MessageTextBackfillRunner& operator=(const MessageTextBackfillRunner&) = delete;

 private:
  void Loop();

  MessageTextBackfill& backfill_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace mnemo::maintenance
