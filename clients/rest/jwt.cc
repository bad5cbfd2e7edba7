// HS256 JWT verification and signing on HmacSha256 and nlohmann-json.
#include "jwt.h"

#include <nlohmann/json.hpp>

#include "base64url.h"
#include "mnemo/base/limits.h"
#include "mnemo/base/sha256.h"

namespace mnemo::rest {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

JwtRejection Reject(std::string reason) { return JwtRejection{std::move(reason)}; }

// Parses a base64url segment holding a JSON object; discarded (null) json on failure.
nlohmann::json DecodeJsonSegment(std::string_view segment) {
  const auto bytes = Base64UrlDecode(segment);
  if (!bytes) return nullptr;
  nlohmann::json value = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return nullptr;
  return value;
}

}  // namespace

std::variant<JwtClaims, JwtRejection> VerifyJwtHs256(std::string_view token,
                                                     std::string_view secret,
                                                     int64_t now_seconds) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Reject("malformed token");
  const size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Reject("malformed token");
  const size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Reject("malformed token");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);

  const nlohmann::json header = DecodeJsonSegment(header_b64);
  if (header.is_null()) return Reject("malformed token header");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return Reject("unsupported token algorithm (HS256 required)");
  }

  const auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return Reject("malformed token signature");
  const std::string expected = HmacSha256(secret, token.substr(0, dot2));
  if (!ConstantTimeEquals(*signature, expected)) return Reject("invalid token signature");

  const nlohmann::json payload = DecodeJsonSegment(payload_b64);
  if (payload.is_null()) return Reject("malformed token payload");
  const auto sub = payload.find("sub");
  if (sub == payload.end() || !sub->is_string() || sub->get<std::string>().empty() ||
      sub->get<std::string>().size() > kMaxUserIdBytes) {
    return Reject("token has no valid \"sub\"");
  }
  const auto exp = payload.find("exp");
  if (exp == payload.end() || !exp->is_number()) return Reject("token has no \"exp\"");
  const double exp_value = exp->get<double>();
  if (exp_value <= static_cast<double>(now_seconds)) return Reject("token expired");
  const auto nbf = payload.find("nbf");
  if (nbf != payload.end()) {
    if (!nbf->is_number()) return Reject("token has an invalid \"nbf\"");
    if (nbf->get<double>() > static_cast<double>(now_seconds)) return Reject("token not yet valid");
  }
  // exp is in the future here; clamp absurd values so the cast stays defined.
  const int64_t expires_at = exp_value > 1e15 ? int64_t{1'000'000'000'000'000}
                                              : static_cast<int64_t>(exp_value);
  return JwtClaims{sub->get<std::string>(), expires_at};
}

std::string SignJwtHs256(std::string_view payload_json, std::string_view secret) {
  std::string signing_input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  signing_input += '.';
  signing_input += Base64UrlEncode(payload_json);
  const std::string mac = HmacSha256(secret, signing_input);
  return signing_input + "." + Base64UrlEncode(mac);
}

}  // namespace mnemo::rest
