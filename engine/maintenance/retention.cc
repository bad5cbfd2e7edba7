#include "maintenance/retention.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <set>

#include "storage/key_codec.h"
#include "storage/write_txn.h"
#include "tables/row_codec.h"

namespace mnemo::maintenance {
namespace {

using storage::Cf;
namespace fs = std::filesystem;

// Marks a data directory whose purge queue covers every soft-deleted row (meta family).
constexpr std::string_view kPurgeQueueMarker = "purge_queue_v1";
constexpr size_t kPurgeBatch = 1000;
constexpr size_t kBackfillCommitEvery = 10000;
constexpr char kArchiveSuffix[] = ".mnemoarc";

// A fresh archive path for `month` in `dir` (created durably when missing): "YYYY-MM.mnemoarc",
// else "YYYY-MM.N.mnemoarc".
Result<std::string> ArchivePathFor(FileSystem& file_system, const std::string& dir,
                                   uint32_t month) {
  MNEMO_RETURN_IF_ERROR(CreateDirs(file_system, dir));
  MNEMO_ASSIGN_OR_RETURN(const std::vector<std::string> names, file_system.ListDir(dir));
  const std::set<std::string> taken(names.begin(), names.end());
  const std::string base = MonthName(month);
  std::string name = base + kArchiveSuffix;
  for (int n = 1; taken.count(name) > 0; ++n)
    name = base + "." + std::to_string(n) + kArchiveSuffix;
  return (fs::path(dir) / name).string();
}

struct QueueEntry {
  std::string key;
  Timestamp deleted_at = 0;
  keys::PurgeKind kind = keys::PurgeKind::kConversation;
  Uuid id;
  std::string user_id;
};

}  // namespace

Status Retention::EnsurePurgeQueue() {
  std::string marker;
  Status found = db_.Get(Cf::kMeta, kPurgeQueueMarker, &marker);
  if (found.ok()) return Status::Ok();
  if (!found.IsNotFound()) return found;
  storage::WriteTxn txn(db_);
  size_t staged = 0;
  Status decoded;
  const auto stage = [&](std::string_view user, bool deleted, std::optional<Timestamp> deleted_at,
                         keys::PurgeKind kind, const Uuid& id) {
    if (!deleted || !deleted_at) return;
    txn.Put(Cf::kIndex, keys::PurgeKey(*deleted_at, kind, id), std::string(user));
    ++staged;
  };
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kConversations, {}, [&](std::string_view key, std::string_view value) {
        tables::ConversationRow row;
        decoded = tables::DecodeConversation(value, Uuid::FromBytes(key), &row);
        if (!decoded.ok()) return false;
        const Conversation& c = row.conversation;
        stage(c.user_id, c.is_deleted, c.deleted_at, keys::PurgeKind::kConversation, c.id);
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kDocuments, {}, [&](std::string_view key, std::string_view value) {
        Document d;
        decoded = tables::DecodeDocument(value, Uuid::FromBytes(key), &d);
        if (!decoded.ok()) return false;
        stage(d.user_id, d.is_deleted, d.deleted_at, keys::PurgeKind::kDocument, d.id);
        if (staged >= kBackfillCommitEvery) {
          decoded = txn.Commit();
          staged = 0;
        }
        return decoded.ok();
      }));
  MNEMO_RETURN_IF_ERROR(decoded);
  if (staged > 0)
    spdlog::info("purge queue: recorded {} soft-deleted rows of an older data directory", staged);
  txn.Put(Cf::kMeta, kPurgeQueueMarker, "1");
  return txn.Commit();
}

Result<RetentionReport> Retention::Apply(const RetentionPolicy& policy, Timestamp now) {
  if (policy.keep_months < 0) return Status::ValidationError("keep_months", "must be >= 0");
  if (policy.purge_after_seconds < 0)
    return Status::ValidationError("purge_after_seconds", "must be >= 0");
  std::lock_guard one_run_at_a_time(run_mutex_);
  runs_.fetch_add(1, std::memory_order_relaxed);
  RetentionReport report;
  report.now = now;
  Status status = RetireMonths(policy, &report);
  if (status.ok() && policy.purge_after_seconds > 0) {
    report.purge_cutoff = now - std::min(policy.purge_after_seconds, now / 1'000'000) * 1'000'000;
    status = Purge(&report);
  }
  if (!status.ok()) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    return status;
  }
  return report;
}

Status Retention::RetireMonths(const RetentionPolicy& policy, RetentionReport* report) {
  if (policy.keep_months == 0) return Status::Ok();
  const uint32_t current = MonthOf(report->now);
  const auto kept = static_cast<uint32_t>(policy.keep_months - 1);
  if (kept >= current) return Status::Ok();  // the policy keeps every month since year 0
  report->month_cutoff = MonthStart(current - kept);
  MNEMO_ASSIGN_OR_RETURN(const std::vector<uint32_t> months, vectors_.StoredMonths());
  for (const uint32_t month : months) {
    // Only months that end at or before the cut-off: none of their rows is newer.
    if (MonthStart(month + 1) > report->month_cutoff) continue;
    RetentionReport::RetiredMonth retired;
    retired.month = MonthName(month);
    if (!policy.archive_dir.empty()) {
      MNEMO_ASSIGN_OR_RETURN(retired.archive_path,
                             ArchivePathFor(vectors_.fs(), policy.archive_dir, month));
    }
    MNEMO_ASSIGN_OR_RETURN(retired.rows,
                           vectors_.RetireMonth(month, retired.archive_path, locks_, chunks_));
    months_retired_.fetch_add(1, std::memory_order_relaxed);
    rows_retired_.fetch_add(static_cast<uint64_t>(retired.rows), std::memory_order_relaxed);
    report->retired.push_back(std::move(retired));
  }
  return Status::Ok();
}

Status Retention::Purge(RetentionReport* report) {
  const Timestamp cutoff = report->purge_cutoff;
  storage::ScanRange range;
  range.prefix = keys::PurgeQueuePrefix();
  while (true) {
    std::vector<QueueEntry> batch;
    Status parsed;
    MNEMO_RETURN_IF_ERROR(
        db_.Scan(Cf::kIndex, range, [&](std::string_view key, std::string_view value) {
          QueueEntry entry;
          if (!keys::ParsePurgeKey(key, &entry.deleted_at, &entry.kind, &entry.id)) {
            parsed = Status::Internal("corrupt purge queue key");
            return false;
          }
          if (entry.deleted_at >= cutoff) return false;  // the queue is oldest first
          entry.key = std::string(key);
          entry.user_id = std::string(value);
          batch.push_back(std::move(entry));
          return batch.size() < kPurgeBatch;
        }));
    MNEMO_RETURN_IF_ERROR(parsed);
    for (const QueueEntry& entry : batch) {
      MNEMO_RETURN_IF_ERROR(PurgeOne(entry.kind, entry.id, entry.user_id, cutoff, report));
    }
    if (batch.size() < kPurgeBatch) return Status::Ok();
    range.start = batch.back().key;
    range.skip_start = true;
  }
}

Status Retention::PurgeOne(keys::PurgeKind kind, const Uuid& id, const std::string& user_id,
                           Timestamp cutoff, RetentionReport* report) {
  auto guard = locks_.LockUser(user_id);
  storage::WriteTxn txn(db_);
  // The row's state now, under the owner's lock: purge only what is still deleted from before
  // the cut-off.
  const auto purgeable = [cutoff](bool deleted, std::optional<Timestamp> deleted_at) {
    return deleted && deleted_at && *deleted_at < cutoff;
  };
  switch (kind) {
    case keys::PurgeKind::kConversation: {
      auto row = conversations_.LoadForWrite(txn, user_id, id, /*allow_deleted=*/true);
      if (row.status().IsNotFound()) return Status::Ok();  // deleted meanwhile
      MNEMO_RETURN_IF_ERROR(row.status());
      if (!purgeable(row->conversation.is_deleted, row->conversation.deleted_at))
        return Status::Ok();
      MNEMO_RETURN_IF_ERROR(conversations_.HardDelete(txn, user_id, id));
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      ++report->conversations_purged;
      conversations_purged_.fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
    case keys::PurgeKind::kDocument: {
      auto document = documents_.LoadForWrite(txn, user_id, id, /*allow_deleted=*/true);
      if (document.status().IsNotFound()) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(document.status());
      if (!purgeable(document->is_deleted, document->deleted_at)) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(documents_.HardDelete(txn, user_id, id).status());
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      ++report->documents_purged;
      documents_purged_.fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
    case keys::PurgeKind::kChunk: {
      auto deleted_at = chunks_.DeletedAt(txn, id);
      if (deleted_at.status().IsNotFound()) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(deleted_at.status());
      if (!purgeable(deleted_at->has_value(), *deleted_at)) return Status::Ok();
      auto deleted = chunks_.StageDelete(txn, user_id, id, /*allow_deleted_document=*/true);
      if (deleted.status().IsNotFound()) return Status::Ok();
      MNEMO_RETURN_IF_ERROR(deleted.status());
      MNEMO_RETURN_IF_ERROR(txn.Commit());
      ++report->chunks_purged;
      chunks_purged_.fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
  }
  return Status::Internal("unknown purge kind");
}

void Retention::FillMetrics(EngineMetrics* metrics) const {
  metrics->retention_runs = runs_.load(std::memory_order_relaxed);
  metrics->retention_failures = failures_.load(std::memory_order_relaxed);
  metrics->months_retired = months_retired_.load(std::memory_order_relaxed);
  metrics->rows_retired = rows_retired_.load(std::memory_order_relaxed);
  metrics->conversations_purged = conversations_purged_.load(std::memory_order_relaxed);
  metrics->documents_purged = documents_purged_.load(std::memory_order_relaxed);
  metrics->chunks_purged = chunks_purged_.load(std::memory_order_relaxed);
}

RetentionRunner::RetentionRunner(Retention& retention, RetentionPolicy policy,
                                 std::chrono::seconds interval)
    : retention_(retention),
      policy_(std::move(policy)),
      interval_(std::max(interval, std::chrono::seconds(1))) {
  thread_ = std::thread([this] { Loop(); });
}

RetentionRunner::~RetentionRunner() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionRunner::Loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    auto report = retention_.Apply(policy_, NowMicros());
    if (!report.ok()) {
      spdlog::warn("retention run failed: {}", report.status().ToString());
    } else if (!report->retired.empty() ||
               report->conversations_purged + report->documents_purged + report->chunks_purged >
                   0) {
      spdlog::info("{}", DescribeRetention(*report));
    } else {
      spdlog::debug("{}", DescribeRetention(*report));
    }
    lock.lock();
  }
}

}  // namespace mnemo::maintenance

namespace mnemo {

std::string DescribeRetention(const RetentionReport& report) {
  std::string text;
  for (const auto& month : report.retired) {
    text +=
        "retired month " + month.month + ": " + std::to_string(month.rows) + " chunk rows deleted";
    text += month.archive_path.empty() ? " (not archived)\n"
                                       : ", archived to " + month.archive_path + "\n";
  }
  text += "retention as of " + FormatTimestamp(report.now) + ": " +
          std::to_string(report.retired.size()) + " month(s) retired";
  if (report.month_cutoff != 0) text += " (cut-off " + FormatTimestamp(report.month_cutoff) + ")";
  text += "; purged " + std::to_string(report.conversations_purged) + " conversation(s), " +
          std::to_string(report.documents_purged) + " document(s), " +
          std::to_string(report.chunks_purged) + " chunk(s)";
  if (report.purge_cutoff != 0) text += " deleted before " + FormatTimestamp(report.purge_cutoff);
  return text;
}

}  // namespace mnemo
