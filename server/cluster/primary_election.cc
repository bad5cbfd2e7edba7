#include "cluster/primary_election.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>

namespace mnemo::cluster {
namespace {

using nlohmann::json;

// Campaign rereads the keys when another campaign moved `epoch` between its read and its
// transaction; after this many such races it gives up.
constexpr int kCampaignAttempts = 3;
// After a failed renewal the next try comes this fraction of keepalive_interval later, but
// never sooner than kMinRetryDelay.
constexpr int kRetryDivisor = 4;
constexpr auto kMinRetryDelay = std::chrono::milliseconds(10);
constexpr size_t kMaxNameLength = 128;

Status CheckName(std::string_view field, const std::string& name) {
  const bool valid = !name.empty() && name.size() <= kMaxNameLength &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                     });
  if (valid) return Status::Ok();
  return Status::ValidationError(field,
                                 "'" + name + "' is not 1-128 letters, digits, '.', '_', '-'");
}

// Fills in the defaults and checks the options.
Result<ElectionOptions> Resolve(ElectionOptions options) {
  MNEMO_RETURN_IF_ERROR(CheckName("cluster", options.cluster));
  MNEMO_RETURN_IF_ERROR(CheckName("node_id", options.node_id));
  if (options.address.empty()) return Status::ValidationError("address", "the address is empty");
  if (options.lease_ttl.count() < 1) {
    return Status::ValidationError("lease_ttl", "the lease TTL is at least 1 s");
  }
  const std::chrono::milliseconds ttl = options.lease_ttl;
  if (options.keepalive_interval.count() == 0) options.keepalive_interval = ttl / 3;
  if (options.fencing_margin.count() == 0) options.fencing_margin = ttl / 5;
  if (options.keepalive_interval.count() < 0 || options.fencing_margin.count() < 0 ||
      options.keepalive_interval + options.fencing_margin >= ttl) {
    return Status::ValidationError(
        "keepalive_interval", "keepalive_interval + fencing_margin must be shorter than lease_ttl");
  }
  return options;
}

std::string EncodePrimary(const PrimaryInfo& info) {
  return json{{"node_id", info.node_id}, {"address", info.address}, {"epoch", info.epoch}}.dump();
}

Result<PrimaryInfo> DecodePrimary(const KeyValue& kv) {
  const json value = json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&kv] {
    return Status::Internal("etcd key " + kv.key + " holds '" + kv.value.substr(0, 200) +
                            "', not a primary record");
  };
  if (!value.is_object()) return bad();
  const auto node_id = value.find("node_id");
  const auto address = value.find("address");
  const auto epoch = value.find("epoch");
  if (node_id == value.end() || !node_id->is_string() || address == value.end() ||
      !address->is_string() || epoch == value.end() || !epoch->is_number_unsigned()) {
    return bad();
  }
  return PrimaryInfo{node_id->get<std::string>(), address->get<std::string>(),
                     epoch->get<uint64_t>(), kv.lease};
}

Result<uint64_t> DecodeEpoch(const KeyValue& kv) {
  uint64_t epoch = 0;
  const char* end = kv.value.data() + kv.value.size();
  const auto [stop, error] = std::from_chars(kv.value.data(), end, epoch);
  if (kv.value.empty() || error != std::errc() || stop != end) {
    return Status::Internal("etcd key " + kv.key + " holds '" + kv.value.substr(0, 200) +
                            "', not a decimal epoch");
  }
  return epoch;
}

}  // namespace

// ReadCluster's view plus what a campaign compares against.
struct PrimaryElection::ClusterRead {
  ClusterView view;
  int64_t epoch_mod_revision = 0;  // 0: the epoch key does not exist yet
};

std::string PrimaryElection::PrimaryKey(std::string_view cluster) {
  return "/mnemo/" + std::string(cluster) + "/primary";
}

std::string PrimaryElection::EpochKey(std::string_view cluster) {
  return "/mnemo/" + std::string(cluster) + "/epoch";
}

std::string PrimaryElection::NodesPrefix(std::string_view cluster) {
  return "/mnemo/" + std::string(cluster) + "/nodes/";
}

Status PrimaryElection::PublishNode(std::string_view value) {
  const int64_t lease = lease_id();
  if (lease == 0) return Status::Unavailable("no etcd lease to publish this node's entry on");
  auto put = client_.Put(NodesPrefix(options_.cluster) + options_.node_id, value, lease);
  if (put.status().IsNotFound()) return Status::Unavailable("the etcd lease expired");
  return put.status();
}

Result<std::map<std::string, KeyValue>> PrimaryElection::ReadNodes() const {
  const std::string prefix = NodesPrefix(options_.cluster);
  MNEMO_ASSIGN_OR_RETURN(const RangeResult range, client_.GetPrefix(prefix));
  std::map<std::string, KeyValue> nodes;
  for (const KeyValue& kv : range.kvs) nodes[kv.key.substr(prefix.size())] = kv;
  return nodes;
}

Result<std::unique_ptr<PrimaryElection>> PrimaryElection::Start(GatewayOptions etcd,
                                                                ElectionOptions options) {
  MNEMO_ASSIGN_OR_RETURN(options, Resolve(std::move(options)));
  etcd.call_timeout = std::min(etcd.call_timeout, options.keepalive_interval);
  MNEMO_ASSIGN_OR_RETURN(EtcdClient client, EtcdClient::Create(std::move(etcd)));
  const auto sent = Clock::now();
  MNEMO_ASSIGN_OR_RETURN(const Lease lease, client.GrantLease(options.lease_ttl));
  spdlog::info("cluster {}: node {} holds etcd lease {:x} (TTL {} s)", options.cluster,
               options.node_id, lease.id, lease.ttl.count());
  return std::unique_ptr<PrimaryElection>(
      new PrimaryElection(std::move(client), std::move(options), lease, sent));
}

Status PrimaryElection::CheckOptions(ElectionOptions options) {
  return Resolve(std::move(options)).status();
}

PrimaryElection::PrimaryElection(EtcdClient client, ElectionOptions options, Lease lease,
                                 Clock::time_point sent)
    : client_(std::move(client)),
      options_(std::move(options)),
      primary_key_(PrimaryKey(options_.cluster)),
      epoch_key_(EpochKey(options_.cluster)),
      lease_id_(lease.id),
      lease_expiry_(sent + lease.ttl),
      next_round_(sent + options_.keepalive_interval) {
  thread_ = std::thread([this] { Run(); });
}

PrimaryElection::~PrimaryElection() { Resign().IgnoreError(); }

Result<PrimaryElection::ClusterRead> PrimaryElection::Read() const {
  return ReadKeys(client_, primary_key_, epoch_key_);
}

Result<ClusterView> PrimaryElection::ReadCluster(const EtcdClient& client,
                                                 std::string_view cluster) {
  MNEMO_ASSIGN_OR_RETURN(ClusterRead read,
                         ReadKeys(client, PrimaryKey(cluster), EpochKey(cluster)));
  return std::move(read.view);
}

Result<PrimaryElection::ClusterRead> PrimaryElection::ReadKeys(const EtcdClient& client,
                                                               const std::string& primary_key,
                                                               const std::string& epoch_key) {
  TxnRequest read;
  read.success = {TxnOp::Get(primary_key), TxnOp::Get(epoch_key)};
  MNEMO_ASSIGN_OR_RETURN(const TxnResult result, client.Txn(read));
  if (result.ranges.size() != 2) {
    return Status::Internal("etcd answered a two-read transaction with " +
                            std::to_string(result.ranges.size()) + " results");
  }
  ClusterRead out;
  out.view.revision = result.revision;
  if (!result.ranges[0].empty()) {
    MNEMO_ASSIGN_OR_RETURN(out.view.primary, DecodePrimary(result.ranges[0].front()));
  }
  if (!result.ranges[1].empty()) {
    const KeyValue& epoch = result.ranges[1].front();
    MNEMO_ASSIGN_OR_RETURN(out.view.epoch, DecodeEpoch(epoch));
    out.epoch_mod_revision = epoch.mod_revision;
  }
  return out;
}

Result<ClusterView> PrimaryElection::ReadCluster() const {
  MNEMO_ASSIGN_OR_RETURN(ClusterRead read, Read());
  return std::move(read.view);
}

bool PrimaryElection::Adopt(const PrimaryInfo& info, int64_t lease) {
  std::lock_guard lock(mutex_);
  if (stopping_ || lease_id_ != lease) return false;
  if (role_ != Role::kPrimary) {
    spdlog::info("cluster {}: node {} is primary for epoch {}", options_.cluster, options_.node_id,
                 info.epoch);
  }
  role_ = Role::kPrimary;
  epoch_ = info.epoch;
  return true;
}

Result<CampaignResult> PrimaryElection::Campaign() {
  for (int attempt = 0; attempt < kCampaignAttempts; ++attempt) {
    int64_t lease = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return Status::Conflict("this node resigned from the election");
      if (role_ == Role::kPrimary) {
        return CampaignResult{true, {options_.node_id, options_.address, epoch_, lease_id_}};
      }
      lease = lease_id_;
    }
    if (lease == 0) {
      return Status::Unavailable(
          "no etcd lease: the last one expired, the next is not granted yet");
    }
    MNEMO_ASSIGN_OR_RETURN(const ClusterRead read, Read());
    if (read.view.primary && read.view.primary->lease != lease) {
      return CampaignResult{false, *read.view.primary};
    }
    // The key may carry this node's own lease when an earlier campaign's answer was lost.
    PrimaryInfo mine = read.view.primary.value_or(
        PrimaryInfo{options_.node_id, options_.address, read.view.epoch + 1, lease});
    if (!read.view.primary) {
      TxnRequest txn;
      txn.compare = {
          Compare::CreateRevision(primary_key_, Compare::Op::kEqual, 0),
          Compare::ModRevision(epoch_key_, Compare::Op::kEqual, read.epoch_mod_revision)};
      txn.success = {TxnOp::Put(primary_key_, EncodePrimary(mine), lease),
                     TxnOp::Put(epoch_key_, std::to_string(mine.epoch))};
      txn.failure = {TxnOp::Get(primary_key_)};
      auto result = client_.Txn(txn);
      if (!result.ok()) {
        if (result.status().IsNotFound()) {  // the lease expired under the campaign
          return Status::Unavailable("etcd lease expired during the campaign: " +
                                     std::string(result.status().message()));
        }
        return result.status();
      }
      if (!result->succeeded) {
        if (result->ranges.empty() || result->ranges[0].empty()) {
          continue;  // no primary, but another campaign moved the epoch: read again
        }
        MNEMO_ASSIGN_OR_RETURN(mine, DecodePrimary(result->ranges[0].front()));
        if (mine.lease != lease) return CampaignResult{false, std::move(mine)};
      }
    }
    if (!Adopt(mine, lease)) {
      return Status::Unavailable("this node's lease changed or it resigned during the campaign");
    }
    return CampaignResult{true, std::move(mine)};
  }
  return Status::Conflict("the campaign was overtaken by other campaigns " +
                          std::to_string(kCampaignAttempts) + " times in a row");
}

Role PrimaryElection::role() const {
  std::lock_guard lock(mutex_);
  return role_;
}

uint64_t PrimaryElection::epoch() const {
  std::lock_guard lock(mutex_);
  return epoch_;
}

std::optional<PrimaryElection::Clock::time_point> PrimaryElection::WritesAllowedUntil() const {
  std::lock_guard lock(mutex_);
  if (role_ != Role::kPrimary) return std::nullopt;
  return lease_expiry_ - options_.fencing_margin;
}

bool PrimaryElection::MayAcceptWrites() const {
  const auto until = WritesAllowedUntil();
  return until && Clock::now() < *until;
}

int64_t PrimaryElection::lease_id() const {
  std::lock_guard lock(mutex_);
  return lease_id_;
}

uint64_t PrimaryElection::keepalives_succeeded() const {
  std::lock_guard lock(mutex_);
  return keepalives_succeeded_;
}

Status PrimaryElection::Resign() {
  int64_t lease = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return Status::Ok();
    stopping_ = true;  // fences at once: role_ is no longer primary
    role_ = Role::kFollower;
    epoch_ = 0;
    lease = std::exchange(lease_id_, 0);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lease == 0) return Status::Ok();
  Status revoked = client_.RevokeLease(lease);
  if (revoked.IsNotFound()) return Status::Ok();  // it had expired already
  if (!revoked.ok()) {
    spdlog::warn("cluster {}: node {} could not revoke its lease (it expires by itself): {}",
                 options_.cluster, options_.node_id, revoked.ToString());
  }
  return revoked;
}

void PrimaryElection::TEST_PauseKeepAlive(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
  }
  wake_.notify_all();
}

void PrimaryElection::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (paused_) {
      wake_.wait(lock);
      continue;
    }
    if (Clock::now() < next_round_) {
      wake_.wait_until(lock, next_round_);
      continue;
    }
    const int64_t lease = lease_id_;
    lock.unlock();
    const auto next = lease == 0 ? GrantRound() : RenewRound(lease);
    lock.lock();
    next_round_ = next;
  }
}

PrimaryElection::Clock::duration PrimaryElection::RetryDelay() const {
  return std::max<Clock::duration>(options_.keepalive_interval / kRetryDivisor, kMinRetryDelay);
}

PrimaryElection::Clock::time_point PrimaryElection::GrantRound() {
  const auto sent = Clock::now();
  auto lease = client_.GrantLease(options_.lease_ttl);
  if (!lease.ok()) {
    spdlog::warn("cluster {}: node {} has no etcd lease: {}", options_.cluster, options_.node_id,
                 lease.status().ToString());
    return Clock::now() + RetryDelay();
  }
  std::lock_guard lock(mutex_);
  if (stopping_) return sent;  // Resign took over; the lease expires by itself
  lease_id_ = lease->id;
  lease_expiry_ = sent + lease->ttl;
  return sent + options_.keepalive_interval;
}

PrimaryElection::Clock::time_point PrimaryElection::RenewRound(int64_t lease) {
  const auto sent = Clock::now();
  const auto ttl = client_.KeepAliveOnce(lease);
  if (!ttl.ok() && !ttl.status().IsNotFound()) {
    spdlog::warn("cluster {}: node {} could not renew its etcd lease: {}", options_.cluster,
                 options_.node_id, ttl.status().ToString());
    return Clock::now() + RetryDelay();
  }
  if (!ttl.ok()) {  // etcd expired the lease, or it was revoked
    bool was_primary = false;
    {
      std::lock_guard lock(mutex_);
      if (lease_id_ != lease) return Clock::now();
      was_primary = role_ == Role::kPrimary;
      lease_id_ = 0;
      role_ = Role::kFollower;
      epoch_ = 0;
    }
    spdlog::warn("cluster {}: node {} lost its etcd lease{}", options_.cluster, options_.node_id,
                 was_primary ? " and with it the primary role" : "");
    return Clock::now();  // grant a new one at once
  }
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mutex_);
    if (lease_id_ != lease) return Clock::now();
    lease_expiry_ = std::max(lease_expiry_, sent + *ttl);
    ++keepalives_succeeded_;
    if (role_ == Role::kPrimary) epoch = epoch_;
  }
  if (epoch != 0 && !StillHoldsKey(lease, epoch)) {
    spdlog::warn("cluster {}: node {} no longer finds its lease on {}; it is not primary",
                 options_.cluster, options_.node_id, primary_key_);
  }
  return sent + options_.keepalive_interval;
}

bool PrimaryElection::StillHoldsKey(int64_t lease, uint64_t epoch) {
  // A renewed lease keeps the key unless someone changed etcd by hand; check that nobody did.
  const auto key = client_.Get(primary_key_);
  if (!key.ok()) return true;  // unknown: the next round checks again
  if (!key->kvs.empty() && key->kvs.front().lease == lease) return true;
  std::lock_guard lock(mutex_);
  if (lease_id_ != lease || role_ != Role::kPrimary || epoch_ != epoch) {
    return true;  // the state moved on meanwhile (a new campaign, a lost lease, Resign)
  }
  role_ = Role::kFollower;
  epoch_ = 0;
  return false;
}

}  // namespace mnemo::cluster
