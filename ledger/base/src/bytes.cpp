#include "pedigree/base/bytes.h"

// The low-level SHA-256 interface is deprecated in OpenSSL 3.0 but SHA256() fetches the
// algorithm on every call (≈3 µs against ≈0.2 µs); see merkle.cpp.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>

namespace pedigree {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Hash Sha256(std::span<const uint8_t> data) {
  Hash out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  if (!data.empty()) SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

std::string ToHex(std::span<const uint8_t> data) {
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 0x0f]);
  }
  return out;
}

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Fail("encoding.hex", "hex string has odd length " + std::to_string(hex.size()));
  }
  Bytes out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? 2 * i : 2 * i + 1;
      return Fail(Error("encoding.hex", std::string("invalid hex character '") + hex[bad] + "'")
                      .at_offset(bad));
    }
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<Hash> HashFromHex(std::string_view hex) {
  auto bytes = FromHex(hex);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->size() != 32) {
    return Fail("encoding.hash_length",
                "hash must be 32 bytes, got " + std::to_string(bytes->size()));
  }
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

std::string ToBase64(std::span<const uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
    out.push_back(kBase64Alphabet[v >> 18 & 63]);
    out.push_back(kBase64Alphabet[v >> 12 & 63]);
    out.push_back(kBase64Alphabet[v >> 6 & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  size_t rest = data.size() - i;
  if (rest == 1) {
    uint32_t v = data[i] << 16;
    out.push_back(kBase64Alphabet[v >> 18 & 63]);
    out.push_back(kBase64Alphabet[v >> 12 & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t v = data[i] << 16 | data[i + 1] << 8;
    out.push_back(kBase64Alphabet[v >> 18 & 63]);
    out.push_back(kBase64Alphabet[v >> 12 & 63]);
    out.push_back(kBase64Alphabet[v >> 6 & 63]);
    out.push_back('=');
  }
  return out;
}

Result<Bytes> FromBase64(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Fail("encoding.base64",
                "base64 length " + std::to_string(text.size()) + " is not a multiple of 4");
  }
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      bool last_group = i + 4 == text.size();
      if (c == '=' && last_group && j >= 2 && (j == 3 || text[i + 3] == '=')) {
        v[j] = 0;
        ++pad;
        continue;
      }
      v[j] = pad ? -1 : Base64Value(c);
      if (v[j] < 0) {
        return Fail(Error("encoding.base64", std::string("invalid base64 character '") + c + "'")
                        .at_offset(i + j));
      }
    }
    uint32_t n = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
    out.push_back(static_cast<uint8_t>(n >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(n >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<uint8_t>(n & 0xff));
    // Non-zero bits under the padding would let two texts decode to the same bytes.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) {
      return Fail(
          Error("encoding.base64", "non-canonical base64: padding bits are not zero").at_offset(i));
    }
  }
  return out;
}

Result<Hash> HashFromBase64(std::string_view text) {
  auto bytes = FromBase64(text);
  if (!bytes) return std::unexpected(bytes.error());
  if (bytes->size() != 32) {
    return Fail("encoding.hash_length",
                "hash must be 32 bytes, got " + std::to_string(bytes->size()));
  }
  Hash h;
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

void RandomBytes(std::span<uint8_t> out) {
  // RAND_bytes only fails when the OS entropy source is broken; nothing sane can
  // continue without randomness for keys and salts.
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

}  // namespace pedigree
