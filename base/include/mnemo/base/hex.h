// Lower-case hexadecimal text of byte strings.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace mnemo {

// The digit of each nibble value 0..15.
inline constexpr char kLowerHexDigits[] = "0123456789abcdef";

// 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for any other character.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Two lower-case hex digits per byte.
std::string HexEncode(std::string_view bytes);
// The bytes of `hex` (either case) into *bytes.  False, with *bytes unspecified, when the length
// is odd or a character is not a hex digit.
bool HexDecode(std::string_view hex, std::string* bytes);
// True when every character is one of 0-9 a-f (the empty string included).
bool IsLowerHex(std::string_view text);

}  // namespace mnemo
