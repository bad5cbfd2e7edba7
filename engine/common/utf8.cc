#include "common/utf8.h"

#include <cstdint>

namespace mnemo::utf8 {
namespace {

// Decodes one code point at `pos`; returns its length, or 0 if malformed.
size_t Decode(std::string_view text, size_t pos, char32_t* out) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(pos);
  size_t length;
  char32_t cp;
  if (lead < 0x80) {
    *out = lead;
    return 1;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2;
    cp = lead & 0x1f;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    cp = lead & 0x0f;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    const uint8_t cont = byte(pos + i);
    if ((cont & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cont & 0x3f);
  }
  static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  *out = cp;
  return length;
}

void Encode(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

char32_t SimpleLower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xc0) return cp;
  // Latin-1: À..Þ except ×
  if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7) return cp + 32;
  // Latin Extended-A: pairs (even upper, odd lower) in 0100..0137 and 014A..0177; 0139..0148
  // and 0179..017E have odd upper.
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14a && cp <= 0x177)) return cp | 1;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e)) return (cp & 1) ? cp + 1 : cp;
  if (cp == 0x178) return 0xff;
  // Greek
  if (cp == 0x386) return 0x3ac;
  if (cp >= 0x388 && cp <= 0x38a) return cp + 37;
  if (cp == 0x38c) return 0x3cc;
  if (cp == 0x38e || cp == 0x38f) return cp + 63;
  if (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) return cp + 32;
  if (cp == 0x3c2) return 0x3c3;  // final sigma folds like sigma
  // Cyrillic
  if (cp >= 0x400 && cp <= 0x40f) return cp + 80;
  if (cp >= 0x410 && cp <= 0x42f) return cp + 32;
  if (cp >= 0x460 && cp <= 0x4ff && cp != 0x4c0 && !(cp >= 0x482 && cp <= 0x489)) {
    if (cp >= 0x4c1 && cp <= 0x4ce) return (cp & 1) ? cp + 1 : cp;
    return cp | 1;
  }
  // Fullwidth Latin
  if (cp >= 0xff21 && cp <= 0xff3a) return cp + 32;
  return cp;
}

bool IsSpace(char32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

}  // namespace

bool IsValid(std::string_view text) {
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Decode(text, pos, &cp);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

size_t CountCodePoints(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<uint8_t>(c) & 0xc0) != 0x80;
  return count;
}

bool IsBlank(std::string_view text) {
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Decode(text, pos, &cp);
    if (length == 0 || !IsSpace(cp)) return false;
    pos += length;
  }
  return true;
}

std::string FoldCase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Decode(text, pos, &cp);
    if (length == 0) {  // not reachable for validated input; keep the byte as is
      out.push_back(text[pos++]);
      continue;
    }
    Encode(SimpleLower(cp), &out);
    pos += length;
  }
  return out;
}

bool ContainsFolded(std::string_view folded_haystack, std::string_view folded_needle) {
  // Both are valid UTF-8, so a byte-level match always starts and ends on character boundaries.
  return folded_haystack.find(folded_needle) != std::string_view::npos;
}

}  // namespace mnemo::utf8
