// RFC 6962 / RFC 9162 §2.1 Merkle tree hashing: the leaf and interior node hash
// functions of the verifiable log. See ../../../../docs/merkle-log.md.
#pragma once

#include <cstdint>
#include <span>

#include "pedigree/base/bytes.h"

namespace pedigree::log {

// Domain-separation prefixes, so that a leaf can never be mistaken for a node.
inline constexpr uint8_t kLeafHashPrefix = 0x00;
inline constexpr uint8_t kNodeHashPrefix = 0x01;

// SHA-256(0x00 ‖ entry). Thread-safe, allocation-free.
Hash LeafHash(std::span<const uint8_t> entry);
inline Hash LeafHash(std::string_view entry) { return LeafHash(AsBytes(entry)); }

// SHA-256(0x01 ‖ left ‖ right). Thread-safe, allocation-free.
Hash NodeHash(const Hash& left, const Hash& right);

// The root of the empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

}  // namespace pedigree::log
