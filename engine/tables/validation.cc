#include "tables/validation.h"

#include <array>
#include <string>

#include <nlohmann/json.hpp>

#include "common/utf8.h"
#include "mnemo/records.h"

namespace mnemo::tables {
namespace {

constexpr std::array<std::string_view, 5> kFileTypes = {"pdf", "txt", "docx", "md", "html"};

// Maximum bracket nesting outside of strings; stops counting past kMaxJsonDepth.
int NestingDepth(std::string_view json) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > kMaxJsonDepth) return max_depth;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

enum class JsonKind { kAny, kObject, kArray };

Status ValidateJson(std::string_view field, std::string_view json, JsonKind kind) {
  if (NestingDepth(json) > kMaxJsonDepth) {
    return Status::ValidationError(
        field, "JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::ValidationError(field, "is not valid JSON");
  if (kind == JsonKind::kObject && !parsed.is_object()) {
    return Status::ValidationError(field, "must be a JSON object");
  }
  if (kind == JsonKind::kArray && !parsed.is_array()) {
    return Status::ValidationError(field, "must be a JSON array");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateUserId(std::string_view user_id) {
  if (user_id.empty()) return Status::ValidationError("user_id", "is required");
  if (user_id.size() > kMaxUserIdBytes) {
    return Status::ValidationError("user_id", "must be at most 255 bytes");
  }
  if (!utf8::IsValid(user_id)) return Status::ValidationError("user_id", "is not valid UTF-8");
  return Status::Ok();
}

Status ValidateRequiredText(std::string_view field, std::string_view value, size_t max_chars) {
  if (!utf8::IsValid(value)) return Status::ValidationError(field, "is not valid UTF-8");
  if (utf8::IsBlank(value)) return Status::ValidationError(field, "must not be empty or blank");
  if (utf8::CountCodePoints(value) > max_chars) {
    return Status::ValidationError(field,
                                   "must be at most " + std::to_string(max_chars) + " characters");
  }
  return Status::Ok();
}

Status ValidateText(std::string_view field, std::string_view value) {
  if (!utf8::IsValid(value)) return Status::ValidationError(field, "is not valid UTF-8");
  return Status::Ok();
}

Status ValidateJsonObject(std::string_view field, std::string_view json) {
  return ValidateJson(field, json, JsonKind::kObject);
}

Status ValidateJsonArray(std::string_view field, std::string_view json) {
  return ValidateJson(field, json, JsonKind::kArray);
}

Status ValidateJsonValue(std::string_view field, std::string_view json) {
  return ValidateJson(field, json, JsonKind::kAny);
}

Status ValidateFileType(std::string_view file_type) {
  if (FileTypeCode(file_type)) return Status::Ok();
  return Status::ValidationError("file_type", "must be one of pdf, txt, docx, md, html");
}

std::optional<uint8_t> FileTypeCode(std::string_view file_type) {
  for (size_t i = 0; i < kFileTypes.size(); ++i) {
    if (file_type == kFileTypes[i]) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

std::string_view FileTypeName(uint8_t code) {
  return code < kFileTypes.size() ? kFileTypes[code] : "";
}

Status ValidatePaging(int64_t skip, int64_t limit, int64_t max_limit) {
  if (skip < 0) return Status::ValidationError("skip", "must be >= 0");
  if (limit < 1 || limit > max_limit) {
    return Status::ValidationError("limit", "must be in 1.." + std::to_string(max_limit));
  }
  return Status::Ok();
}

}  // namespace mnemo::tables
