// Admin requests (service principals only): stats, partitions, archive/attach, backup, snapshots,
// and the replication log a replica follows.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "mnemo/base/crc32c.h"
#include "protocol/version.h"
#include "server/dispatch_internal.h"
#include "server/snapshots.h"
#include "server/wire_in.h"

namespace mnemo::server::dispatch {
namespace {

using B = wire::RequestBody;

Result<std::string> Required(const flatbuffers::String* text, const char* field) {
  if (text == nullptr || text->size() == 0)
    return Status::ValidationError(field, std::string(field) + " is required");
  return text->str();
}

flatbuffers::Offset<wire::ClusterInfo> BuildClusterInfo(Builder& fbb, const ClusterNode* node) {
  if (node == nullptr) return wire::CreateClusterInfo(fbb, wire::NodeRole::standalone);
  const ClusterStatus status = node->Describe();
  const auto optional = [&fbb](const std::string& text) {
    return text.empty() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(text);
  };
  return wire::CreateClusterInfo(
      fbb, status.primary ? wire::NodeRole::primary : wire::NodeRole::follower,
      fbb.CreateString(status.cluster), fbb.CreateString(status.node_id),
      fbb.CreateString(status.address), status.epoch, status.writable,
      optional(status.primary_node_id), optional(status.primary_address), status.primary_epoch,
      status.applied_seq, status.lag.records, status.lag.ms);
}

Result<Reply> Stats(Call& call, const AdminContext& admin) {
  Builder& fbb = call.fbb;
  const auto partitions = BuildPartitionInfos(fbb, call.engine.ListPartitions());
  std::vector<flatbuffers::Offset<wire::OpStats>> ops;
  for (const OpSnapshot& op : admin.stats.Snapshot()) {
    ops.push_back(wire::CreateOpStats(fbb, fbb.CreateString(op.name), op.count, op.errors,
                                      op.p50_us, op.p99_us));
  }
  const auto op_vector = fbb.CreateVector(ops);
  flatbuffers::Offset<wire::TextIndexInfo> text;
  if (const std::optional<TextIndexInfo> info = call.engine.TextIndexStats()) {
    text = wire::CreateTextIndexInfo(fbb, info->rows, info->terms, info->postings,
                                     info->stored_bytes, info->memory_bytes, info->message_rows);
  }
  return MakeReply(
      wire::ResponseBody::StatsReply,
      wire::CreateStatsReply(fbb, admin.stats.uptime_seconds(), admin.stats.connections(),
                             partitions, op_vector, DirectoryBytes(admin.data_dir), text,
                             BuildClusterInfo(fbb, admin.cluster)));
}

// The engine's backup holds the database and graphs; the API keys go along, so that a restored
// directory accepts the same keys.
Result<Reply> Backup(Call& call, const AdminContext& admin, const std::string& path) {
  MNEMO_RETURN_IF_ERROR(call.engine.CreateBackup(path));
  const Status keys = CopyKeyFile(admin.data_dir, path);
  if (!keys.ok()) return Status::Unavailable("backup written, but " + std::string(keys.message()));
  spdlog::info("backup written to {}", path);
  return DoneReply(call.fbb);
}

Result<Reply> OpenSnapshot(Call& call, const AdminContext& admin) {
  MNEMO_ASSIGN_OR_RETURN(const SnapshotStore::Manifest manifest, admin.snapshots.Open(call.engine));
  Builder& fbb = call.fbb;
  std::vector<flatbuffers::Offset<wire::SnapshotFile>> files;
  files.reserve(manifest.files.size());
  for (const SnapshotStore::File& file : manifest.files) {
    files.push_back(wire::CreateSnapshotFile(fbb, fbb.CreateString(file.path), file.size));
  }
  const auto id = fbb.CreateString(manifest.id);
  return MakeReply(wire::ResponseBody::SnapshotManifest,
                   wire::CreateSnapshotManifest(fbb, id, fbb.CreateVector(files)));
}

Result<Reply> ReadSnapshot(Call& call, const AdminContext& admin,
                           const wire::ReadSnapshotRequest& in) {
  MNEMO_ASSIGN_OR_RETURN(const std::string id, Required(in.snapshot_id(), "snapshot_id"));
  MNEMO_ASSIGN_OR_RETURN(const std::string path, Required(in.path(), "path"));
  MNEMO_ASSIGN_OR_RETURN(const std::string data,
                         admin.snapshots.Read(id, path, in.offset(), in.max_bytes()));
  Builder& fbb = call.fbb;
  const auto bytes = fbb.CreateVector(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return MakeReply(wire::ResponseBody::SnapshotChunk,
                   wire::CreateSnapshotChunk(fbb, bytes, Crc32c(data.data(), data.size())));
}

// The largest FollowRequest::max_records, and the reply's room for everything but the records.
constexpr uint32_t kMaxFollowRecords = 4096;
constexpr size_t kFollowReplyOverhead = 4096;
// How long a replica's FollowRequest is held when no record is there yet (long poll).
constexpr auto kFollowHold = std::chrono::milliseconds(100);

Result<Reply> Follow(Call& call, const AdminContext& admin, const wire::FollowRequest& in) {
  if (in.from() < 1) return Status::ValidationError("from", "must be >= 1");
  if (in.max_records() < 1 || in.max_records() > kMaxFollowRecords) {
    return Status::ValidationError("max_records",
                                   "must be in 1.." + std::to_string(kMaxFollowRecords));
  }
  const std::string follower = StringOf(in.follower_id());
  if (!follower.empty()) admin.acks.Acknowledge(follower, in.from() - 1);
  MNEMO_ASSIGN_OR_RETURN(std::vector<LogRecord> records,
                         call.engine.ReadLog(in.from(), in.max_records()));
  if (records.empty() && !follower.empty()) {
    admin.acks.WaitForCommit(in.from() - 1, kFollowHold);
    MNEMO_ASSIGN_OR_RETURN(records, call.engine.ReadLog(in.from(), in.max_records()));
  }
  // max_bytes bounds the records after the first; the first goes out whatever its size (a write
  // of a 1000-chunk batch at 1536 dimensions is a 6 MB record), else a follower asking for less
  // could never get past it.  Only the frame limit stops a record.
  const size_t frame_bytes = protocol::kDefaultMaxFrameBytes - kFollowReplyOverhead;
  const size_t max_bytes = std::min<size_t>(in.max_bytes(), frame_bytes);
  Builder& fbb = call.fbb;
  std::vector<flatbuffers::Offset<wire::LogEntry>> entries;
  size_t bytes = 0;
  for (const LogRecord& record : records) {
    bytes += record.record.size();
    if (!entries.empty() && bytes > max_bytes) break;
    if (bytes > frame_bytes) {
      return Status::FromCode(StatusCode::kPayloadTooLarge,
                              "log record " + std::to_string(record.seq) + " takes " +
                                  std::to_string(record.record.size()) +
                                  " bytes, more than a reply may hold");
    }
    entries.push_back(wire::CreateLogEntry(
        fbb, record.seq,
        fbb.CreateVector(reinterpret_cast<const uint8_t*>(record.record.data()),
                         record.record.size())));
  }
  const auto vector = fbb.CreateVector(entries);
  return MakeReply(wire::ResponseBody::FollowReply,
                   wire::CreateFollowReply(fbb, vector, call.engine.LastLogSeq()));
}

Result<Reply> ApplyRetention(Call& call, const wire::ApplyRetentionRequest& in) {
  RetentionPolicy policy = call.engine.retention_policy();
  if (!in.configured()) {
    policy.keep_months = in.keep_months();
    policy.archive_dir = StringOf(in.archive_dir());
    policy.purge_after_seconds = in.purge_after_seconds();
  }
  MNEMO_ASSIGN_OR_RETURN(const RetentionReport report,
                         call.engine.ApplyRetention(policy, NowMicros()));
  spdlog::info("retention requested by a client: {}", DescribeRetention(report));
  Builder& fbb = call.fbb;
  std::vector<flatbuffers::Offset<wire::RetiredMonth>> retired;
  for (const auto& month : report.retired) {
    retired.push_back(wire::CreateRetiredMonth(fbb, fbb.CreateString(month.month), month.rows,
                                               fbb.CreateString(month.archive_path)));
  }
  const auto months = fbb.CreateVector(retired);
  return MakeReply(wire::ResponseBody::RetentionReply,
                   wire::CreateRetentionReply(
                       fbb, report.now, report.month_cutoff, report.purge_cutoff, months,
                       report.conversations_purged, report.documents_purged, report.chunks_purged));
}

}  // namespace

Result<Reply> Admin(Call& call, const AdminContext& admin) {
  const wire::Request& request = call.request;
  Builder& fbb = call.fbb;
  switch (request.body_type()) {
    case B::GetStatsRequest: return Stats(call, admin);
    case B::ListPartitionsRequest: {
      const auto partitions = BuildPartitionInfos(fbb, call.engine.ListPartitions());
      return MakeReply(wire::ResponseBody::PartitionList,
                       wire::CreatePartitionList(fbb, partitions));
    }
    case B::RebuildPartitionRequest: {
      MNEMO_ASSIGN_OR_RETURN(const std::string month,
                             Required(request.body_as_RebuildPartitionRequest()->month(), "month"));
      MNEMO_RETURN_IF_ERROR(call.engine.RebuildPartition(month));
      return DoneReply(fbb);
    }
    case B::ArchivePartitionRequest: {
      const auto* in = request.body_as_ArchivePartitionRequest();
      MNEMO_ASSIGN_OR_RETURN(const std::string month, Required(in->month(), "month"));
      MNEMO_ASSIGN_OR_RETURN(const std::string path, Required(in->path(), "path"));
      MNEMO_ASSIGN_OR_RETURN(const int64_t rows, call.engine.ArchivePartition(month, path));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, rows));
    }
    case B::DropPartitionRequest: {
      MNEMO_ASSIGN_OR_RETURN(const std::string month,
                             Required(request.body_as_DropPartitionRequest()->month(), "month"));
      MNEMO_ASSIGN_OR_RETURN(const int64_t rows, call.engine.DropPartition(month));
      return MakeReply(wire::ResponseBody::CountReply, wire::CreateCountReply(fbb, rows));
    }
    case B::AttachArchiveRequest: {
      MNEMO_ASSIGN_OR_RETURN(const std::string path,
                             Required(request.body_as_AttachArchiveRequest()->path(), "path"));
      MNEMO_ASSIGN_OR_RETURN(const AttachResult result, call.engine.AttachArchive(path));
      return MakeReply(wire::ResponseBody::AttachReply,
                       wire::CreateAttachReply(fbb, result.attached, result.skipped));
    }
    case B::CreateBackupRequest: {
      MNEMO_ASSIGN_OR_RETURN(const std::string path,
                             Required(request.body_as_CreateBackupRequest()->path(), "path"));
      return Backup(call, admin, path);
    }
    case B::ApplyRetentionRequest:
      return ApplyRetention(call, *request.body_as_ApplyRetentionRequest());
    case B::OpenSnapshotRequest: return OpenSnapshot(call, admin);
    case B::ReadSnapshotRequest:
      return ReadSnapshot(call, admin, *request.body_as_ReadSnapshotRequest());
    case B::CloseSnapshotRequest: {
      MNEMO_ASSIGN_OR_RETURN(
          const std::string id,
          Required(request.body_as_CloseSnapshotRequest()->snapshot_id(), "snapshot_id"));
      MNEMO_RETURN_IF_ERROR(admin.snapshots.Close(id));
      return DoneReply(fbb);
    }
    case B::FollowRequest: return Follow(call, admin, *request.body_as_FollowRequest());
    default: return Status::Internal("not an admin request");
  }
}

}  // namespace mnemo::server::dispatch
