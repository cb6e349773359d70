#include "pedigree/ledger/merkle.h"

#include <openssl/sha.h>

#include <cstring>
#include <vector>

namespace pedigree::ledger {

Hash LeafHash(std::span<const uint8_t> entry) {
  Hash out;
  constexpr size_t kStackLimit = 4096;
  if (entry.size() < kStackLimit) {
    uint8_t buffer[kStackLimit];
    buffer[0] = kLeafHashPrefix;
    if (!entry.empty()) std::memcpy(buffer + 1, entry.data(), entry.size());
    SHA256(buffer, entry.size() + 1, out.data());
    return out;
  }
  std::vector<uint8_t> buffer(entry.size() + 1);
  buffer[0] = kLeafHashPrefix;
  std::memcpy(buffer.data() + 1, entry.data(), entry.size());
  SHA256(buffer.data(), buffer.size(), out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  uint8_t buffer[1 + 2 * sizeof(Hash)];
  buffer[0] = kNodeHashPrefix;
  std::memcpy(buffer + 1, left.data(), left.size());
  std::memcpy(buffer + 1 + left.size(), right.data(), right.size());
  Hash out;
  SHA256(buffer, sizeof(buffer), out.data());
  return out;
}

Hash EmptyRoot() {
  Hash out;
  static const uint8_t kNothing = 0;
  SHA256(&kNothing, 0, out.data());
  return out;
}

}  // namespace pedigree::ledger
