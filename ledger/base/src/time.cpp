#include "pedigree/base/time.h"

#include <cstdio>

namespace pedigree {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<std::chrono::year_month_day> ParseDate(std::string_view text) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &y) ||
      !Digits(text, 5, 2, &m) || !Digits(text, 8, 2, &d)) {
    return Fail("ledger.bad_date", "'" + std::string(text) + "' is not a date YYYY-MM-DD");
  }
  std::chrono::year_month_day date{std::chrono::year{y},
                                   std::chrono::month{static_cast<unsigned>(m)},
                                   std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok())
    return Fail("ledger.bad_date", "'" + std::string(text) + "' is not a calendar date");
  return date;
}

std::string FormatDate(std::chrono::year_month_day date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

Result<int64_t> ParseUtcTime(std::string_view text) {
  int hh, mm, ss;
  if (text.size() != 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z' || !Digits(text, 11, 2, &hh) || !Digits(text, 14, 2, &mm) ||
      !Digits(text, 17, 2, &ss) || hh > 23 || mm > 59 || ss > 59) {
    return Fail("ledger.bad_time",
                "'" + std::string(text) + "' is not a UTC time YYYY-MM-DDThh:mm:ssZ");
  }
  auto date = ParseDate(text.substr(0, 10));
  if (!date) return Fail("ledger.bad_time", date.error().message());
  auto days = std::chrono::sys_days(*date).time_since_epoch().count();
  return static_cast<int64_t>(days) * 86400 + hh * 3600 + mm * 60 + ss;
}

std::string FormatUtcTime(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  int64_t rest = unix_seconds - days * 86400;
  std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", FormatDate(date).c_str(),
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buf;
}

}  // namespace pedigree
