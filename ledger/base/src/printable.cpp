#include "pedigree/base/printable.h"

#include <cstdint>

namespace pedigree {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendByteEscape(std::string& out, uint8_t b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0xf];
}

void AppendCodePointEscape(std::string& out, uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xf];
}

bool Hidden(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

// The length of the well-formed UTF-8 sequence at `s` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF) and its code point, or 0 when it is not one.
size_t DecodeUtf8(std::string_view s, uint32_t& cp) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xc0) == 0x80; };
  const uint8_t lead = b(0);
  if (lead >= 0xc2 && lead <= 0xdf && cont(1)) {
    cp = ((lead & 0x1fu) << 6) | (b(1) & 0x3fu);
    return 2;
  }
  if (lead >= 0xe0 && lead <= 0xef && cont(1) && cont(2)) {
    cp = ((lead & 0x0fu) << 12) | ((b(1) & 0x3fu) << 6) | (b(2) & 0x3fu);
    return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    cp = ((lead & 0x07u) << 18) | ((b(1) & 0x3fu) << 12) | ((b(2) & 0x3fu) << 6) | (b(3) & 0x3fu);
    return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t c = static_cast<uint8_t>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        AppendByteEscape(out, c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(text.substr(i), cp);
    if (n == 0) {
      AppendByteEscape(out, c);
      ++i;
    } else {
      if (Hidden(cp)) {
        AppendCodePointEscape(out, cp);
      } else {
        out.append(text.substr(i, n));
      }
      i += n;
    }
  }
  return out;
}

}  // namespace pedigree
