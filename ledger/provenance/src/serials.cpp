#include <unordered_set>

#include "pedigree/base/bytes.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::provenance {

std::vector<std::string> RandomSerials(size_t count, size_t length) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKLMNPQRSTUVWX";
  static_assert(sizeof(kAlphabet) - 1 == 32);
  std::vector<std::string> out;
  out.reserve(count);
  std::unordered_set<std::string> seen;
  std::vector<uint8_t> random(length);
  while (out.size() < count) {
    RandomBytes(random);
    std::string serial(length, ' ');
    for (size_t i = 0; i < length; ++i) serial[i] = kAlphabet[random[i] & 31];
    if (seen.insert(serial).second) out.push_back(std::move(serial));
  }
  return out;
}

}  // namespace pedigree::provenance
