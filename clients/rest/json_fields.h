// Typed, validating access to a JSON request body.  Every accessor names the field it reads by
// its path from the body root ("title", "filters.created_from", "chunks[2].embedding"), and a
// wrong type or value throws FieldError with that path; request_mapper.cc turns it into a 422.
// FieldError never leaves the request mapper.
//
// Null and absent are the same for optional fields (Pydantic's Optional[...] = None).
//
// Thread-safety: JsonObject/JsonArray are immutable views sharing the parsed document.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mnemo/client/types.h"

namespace mnemo::rest {

class FieldError : public std::runtime_error {
 public:
  FieldError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

class JsonArray;

class JsonObject {
 public:
  // Parses a request body that must be one JSON object.  Throws FieldError("body") otherwise.
  static JsonObject ParseBody(std::string_view text);

  // The path of `key` inside this object, e.g. "filters.metadata".
  std::string Path(std::string_view key) const;
  // True when `key` is present with the value null (absent and null read alike elsewhere).
  bool IsNull(std::string_view key) const;
  // True when `key` is present (null included).
  bool Has(std::string_view key) const { return node_->contains(key); }

  std::string RequiredString(std::string_view key) const;
  std::optional<std::string> OptionalString(std::string_view key) const;
  std::optional<mnemo::client::Uuid> OptionalUuid(std::string_view key) const;
  // An integer (no fraction) in [min, max].
  std::optional<int64_t> OptionalInt(std::string_view key, int64_t min, int64_t max) const;
  // A finite number.
  std::optional<double> OptionalNumber(std::string_view key) const;
  // The compact JSON text of an object / array / any non-null value.
  std::optional<std::string> OptionalObjectText(std::string_view key) const;
  std::optional<std::string> OptionalArrayText(std::string_view key) const;
  std::optional<std::string> OptionalJsonText(std::string_view key) const;
  std::optional<JsonObject> OptionalObject(std::string_view key) const;
  std::optional<JsonArray> OptionalArray(std::string_view key) const;
  // A non-empty array of finite float32 numbers; of length `dimension` unless it is 0.
  std::vector<float> RequiredVector(std::string_view key, uint32_t dimension) const;

  const nlohmann::json& value() const { return *node_; }
  auto items() const { return node_->items(); }

 private:
  friend class JsonArray;
  JsonObject(std::shared_ptr<const nlohmann::json> root, const nlohmann::json* node,
             std::string path)
      : root_(std::move(root)), node_(node), path_(std::move(path)) {}
  // The member `key`, or null when absent or JSON null.
  const nlohmann::json* Find(std::string_view key) const;

  std::shared_ptr<const nlohmann::json> root_;  // keeps node_ alive
  const nlohmann::json* node_;                  // an object inside *root_
  std::string path_;                            // "" for the body root
};

class JsonArray {
 public:
  size_t size() const { return node_->size(); }
  // Elements of the required kind; throw FieldError naming "path[i]".
  JsonObject ObjectAt(size_t i) const;
  std::string StringAt(size_t i) const;
  mnemo::client::Uuid UuidAt(size_t i) const;

 private:
  friend class JsonObject;
  JsonArray(std::shared_ptr<const nlohmann::json> root, const nlohmann::json* node,
            std::string path)
      : root_(std::move(root)), node_(node), path_(std::move(path)) {}
  std::string PathAt(size_t i) const { return path_ + "[" + std::to_string(i) + "]"; }

  std::shared_ptr<const nlohmann::json> root_;
  const nlohmann::json* node_;
  std::string path_;
};

}  // namespace mnemo::rest
