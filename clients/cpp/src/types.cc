#include <chrono>
#include <random>

#include "mnemo/client/batch.h"
#include "mnemo/client/error.h"
#include "mnemo/client/types.h"

namespace mnemo::client {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

constexpr size_t kUuidTextLength = 36;

}  // namespace

// ---- Uuid -------------------------------------------------------------------------------------

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() != kUuidTextLength) return std::nullopt;
  uint64_t halves[2] = {0, 0};
  int nibbles = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsDashPosition(i)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int value = HexValue(text[i]);
    if (value < 0) return std::nullopt;
    uint64_t& half = halves[nibbles / 16];
    half = (half << 4) | static_cast<uint64_t>(value);
    ++nibbles;
  }
  return Uuid(halves[0], halves[1]);
}

Uuid Uuid::Generate() {
  thread_local std::mt19937_64 rng([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto millis =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  const uint64_t random_hi = rng();
  const uint64_t random_lo = rng();
  // Layout (RFC 9562 §5.7): 48-bit unix_ts_ms | ver 7 (4 bits) | 12 random bits ||
  // variant 0b10 (2 bits) | 62 random bits.
  const uint64_t hi = ((millis & 0xffffffffffffULL) << 16) | (0x7ULL << 12) | (random_hi & 0xfff);
  const uint64_t lo = (0x2ULL << 62) | (random_lo & 0x3fffffffffffffffULL);
  return Uuid(hi, lo);
}

std::string Uuid::ToString() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(kUuidTextLength);
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) out.push_back('-');
    const uint64_t half = nibble < 16 ? hi_ : lo_;
    const int shift = 60 - 4 * (nibble % 16);
    out.push_back(kDigits[(half >> shift) & 0xf]);
  }
  return out;
}

// ---- roles ------------------------------------------------------------------------------------

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kSystem: return "system";
    case Role::kTool: return "tool";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kUser, Role::kAssistant, Role::kSystem, Role::kTool}) {
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

// ---- errors -----------------------------------------------------------------------------------

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kValidationError: return "VALIDATION_ERROR";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kDuplicateRecord: return "DUPLICATE_RECORD";
    case Code::kConflict: return "CONFLICT";
    case Code::kTransactionError: return "TRANSACTION_ERROR";
    case Code::kAuthenticationError: return "AUTHENTICATION_ERROR";
    case Code::kAuthorizationError: return "AUTHORIZATION_ERROR";
    case Code::kRateLimited: return "RATE_LIMITED";
    case Code::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case Code::kUnavailable: return "UNAVAILABLE";
    case Code::kInternalError: return "INTERNAL_ERROR";
  }
  return "UNKNOWN";
}

std::string Error::ToString() const {
  std::string out(CodeName(code));
  if (!message.empty()) out += ": " + message;
  if (!field.empty()) out += " [" + field + "]";
  return out;
}

// ---- Batch ------------------------------------------------------------------------------------

Batch& Batch::CreateConversation(NewConversation conversation) {
  ops_.emplace_back(CreateConversationOp{std::move(conversation)});
  return *this;
}
Batch& Batch::UpsertConversation(NewConversation conversation) {
  ops_.emplace_back(UpsertConversationOp{std::move(conversation)});
  return *this;
}
Batch& Batch::AppendMessage(NewMessage message) {
  ops_.emplace_back(AppendMessageOp{std::move(message)});
  return *this;
}
Batch& Batch::UpsertMessage(NewMessage message) {
  ops_.emplace_back(UpsertMessageOp{std::move(message)});
  return *this;
}
Batch& Batch::CreateDocument(NewDocument document) {
  ops_.emplace_back(CreateDocumentOp{std::move(document)});
  return *this;
}
Batch& Batch::AddChunk(NewChunk chunk) {
  ops_.emplace_back(AddChunkOp{std::move(chunk)});
  return *this;
}

}  // namespace mnemo::client
