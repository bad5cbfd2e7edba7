// Field rules of SPEC §2.  Each check returns OK or a VALIDATION_ERROR naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mnemo/base/limits.h"
#include "mnemo/status.h"

namespace mnemo::tables {

Status ValidateUserId(std::string_view user_id);
// Valid UTF-8, 1..max_chars code points, not only white space.
Status ValidateRequiredText(std::string_view field, std::string_view value, size_t max_chars);
// Valid UTF-8 (any length, may be empty).
Status ValidateText(std::string_view field, std::string_view value);
Status ValidateJsonObject(std::string_view field, std::string_view json);
Status ValidateJsonArray(std::string_view field, std::string_view json);
Status ValidateJsonValue(std::string_view field, std::string_view json);
Status ValidateFileType(std::string_view file_type);
// The file types as small codes (for compact in-memory state): nullopt for an invalid type;
// FileTypeName of an unknown code is "".
std::optional<uint8_t> FileTypeCode(std::string_view file_type);
std::string_view FileTypeName(uint8_t code);
// skip >= 0 and 1 <= limit <= max_limit.
Status ValidatePaging(int64_t skip, int64_t limit, int64_t max_limit);

}  // namespace mnemo::tables
