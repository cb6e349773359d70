// UTC times and civil dates in the one textual form pedigree signs and prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "pedigree/base/error.h"

namespace pedigree {

// "YYYY-MM-DDThh:mm:ssZ" to unix seconds; ledger.bad_time otherwise.
[[nodiscard]] Result<int64_t> ParseUtcTime(std::string_view text);
std::string FormatUtcTime(int64_t unix_seconds);
// "YYYY-MM-DD" to a valid civil date; ledger.bad_date otherwise.
[[nodiscard]] Result<std::chrono::year_month_day> ParseDate(std::string_view text);
std::string FormatDate(std::chrono::year_month_day date);

}  // namespace pedigree
