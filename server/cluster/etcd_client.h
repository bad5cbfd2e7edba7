// EtcdClient: the etcd v3 calls mnemo's coordination needs (KV range/put/delete, transactions,
// leases, member status), spoken as JSON to etcd's gRPC-gateway over HTTP/1.1.
//
// Why the gateway and not gRPC: etcd 3.4 serves the same v3 API as JSON on every member's client
// URL (under /v3/, and /v3beta/ for older clients), Boost.Beast and nlohmann-json are already
// dependencies, and the calls are few and small; gRPC would add a code generator, the etcd .proto
// files and a second networking stack.  The gateway's JSON follows the protobuf JSON mapping:
// keys and values are base64, 64-bit integers are strings, and fields at their zero value (0,
// false, "") are left out.
//
// Calls are synchronous and bounded by GatewayOptions::call_timeout; members are tried as
// GatewayTransport describes.  Errors: UNAVAILABLE when etcd cannot be reached or answers that
// it cannot serve now (no leader, timeout), NOT_FOUND for an unknown lease, VALIDATION_ERROR for a
// request etcd rejects as invalid, INTERNAL_ERROR for a reply that does not parse.  Messages
// start with "etcd" and name the member and the path.
//
// Thread-safety: thread-safe (every call is independent).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/gateway_transport.h"
#include "mnemo/result.h"

namespace mnemo::cluster {

// One key as etcd stores it.  Revisions are etcd's global revision numbers; 0 means "absent".
struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  // the lease the key is attached to; 0: none
};

struct RangeResult {
  int64_t revision = 0;  // the store's revision the read saw
  std::vector<KeyValue> kvs;
};

// One condition of a transaction.  A key that does not exist compares as revision 0, version 0,
// lease 0, and never equal to any value.
struct Compare {
  enum class Target { kCreateRevision, kModRevision, kVersion, kValue, kLease };
  enum class Op { kEqual, kNotEqual, kGreater, kLess };

  static Compare CreateRevision(std::string key, Op op, int64_t revision) {
    return {std::move(key), Target::kCreateRevision, op, revision, {}};
  }
  static Compare ModRevision(std::string key, Op op, int64_t revision) {
    return {std::move(key), Target::kModRevision, op, revision, {}};
  }
  static Compare Value(std::string key, Op op, std::string value) {
    return {std::move(key), Target::kValue, op, 0, std::move(value)};
  }

  std::string key;
  Target target = Target::kCreateRevision;
  Op op = Op::kEqual;
  int64_t number = 0;  // for the revision, version and lease targets
  std::string value;   // for kValue
};

// One operation of a transaction branch.
struct TxnOp {
  enum class Kind { kRange, kPut, kDelete };

  static TxnOp Get(std::string key) { return {Kind::kRange, std::move(key), {}, 0}; }
  static TxnOp Put(std::string key, std::string value, int64_t lease = 0) {
    return {Kind::kPut, std::move(key), std::move(value), lease};
  }
  static TxnOp Delete(std::string key) { return {Kind::kDelete, std::move(key), {}, 0}; }

  Kind kind = Kind::kRange;
  std::string key;
  std::string value;  // kPut
  int64_t lease = 0;  // kPut: attach the key to this lease (0: none)
};

// If every comparison holds, `success` runs, else `failure`; atomically, at one revision.
struct TxnRequest {
  std::vector<Compare> compare;
  std::vector<TxnOp> success;
  std::vector<TxnOp> failure;
};

struct TxnResult {
  bool succeeded = false;  // which branch ran
  int64_t revision = 0;    // the store's revision after the transaction
  // One entry per operation of the branch that ran, in order: a range's keys (empty for puts
  // and deletes).
  std::vector<std::vector<KeyValue>> ranges;
};

struct Lease {
  int64_t id = 0;
  // What etcd granted, which may exceed the request: etcd raises TTLs below its minimum (1.5
  // election timeouts, rounded up to whole seconds).
  std::chrono::seconds ttl{0};
};

// What one member reports about itself (maintenance status).
struct MemberStatus {
  uint64_t member_id = 0;
  uint64_t leader_id = 0;  // 0 while the member knows no leader
  uint64_t raft_term = 0;
};

class EtcdClient {
 public:
  // VALIDATION_ERROR as GatewayTransport::Create.  Connects to nothing yet.
  static Result<EtcdClient> Create(GatewayOptions options);

  // The key `key`; an empty `kvs` when it does not exist.  Linearizable.
  Result<RangeResult> Get(std::string_view key) const;
  // Every key that starts with `prefix` (REQUIRES: non-empty), in key order.
  Result<RangeResult> GetPrefix(std::string_view prefix) const;
  // Writes `key`; attached to `lease` unless it is 0.  Returns the new revision.  NOT_FOUND when
  // the lease does not exist (any more).
  Result<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0) const;
  // Deletes `key`; returns how many keys were deleted (0 or 1).
  Result<int64_t> Delete(std::string_view key) const;
  Result<TxnResult> Txn(const TxnRequest& request) const;

  // A new lease of (at least) `ttl`; it expires unless kept alive.  REQUIRES: ttl >= 1 s.
  Result<Lease> GrantLease(std::chrono::seconds ttl) const;
  // Renews lease `id` once, for its full TTL from when etcd handles the request; returns that
  // TTL.  NOT_FOUND when the lease has expired or was revoked.
  Result<std::chrono::seconds> KeepAliveOnce(int64_t id) const;
  // Revokes lease `id` and deletes every key attached to it.  NOT_FOUND when it does not exist.
  Status RevokeLease(int64_t id) const;

  // The status of whichever member answers first (use a one-endpoint client to ask a given
  // member).
  Result<MemberStatus> GetMemberStatus() const;

  const GatewayTransport& transport() const { return transport_; }

 private:
  explicit EtcdClient(GatewayTransport transport) : transport_(std::move(transport)) {}

  GatewayTransport transport_;
};

}  // namespace mnemo::cluster
