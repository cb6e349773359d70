// Test helpers for Result/Status values.
#pragma once

#include <string>

namespace pedigree::testing {

// The error text of a failed result, or "" for a success; safe to call on either.
template <typename R>
std::string Why(const R& r) {
  return r.has_value() ? std::string() : r.error().ToString();
}

}  // namespace pedigree::testing
