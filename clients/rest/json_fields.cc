// Validating JSON body accessors.
#include "json_fields.h"

#include <cmath>
#include <limits>

namespace mnemo::rest {
namespace {

const char* TypeName(const nlohmann::json& v) { return v.type_name(); }

std::string Expected(std::string_view what, const nlohmann::json& got) {
  return "must be " + std::string(what) + ", got " + TypeName(got);
}

}  // namespace

JsonObject JsonObject::ParseBody(std::string_view text) {
  if (text.empty()) throw FieldError("body", "a JSON object body is required");
  auto root = std::make_shared<nlohmann::json>(
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false));
  if (root->is_discarded()) throw FieldError("body", "the body is not valid JSON");
  if (!root->is_object()) throw FieldError("body", Expected("a JSON object", *root));
  const nlohmann::json* node = root.get();
  return JsonObject(std::move(root), node, "");
}

std::string JsonObject::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool JsonObject::IsNull(std::string_view key) const {
  const auto it = node_->find(key);
  return it != node_->end() && it->is_null();
}

const nlohmann::json* JsonObject::Find(std::string_view key) const {
  const auto it = node_->find(key);
  if (it == node_->end() || it->is_null()) return nullptr;
  return &*it;
}

std::string JsonObject::RequiredString(std::string_view key) const {
  auto value = OptionalString(key);
  if (!value) throw FieldError(Path(key), "is required");
  return std::move(*value);
}

std::optional<std::string> JsonObject::OptionalString(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) throw FieldError(Path(key), Expected("a string", *v));
  return v->get<std::string>();
}

std::optional<mnemo::client::Uuid> JsonObject::OptionalUuid(std::string_view key) const {
  const auto text = OptionalString(key);
  if (!text) return std::nullopt;
  const auto id = mnemo::client::Uuid::Parse(*text);
  if (!id) throw FieldError(Path(key), "must be a UUID");
  return id;
}

std::optional<int64_t> JsonObject::OptionalInt(std::string_view key, int64_t min,
                                               int64_t max) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) throw FieldError(Path(key), Expected("an integer", *v));
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    throw FieldError(Path(key), "must be at most " + std::to_string(max));
  }
  const int64_t value = v->get<int64_t>();
  if (value < min || value > max) {
    throw FieldError(Path(key),
                     "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

std::optional<double> JsonObject::OptionalNumber(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) throw FieldError(Path(key), Expected("a number", *v));
  const double value = v->get<double>();
  if (!std::isfinite(value)) throw FieldError(Path(key), "must be finite");
  return value;
}

std::optional<std::string> JsonObject::OptionalObjectText(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) throw FieldError(Path(key), Expected("a JSON object", *v));
  return v->dump();
}

std::optional<std::string> JsonObject::OptionalArrayText(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) throw FieldError(Path(key), Expected("a JSON array", *v));
  return v->dump();
}

std::optional<std::string> JsonObject::OptionalJsonText(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  return v->dump();
}

std::optional<JsonObject> JsonObject::OptionalObject(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) throw FieldError(Path(key), Expected("a JSON object", *v));
  return JsonObject(root_, v, Path(key));
}

std::optional<JsonArray> JsonObject::OptionalArray(std::string_view key) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) throw FieldError(Path(key), Expected("a JSON array", *v));
  return JsonArray(root_, v, Path(key));
}

std::vector<float> JsonObject::RequiredVector(std::string_view key, uint32_t dimension) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) throw FieldError(Path(key), "is required");
  if (!v->is_array()) throw FieldError(Path(key), Expected("an array of numbers", *v));
  if (v->empty()) throw FieldError(Path(key), "must not be empty");
  if (dimension != 0 && v->size() != dimension) {
    throw FieldError(Path(key), "must have " + std::to_string(dimension) + " numbers, got " +
                                    std::to_string(v->size()));
  }
  std::vector<float> out;
  out.reserve(v->size());
  for (const nlohmann::json& x : *v) {
    if (!x.is_number()) throw FieldError(Path(key), Expected("an array of numbers", x));
    const double d = x.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      throw FieldError(Path(key), "must hold finite float32 numbers");
    }
    out.push_back(static_cast<float>(d));
  }
  return out;
}

JsonObject JsonArray::ObjectAt(size_t i) const {
  const nlohmann::json& v = (*node_)[i];
  if (!v.is_object()) throw FieldError(PathAt(i), Expected("a JSON object", v));
  return JsonObject(root_, &v, PathAt(i));
}

std::string JsonArray::StringAt(size_t i) const {
  const nlohmann::json& v = (*node_)[i];
  if (!v.is_string()) throw FieldError(PathAt(i), Expected("a string", v));
  return v.get<std::string>();
}

mnemo::client::Uuid JsonArray::UuidAt(size_t i) const {
  const auto id = mnemo::client::Uuid::Parse(StringAt(i));
  if (!id) throw FieldError(PathAt(i), "must be a UUID");
  return *id;
}

}  // namespace mnemo::rest
