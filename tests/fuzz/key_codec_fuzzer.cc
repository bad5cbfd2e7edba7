// Fuzz target: the order-preserving key encoding (engine/storage/key_codec.h).
//
// Input: a schema of up to 8 components (byte, u64, i64, i64 desc, string, uuid), two value
// tuples A and B of that schema (B often shares a prefix with A, so deep comparisons happen),
// then raw bytes.  Properties:
//   - round trip: KeyReader reads back exactly the values KeyBuilder wrote, and then done();
//   - order: memcmp of the encodings has the sign of the tuples' comparison;
//   - canonical: raw bytes that read cleanly as the schema re-encode to the same bytes;
//   - hex: FromHex(ToHex(k)) == k, and bad hex is refused;
//   - PrefixSuccessor(p), when not empty, is greater than every key starting with p;
//   - ParsePayloadKey agrees with PayloadKey;
//   - ParsePurgeKey agrees with PurgeKey, purge keys sort by deleted_at first (the queue is read
//     oldest first), and a deleted chunk's payload key stays under its month's prefix.
#include <algorithm>
#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "mnemo/base/hex.h"
#include "storage/key_codec.h"

namespace mnemo::fuzz {
namespace {

enum class Kind : uint8_t { kByte, kU64, kI64, kI64Desc, kString, kUuid, kCount };

struct Value {
  uint8_t byte = 0;
  uint64_t u64 = 0;
  int64_t i64 = 0;
  std::string text;
  Uuid id;
};

constexpr size_t kMaxComponents = 8;
constexpr size_t kMaxString = 24;

Uuid ReadUuid(FuzzInput& input) {
  std::array<uint8_t, Uuid::kSize> bytes{};
  for (auto& b : bytes) b = input.Byte();
  return Uuid(bytes);
}

Value ReadValue(Kind kind, FuzzInput& input) {
  Value value;
  switch (kind) {
    case Kind::kByte: value.byte = input.Byte(); break;
    case Kind::kU64: value.u64 = input.U64(); break;
    case Kind::kI64:
    case Kind::kI64Desc: value.i64 = input.I64(); break;
    case Kind::kString: value.text = input.String(kMaxString); break;
    case Kind::kUuid: value.id = ReadUuid(input); break;
    case Kind::kCount: break;
  }
  return value;
}

void Append(Kind kind, const Value& value, keys::KeyBuilder& builder) {
  switch (kind) {
    case Kind::kByte: builder.Byte(value.byte); break;
    case Kind::kU64: builder.U64(value.u64); break;
    case Kind::kI64: builder.I64(value.i64); break;
    case Kind::kI64Desc: builder.I64Desc(value.i64); break;
    case Kind::kString: builder.String(value.text); break;
    case Kind::kUuid: builder.Id(value.id); break;
    case Kind::kCount: break;
  }
}

// Reads one component; false when the reader refuses.
bool ReadBack(Kind kind, keys::KeyReader& reader, Value* value) {
  switch (kind) {
    case Kind::kByte: return reader.Byte(&value->byte);
    case Kind::kU64: return reader.U64(&value->u64);
    case Kind::kI64: return reader.I64(&value->i64);
    case Kind::kI64Desc: return reader.I64Desc(&value->i64);
    case Kind::kString: return reader.String(&value->text);
    case Kind::kUuid: return reader.Id(&value->id);
    case Kind::kCount: return false;
  }
  return false;
}

int Sign(auto ordering) { return std::is_lt(ordering) ? -1 : (std::is_gt(ordering) ? 1 : 0); }

// The order the encoding must preserve: descending for I64Desc, bytewise for strings.
int Compare(Kind kind, const Value& a, const Value& b) {
  switch (kind) {
    case Kind::kByte: return Sign(a.byte <=> b.byte);
    case Kind::kU64: return Sign(a.u64 <=> b.u64);
    case Kind::kI64: return Sign(a.i64 <=> b.i64);
    case Kind::kI64Desc: return Sign(b.i64 <=> a.i64);
    case Kind::kString: return Sign(a.text.compare(b.text) <=> 0);
    case Kind::kUuid: return Sign(a.id <=> b.id);
    case Kind::kCount: return 0;
  }
  return 0;
}

bool Equal(Kind kind, const Value& a, const Value& b) { return Compare(kind, a, b) == 0; }

std::string Encode(const std::vector<Kind>& schema, const std::vector<Value>& values) {
  keys::KeyBuilder builder;
  for (size_t i = 0; i < schema.size(); ++i) Append(schema[i], values[i], builder);
  return builder.Release();
}

void CheckRoundTrip(const std::vector<Kind>& schema, const std::vector<Value>& values,
                    const std::string& key) {
  keys::KeyReader reader(key);
  for (size_t i = 0; i < schema.size(); ++i) {
    Value read;
    FUZZ_CHECK(ReadBack(schema[i], reader, &read));
    FUZZ_CHECK(Equal(schema[i], read, values[i]));
  }
  FUZZ_CHECK(reader.done());
}

void CheckOrder(const std::vector<Kind>& schema, const std::vector<Value>& a,
                const std::vector<Value>& b, const std::string& key_a, const std::string& key_b) {
  int expected = 0;
  for (size_t i = 0; i < schema.size() && expected == 0; ++i)
    expected = Compare(schema[i], a[i], b[i]);
  FUZZ_CHECK(Sign(key_a.compare(key_b) <=> 0) == expected);
}

// Raw bytes that read cleanly as the whole schema must be the canonical encoding.
void CheckCanonical(const std::vector<Kind>& schema, std::string_view raw) {
  keys::KeyReader reader(raw);
  std::vector<Value> values(schema.size());
  for (size_t i = 0; i < schema.size(); ++i) {
    if (!ReadBack(schema[i], reader, &values[i])) return;
  }
  if (!reader.done()) return;
  FUZZ_CHECK(Encode(schema, values) == raw);
}

void CheckHexAndSuccessor(const std::string& key, std::string_view raw, uint8_t cut) {
  std::string back;
  FUZZ_CHECK(HexDecode(HexEncode(key), &back));
  FUZZ_CHECK(back == key);
  std::string decoded;
  if (HexDecode(raw, &decoded)) FUZZ_CHECK(HexEncode(decoded).size() == raw.size());

  const std::string prefix = key.substr(0, std::min<size_t>(cut, key.size()));
  const std::string successor = keys::PrefixSuccessor(prefix);
  if (successor.empty()) {
    FUZZ_CHECK(std::all_of(prefix.begin(), prefix.end(),
                           [](char c) { return static_cast<uint8_t>(c) == 0xff; }));
  } else {
    FUZZ_CHECK(prefix < successor);
    FUZZ_CHECK(key < successor);
    FUZZ_CHECK(key + "\xff\xff" < successor);
  }
}

void CheckPayloadKey(uint32_t month, uint64_t label, std::string_view raw) {
  uint32_t parsed_month = 0;
  uint64_t parsed_label = 0;
  FUZZ_CHECK(keys::ParsePayloadKey(keys::PayloadKey(month, label), &parsed_month, &parsed_label));
  FUZZ_CHECK(parsed_month == month && parsed_label == label);
  if (keys::ParsePayloadKey(raw, &parsed_month, &parsed_label)) {
    FUZZ_CHECK(keys::PayloadKey(parsed_month, parsed_label) == raw);
  }
}

void CheckPurgeAndDeletedKeys(int64_t at_a, int64_t at_b, uint8_t kind_byte, const Uuid& id,
                              uint32_t month, uint64_t label, std::string_view raw) {
  const auto kind = static_cast<keys::PurgeKind>(1 + kind_byte % 3);
  const std::string key = keys::PurgeKey(at_a, kind, id);
  Timestamp at = 0;
  keys::PurgeKind parsed_kind{};
  Uuid parsed_id;
  FUZZ_CHECK(keys::ParsePurgeKey(key, &at, &parsed_kind, &parsed_id));
  FUZZ_CHECK(at == at_a && parsed_kind == kind && parsed_id == id);
  FUZZ_CHECK(key.starts_with(keys::PurgeQueuePrefix()));
  if (at_a != at_b) {
    // The smallest kind and id at at_b: the order must come from deleted_at alone.
    FUZZ_CHECK((key < keys::PurgeKey(at_b, keys::PurgeKind::kConversation, Uuid())) ==
               (at_a < at_b));
  }
  if (keys::ParsePurgeKey(raw, &at, &parsed_kind, &parsed_id)) {
    FUZZ_CHECK(keys::PurgeKey(at, parsed_kind, parsed_id) == raw);
  }
  const std::string deleted = keys::DeletedPayloadKey(month, label);
  FUZZ_CHECK(deleted.starts_with(keys::DeletedPayloadPrefix(month)));
  FUZZ_CHECK(deleted != keys::PayloadKey(month, label));
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mnemo::fuzz;
  FuzzInput input(data, size);
  std::vector<Kind> schema(1 + input.Byte() % kMaxComponents);
  for (Kind& kind : schema)
    kind = static_cast<Kind>(input.Byte() % static_cast<uint8_t>(Kind::kCount));

  std::vector<Value> a, b;
  for (Kind kind : schema) a.push_back(ReadValue(kind, input));
  const size_t shared = input.Byte() % (schema.size() + 1);  // B copies A's first components
  for (size_t i = 0; i < schema.size(); ++i)
    b.push_back(i < shared ? a[i] : ReadValue(schema[i], input));
  const uint8_t cut = input.Byte();
  const uint32_t month = static_cast<uint32_t>(input.U64());
  const uint64_t label = input.U64();
  const int64_t deleted_at_a = input.I64();
  const int64_t deleted_at_b = input.I64();
  const uint8_t purge_kind = input.Byte();
  const mnemo::Uuid purge_id = ReadUuid(input);

  const std::string key_a = Encode(schema, a);
  const std::string key_b = Encode(schema, b);
  CheckRoundTrip(schema, a, key_a);
  CheckRoundTrip(schema, b, key_b);
  CheckOrder(schema, a, b, key_a, key_b);
  CheckCanonical(schema, input.Rest());
  CheckHexAndSuccessor(key_a, input.Rest(), cut);
  CheckPayloadKey(month, label, input.Rest());
  CheckPurgeAndDeletedKeys(deleted_at_a, deleted_at_b, purge_kind, purge_id, month, label,
                           input.Rest());
  return 0;
}
