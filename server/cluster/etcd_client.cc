#include "cluster/etcd_client.h"

#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "cluster/base64.h"

namespace mnemo::cluster {
namespace {

using nlohmann::json;

// The gateway's JSON for a reply that does not match what the call expects.  Thrown only while a
// reply is decoded, and caught in Call: no exception leaves this file.
class BadReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A 64-bit integer field: a decimal string (the protobuf JSON mapping) or a number; 0 when the
// field is absent (its zero value).
int64_t Int64Field(const json& object, const char* name) {
  const auto field = object.find(name);
  if (field == object.end() || field->is_null()) return 0;
  if (field->is_number_integer()) return field->get<int64_t>();
  if (!field->is_string()) throw BadReply(std::string(name) + " is not an integer");
  const auto& text = field->get_ref<const std::string&>();
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw BadReply(std::string(name) + " is not an integer");
  return value;
}

uint64_t Uint64Field(const json& object, const char* name) {
  const auto field = object.find(name);
  if (field == object.end() || field->is_null()) return 0;
  if (field->is_number_unsigned()) return field->get<uint64_t>();
  if (!field->is_string()) throw BadReply(std::string(name) + " is not an unsigned integer");
  const auto& text = field->get_ref<const std::string&>();
  size_t used = 0;
  uint64_t value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text.front() == '-') {
    throw BadReply(std::string(name) + " is not an unsigned integer");
  }
  return value;
}

// A bytes field: base64 in JSON; "" when absent.
std::string BytesField(const json& object, const char* name) {
  const auto field = object.find(name);
  if (field == object.end() || field->is_null()) return {};
  if (!field->is_string()) throw BadReply(std::string(name) + " is not a string");
  auto bytes = Base64Decode(field->get_ref<const std::string&>());
  if (!bytes) throw BadReply(std::string(name) + " is not base64");
  return std::move(*bytes);
}

const json& ObjectField(const json& object, const char* name) {
  static const json kEmpty = json::object();
  const auto field = object.find(name);
  if (field == object.end() || field->is_null()) return kEmpty;
  if (!field->is_object()) throw BadReply(std::string(name) + " is not an object");
  return *field;
}

std::vector<KeyValue> KeyValues(const json& range) {
  std::vector<KeyValue> kvs;
  const auto field = range.find("kvs");
  if (field == range.end() || field->is_null()) return kvs;
  if (!field->is_array()) throw BadReply("kvs is not an array");
  for (const auto& item : *field) {
    if (!item.is_object()) throw BadReply("a kvs entry is not an object");
    KeyValue kv;
    kv.key = BytesField(item, "key");
    kv.value = BytesField(item, "value");
    kv.create_revision = Int64Field(item, "create_revision");
    kv.mod_revision = Int64Field(item, "mod_revision");
    kv.version = Int64Field(item, "version");
    kv.lease = Int64Field(item, "lease");
    kvs.push_back(std::move(kv));
  }
  return kvs;
}

int64_t HeaderRevision(const json& reply) {
  return Int64Field(ObjectField(reply, "header"), "revision");
}

// The smallest key greater than every key that starts with `prefix` (etcd's range_end for a
// prefix read).
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every byte is 0xff: read to the end of the key space
}

// gRPC status codes (the gateway's "code") onto mnemo's (error_codes.def).
StatusCode FromGrpcCode(int64_t code) {
  switch (code) {
    case 3: return StatusCode::kValidationError;       // INVALID_ARGUMENT
    case 11: return StatusCode::kValidationError;      // OUT_OF_RANGE
    case 5: return StatusCode::kNotFound;              // NOT_FOUND
    case 6: return StatusCode::kDuplicateRecord;       // ALREADY_EXISTS
    case 9: return StatusCode::kConflict;              // FAILED_PRECONDITION
    case 10: return StatusCode::kConflict;             // ABORTED
    case 1: return StatusCode::kUnavailable;           // CANCELLED
    case 4: return StatusCode::kUnavailable;           // DEADLINE_EXCEEDED
    case 14: return StatusCode::kUnavailable;          // UNAVAILABLE (no leader, timeout)
    case 8: return StatusCode::kRateLimited;           // RESOURCE_EXHAUSTED
    case 7: return StatusCode::kAuthorizationError;    // PERMISSION_DENIED
    case 16: return StatusCode::kAuthenticationError;  // UNAUTHENTICATED
    default: return StatusCode::kInternalError;
  }
}

json RangeJson(std::string_view key, std::string_view range_end = {}) {
  json request = {{"key", Base64Encode(key)}};
  if (!range_end.empty()) request["range_end"] = Base64Encode(range_end);
  return request;
}

json PutJson(std::string_view key, std::string_view value, int64_t lease) {
  json request = {{"key", Base64Encode(key)}, {"value", Base64Encode(value)}};
  if (lease != 0) request["lease"] = std::to_string(lease);
  return request;
}

const char* TargetName(Compare::Target target) {
  switch (target) {
    case Compare::Target::kCreateRevision: return "CREATE";
    case Compare::Target::kModRevision: return "MOD";
    case Compare::Target::kVersion: return "VERSION";
    case Compare::Target::kValue: return "VALUE";
    case Compare::Target::kLease: return "LEASE";
  }
  return "CREATE";
}

const char* TargetField(Compare::Target target) {
  switch (target) {
    case Compare::Target::kCreateRevision: return "create_revision";
    case Compare::Target::kModRevision: return "mod_revision";
    case Compare::Target::kVersion: return "version";
    case Compare::Target::kValue: return "value";
    case Compare::Target::kLease: return "lease";
  }
  return "create_revision";
}

const char* OpName(Compare::Op op) {
  switch (op) {
    case Compare::Op::kEqual: return "EQUAL";
    case Compare::Op::kNotEqual: return "NOT_EQUAL";
    case Compare::Op::kGreater: return "GREATER";
    case Compare::Op::kLess: return "LESS";
  }
  return "EQUAL";
}

json TxnOpJson(const TxnOp& op) {
  switch (op.kind) {
    case TxnOp::Kind::kRange: return {{"request_range", RangeJson(op.key)}};
    case TxnOp::Kind::kPut: return {{"request_put", PutJson(op.key, op.value, op.lease)}};
    case TxnOp::Kind::kDelete: return {{"request_delete_range", RangeJson(op.key)}};
  }
  return json::object();
}

// Posts `request` to `path` and returns the decoded reply, or the error etcd (or the way to it)
// reported.  A streaming call's reply (lease keep-alive) arrives wrapped in "result".
Result<json> Call(const GatewayTransport& transport, std::string_view path, const json& request) {
  MNEMO_ASSIGN_OR_RETURN(GatewayReply reply, transport.Post(path, request.dump()));
  const std::string where =
      "etcd " + transport.endpoint_name(reply.endpoint) + " " + std::string(path) + ": ";
  json body = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    std::string text = reply.body.substr(0, 200);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return Status::Internal(where + "HTTP " + std::to_string(reply.status) + ": " + text);
  }
  if (auto result = body.find("result"); result != body.end() && result->is_object()) {
    body = std::move(*result);  // one message of a streaming reply
  }
  // Errors: {"error": "...", "message": "...", "code": N} for a call, {"error": {"grpc_code": N,
  // "message": "..."}} inside a stream.  A grant's reply has an "error" string of its own, empty
  // (so left out) on success.
  const auto error = body.find("error");
  const bool failed = reply.status != 200 ||
                      (error != body.end() &&
                       ((error->is_string() && !error->get_ref<const std::string&>().empty()) ||
                        error->is_object()));
  if (!failed) return body;
  const json& details = error != body.end() && error->is_object() ? *error : body;
  std::string message = details.value("message", std::string());
  if (message.empty() && error != body.end() && error->is_string()) message = *error;
  if (message.empty()) message = "HTTP " + std::to_string(reply.status);
  int64_t code = 2;  // UNKNOWN
  try {
    code = details.contains("grpc_code") ? Int64Field(details, "grpc_code")
                                         : Int64Field(details, "code");
  } catch (const BadReply&) {
  }
  const StatusCode status = FromGrpcCode(code);
  if (status == StatusCode::kUnavailable) transport.AvoidEndpoint(reply.endpoint);
  return Status::FromCode(status, where + message);
}

// Runs `decode` on a reply, turning a reply of the wrong shape into INTERNAL_ERROR.
template <typename Decode>
auto Decoded(const GatewayTransport& transport, std::string_view path, const json& request,
             Decode decode) -> Result<decltype(decode(std::declval<const json&>()))> {
  MNEMO_ASSIGN_OR_RETURN(json reply, Call(transport, path, request));
  try {
    return decode(reply);
  } catch (const std::exception& e) {  // BadReply, or nlohmann's type errors
    return Status::Internal("etcd " + std::string(path) + ": unexpected reply: " + e.what());
  }
}

}  // namespace

Result<EtcdClient> EtcdClient::Create(GatewayOptions options) {
  MNEMO_ASSIGN_OR_RETURN(GatewayTransport transport, GatewayTransport::Create(std::move(options)));
  return EtcdClient(std::move(transport));
}

Result<RangeResult> EtcdClient::Get(std::string_view key) const {
  return Decoded(transport_, "/v3/kv/range", RangeJson(key), [](const json& reply) {
    return RangeResult{HeaderRevision(reply), KeyValues(reply)};
  });
}

Result<RangeResult> EtcdClient::GetPrefix(std::string_view prefix) const {
  if (prefix.empty()) return Status::ValidationError("prefix", "the prefix is empty");
  return Decoded(transport_, "/v3/kv/range", RangeJson(prefix, PrefixEnd(prefix)),
                 [](const json& reply) {
                   return RangeResult{HeaderRevision(reply), KeyValues(reply)};
                 });
}

Result<int64_t> EtcdClient::Put(std::string_view key, std::string_view value, int64_t lease) const {
  return Decoded(transport_, "/v3/kv/put", PutJson(key, value, lease),
                 [](const json& reply) { return HeaderRevision(reply); });
}

Result<int64_t> EtcdClient::Delete(std::string_view key) const {
  return Decoded(transport_, "/v3/kv/deleterange", RangeJson(key),
                 [](const json& reply) { return Int64Field(reply, "deleted"); });
}

Result<TxnResult> EtcdClient::Txn(const TxnRequest& request) const {
  json compare = json::array();
  for (const auto& condition : request.compare) {
    json item = {{"key", Base64Encode(condition.key)},
                 {"target", TargetName(condition.target)},
                 {"result", OpName(condition.op)}};
    if (condition.target == Compare::Target::kValue) {
      item["value"] = Base64Encode(condition.value);
    } else {
      item[TargetField(condition.target)] = std::to_string(condition.number);
    }
    compare.push_back(std::move(item));
  }
  json success = json::array();
  for (const auto& op : request.success) success.push_back(TxnOpJson(op));
  json failure = json::array();
  for (const auto& op : request.failure) failure.push_back(TxnOpJson(op));
  const json body = {{"compare", compare}, {"success", success}, {"failure", failure}};
  return Decoded(transport_, "/v3/kv/txn", body, [](const json& reply) {
    TxnResult result;
    result.succeeded = reply.value("succeeded", false);
    result.revision = HeaderRevision(reply);
    if (const auto responses = reply.find("responses"); responses != reply.end()) {
      if (!responses->is_array()) throw BadReply("responses is not an array");
      for (const auto& response : *responses) {
        result.ranges.push_back(KeyValues(ObjectField(response, "response_range")));
      }
    }
    return result;
  });
}

Result<Lease> EtcdClient::GrantLease(std::chrono::seconds ttl) const {
  if (ttl.count() < 1) return Status::ValidationError("ttl", "a lease lasts at least 1 s");
  return Decoded(
      transport_, "/v3/lease/grant", json{{"TTL", std::to_string(ttl.count())}},
      [](const json& reply) {
        Lease lease{Int64Field(reply, "ID"), std::chrono::seconds(Int64Field(reply, "TTL"))};
        if (lease.id == 0 || lease.ttl.count() <= 0) throw BadReply("no lease granted");
        return lease;
      });
}

Result<std::chrono::seconds> EtcdClient::KeepAliveOnce(int64_t id) const {
  MNEMO_ASSIGN_OR_RETURN(
      const int64_t ttl,
      Decoded(transport_, "/v3/lease/keepalive", json{{"ID", std::to_string(id)}},
              [](const json& reply) { return Int64Field(reply, "TTL"); }));
  // etcd answers a keep-alive of an unknown lease with TTL 0 rather than an error.
  if (ttl <= 0) {
    return Status::NotFound("etcd lease " + std::to_string(id) + " has expired or was revoked");
  }
  return std::chrono::seconds(ttl);
}

Status EtcdClient::RevokeLease(int64_t id) const {
  return Call(transport_, "/v3/lease/revoke", json{{"ID", std::to_string(id)}}).status();
}

Result<MemberStatus> EtcdClient::GetMemberStatus() const {
  return Decoded(transport_, "/v3/maintenance/status", json::object(), [](const json& reply) {
    return MemberStatus{Uint64Field(ObjectField(reply, "header"), "member_id"),
                        Uint64Field(reply, "leader"), Uint64Field(reply, "raftTerm")};
  });
}

}  // namespace mnemo::cluster
