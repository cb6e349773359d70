#include "pedigree/log/merkle.h"

// The low-level SHA-256 interface is deprecated in OpenSSL 3.0 but it is the fast one:
// SHA256() and EVP_Q_digest fetch the algorithm on every call (≈3 µs here against
// ≈0.2 µs), and these functions run for every leaf and every tree node.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstring>

namespace pedigree::log {

Hash LeafHash(std::span<const uint8_t> entry) {
  Hash out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  const uint8_t prefix = kLeafHashPrefix;
  SHA256_Update(&ctx, &prefix, 1);
  if (!entry.empty()) SHA256_Update(&ctx, entry.data(), entry.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buffer[1 + 2 * sizeof(Hash)];
  buffer[0] = kNodeHashPrefix;
  std::memcpy(buffer + 1, left.data(), left.size());
  std::memcpy(buffer + 1 + left.size(), right.data(), right.size());
  Hash out;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, buffer, sizeof(buffer));
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash EmptyRoot() {
  // echo -n | sha256sum
  static constexpr Hash kEmpty = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
                                  0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
                                  0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  return kEmpty;
}

}  // namespace pedigree::log
