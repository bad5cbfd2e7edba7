#include "maintenance/message_text_backfill.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "common/thread_priority.h"
#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "tables/row_codec.h"

namespace mnemo::maintenance {
namespace {

using storage::Cf;

// Meta keys (FROZEN): the end-of-pass marker, and the last message key a step read.
constexpr std::string_view kDoneKey = "message_terms_backfill_v1";
constexpr std::string_view kCursorKey = "message_terms_backfill_cursor";

}  // namespace

Status MessageTextBackfill::Init() {
  std::lock_guard lock(step_mutex_);
  std::string value;
  Status found = db_.Get(Cf::kMeta, kDoneKey, &value);
  if (found.ok()) {
    done_.store(true, std::memory_order_release);
    return Status::Ok();
  }
  if (!found.IsNotFound()) return found;
  found = db_.Get(Cf::kMeta, kCursorKey, &cursor_);
  if (found.IsNotFound()) {
    cursor_.clear();
    return Status::Ok();
  }
  return found;
}

Status MessageTextBackfill::Reset(storage::Db& db) {
  std::string value;
  Status found = db.Get(Cf::kMeta, kDoneKey, &value);
  if (found.IsNotFound()) found = db.Get(Cf::kMeta, kCursorKey, &value);
  if (found.IsNotFound()) return Status::Ok();
  MNEMO_RETURN_IF_ERROR(found);
  storage::WriteTxn txn(db);
  txn.Delete(Cf::kMeta, kDoneKey);
  txn.Delete(Cf::kMeta, kCursorKey);
  return txn.Commit();
}

Status MessageTextBackfill::Step(bool* done) {
  std::lock_guard lock(step_mutex_);
  *done = done_.load(std::memory_order_acquire);
  if (*done) return Status::Ok();
  // The first message after the cursor: its conversation is this step's.
  std::string next_key;
  storage::ScanRange range;
  range.start = cursor_;
  range.skip_start = !cursor_.empty();
  MNEMO_RETURN_IF_ERROR(db_.Scan(Cf::kMessages, range, [&](std::string_view key, std::string_view) {
    next_key.assign(key);
    return false;
  }));
  if (next_key.empty()) {
    storage::WriteTxn txn(db_);
    txn.Put(Cf::kMeta, kDoneKey, "1");
    txn.Delete(Cf::kMeta, kCursorKey);
    MNEMO_RETURN_IF_ERROR(txn.Commit());
    done_.store(true, std::memory_order_release);
    *done = true;
    // A new data directory ends its pass at once: only a pass that indexed something is news.
    spdlog::log(indexed() > 0 ? spdlog::level::info : spdlog::level::debug,
                "message terms backfill: pass complete ({} messages given terms since open)",
                indexed());
    return Status::Ok();
  }
  if (next_key.size() < Uuid::kSize) return Status::Internal("corrupt message key");
  const Uuid conversation_id = Uuid::FromBytes(std::string_view(next_key).substr(0, Uuid::kSize));
  const std::string prefix = keys::MessagePrefix(conversation_id);
  const std::string after = cursor_.starts_with(prefix) ? cursor_ : std::string();

  // The conversation's user, from its row; the step runs under that user's lock.
  std::string user_id;
  {
    std::string value;
    Status found = db_.Get(Cf::kConversations, keys::ConversationKey(conversation_id), &value);
    if (found.ok()) {
      tables::ConversationRow row;
      MNEMO_RETURN_IF_ERROR(tables::DecodeConversation(value, conversation_id, &row));
      user_id = std::move(row.conversation.user_id);
    } else if (!found.IsNotFound()) {
      return found;
    }
  }
  std::string last_key;
  int64_t indexed = 0;
  std::unique_lock<std::mutex> user_lock;
  if (!user_id.empty()) user_lock = locks_.LockUser(user_id);
  storage::WriteTxn txn(db_);
  if (!user_id.empty()) {
    // Under the lock: the conversation as it is now (hard-deleted meanwhile: nothing to do).
    auto row = conversations_.LoadForWrite(txn, user_id, conversation_id, /*allow_deleted=*/true);
    if (row.ok()) {
      MNEMO_RETURN_IF_ERROR(messages_.StageMissingTerms(txn, user_id, conversation_id,
                                                        row->conversation.is_deleted, after,
                                                        kRowsPerStep, &last_key, &indexed));
    } else if (!row.status().IsNotFound()) {
      return row.status();
    }
  }
  // Nothing more of this conversation: the cursor moves past all its keys.
  const std::string cursor =
      last_key.empty() ? keys::MessageKey(conversation_id, std::numeric_limits<uint64_t>::max())
                       : last_key;
  if (cursor <= cursor_) return Status::Internal("message terms backfill made no progress");
  txn.Put(Cf::kMeta, kCursorKey, cursor);
  MNEMO_RETURN_IF_ERROR(txn.Commit());
  cursor_ = cursor;
  indexed_.fetch_add(indexed, std::memory_order_relaxed);
  return Status::Ok();
}

Status MessageTextBackfill::Finish() {
  // Each step moves the cursor forward (Step checks it) or ends the pass.
  bool done = false;
  while (!done) MNEMO_RETURN_IF_ERROR(Step(&done));
  return Status::Ok();
}

MessageTextBackfillRunner::MessageTextBackfillRunner(MessageTextBackfill& backfill)
    : backfill_(backfill), thread_([this] { Loop(); }) {}

MessageTextBackfillRunner::~MessageTextBackfillRunner() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void MessageTextBackfillRunner::Loop() {
  RunAtBackgroundPriority("message terms backfill");
  // Each step moves the cursor forward or ends the pass.
  bool done = false;
  while (!done && !stop_.load(std::memory_order_acquire)) {
    const Status status = backfill_.Step(&done);
    if (!status.ok()) {
      spdlog::warn("message terms backfill stopped: {}; the next open resumes it",
                   status.ToString());
      return;
    }
  }
}

}  // namespace mnemo::maintenance
