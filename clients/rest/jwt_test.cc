// Tests for HS256 JWT verification (jwt.h) and base64url.
#include "jwt.h"

#include <gtest/gtest.h>

#include <vector>

#include "base64url.h"
#include "mnemo/base/sha256.h"

namespace mnemo::rest {
namespace {

constexpr int64_t kNow = 1'700'000'000;

TEST(Base64Url, RoundTripsAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    const auto decoded = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("a").has_value());       // impossible length
  EXPECT_FALSE(Base64UrlDecode("ab+/").has_value());    // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("ab c").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());      // non-zero trailing bits
}

TEST(Jwt, AcceptsAValidToken) {
  const std::string token = SignJwtHs256(R"({"sub":"alice","exp":1700000100})", "s3cret");
  const auto result = VerifyJwtHs256(token, "s3cret", kNow);
  ASSERT_TRUE(std::holds_alternative<JwtClaims>(result));
  EXPECT_EQ(std::get<JwtClaims>(result).subject, "alice");
  EXPECT_EQ(std::get<JwtClaims>(result).expires_at, 1700000100);
}

TEST(Jwt, MatchesAnIndependentlySignedToken) {
  // Signed with Python: hmac.new(b"secret", header + b"." + payload, hashlib.sha256).
  const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  const std::string payload = Base64UrlEncode(R"({"sub":"bob","exp":4102444800})");
  const std::string mac = HmacSha256("secret", header + "." + payload);
  const std::string token = header + "." + payload + "." + Base64UrlEncode(mac);
  EXPECT_EQ(token, SignJwtHs256(R"({"sub":"bob","exp":4102444800})", "secret"));
  EXPECT_TRUE(std::holds_alternative<JwtClaims>(VerifyJwtHs256(token, "secret", kNow)));
}

std::string Reason(const std::variant<JwtClaims, JwtRejection>& r) {
  return std::holds_alternative<JwtRejection>(r) ? std::get<JwtRejection>(r).reason : "accepted";
}

TEST(Jwt, RefusesForgedExpiredAndMalformedTokens) {
  const std::string good = SignJwtHs256(R"({"sub":"alice","exp":1700000100})", "s3cret");
  EXPECT_EQ(Reason(VerifyJwtHs256(good, "other", kNow)), "invalid token signature");
  EXPECT_EQ(Reason(VerifyJwtHs256(good, "s3cret", 1700000100)), "token expired");
  EXPECT_EQ(Reason(VerifyJwtHs256(SignJwtHs256(R"({"sub":"alice"})", "s3cret"), "s3cret", kNow)),
            "token has no \"exp\"");
  EXPECT_EQ(Reason(VerifyJwtHs256(SignJwtHs256(R"({"sub":"","exp":1700000100})", "s3cret"), "s3cret", kNow)),
            "token has no valid \"sub\"");
  EXPECT_EQ(Reason(VerifyJwtHs256(SignJwtHs256(R"({"sub":7,"exp":1700000100})", "s3cret"), "s3cret", kNow)),
            "token has no valid \"sub\"");
  EXPECT_EQ(Reason(VerifyJwtHs256(SignJwtHs256(R"({"sub":"a","exp":1700000100,"nbf":1700000050})", "s3cret"),
                                  "s3cret", kNow)),
            "token not yet valid");
  EXPECT_EQ(Reason(VerifyJwtHs256("", "s3cret", kNow)), "malformed token");
  EXPECT_EQ(Reason(VerifyJwtHs256("a.b", "s3cret", kNow)), "malformed token");
  EXPECT_EQ(Reason(VerifyJwtHs256("a.b.c.d", "s3cret", kNow)), "malformed token");
  EXPECT_EQ(Reason(VerifyJwtHs256("!!.b.c", "s3cret", kNow)), "malformed token header");

  // A tampered payload keeps the old signature.
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.find('.', dot1 + 1);
  const std::string tampered = good.substr(0, dot1 + 1) +
                               Base64UrlEncode(R"({"sub":"mallory","exp":1700000100})") + good.substr(dot2);
  EXPECT_EQ(Reason(VerifyJwtHs256(tampered, "s3cret", kNow)), "invalid token signature");

  // alg "none" with an empty signature.
  const std::string none = Base64UrlEncode(R"({"alg":"none"})") + "." +
                           Base64UrlEncode(R"({"sub":"alice","exp":1700000100})") + ".";
  EXPECT_EQ(Reason(VerifyJwtHs256(none, "s3cret", kNow)), "unsupported token algorithm (HS256 required)");
}

}  // namespace
}  // namespace mnemo::rest
