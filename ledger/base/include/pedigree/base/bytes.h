// Byte strings, SHA-256 and the text encodings our formats use (hex, base64).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree {

using Bytes = std::vector<uint8_t>;
// A SHA-256 digest. Value type; compare with ==.
using Hash = std::array<uint8_t, 32>;

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsText(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// SHA-256 of the concatenation of the parts (no separators).
Hash Sha256(std::span<const uint8_t> data);
Hash Sha256(std::string_view data);

// Lower-case hex.
std::string ToHex(std::span<const uint8_t> data);
// Accepts upper or lower case; rejects odd length and non-hex characters.
[[nodiscard]] Result<Bytes> FromHex(std::string_view hex);
[[nodiscard]] Result<Hash> HashFromHex(std::string_view hex);

// Standard base64 (RFC 4648 §4) with padding.
std::string ToBase64(std::span<const uint8_t> data);
// Strict: standard alphabet, padding required, no whitespace, canonical trailing bits.
[[nodiscard]] Result<Bytes> FromBase64(std::string_view text);
[[nodiscard]] Result<Hash> HashFromBase64(std::string_view text);

// Fills `out` from the operating system's cryptographic RNG (OpenSSL RAND_bytes).
void RandomBytes(std::span<uint8_t> out);

}  // namespace pedigree
