// GS1 identifiers of the provenance model: GTIN, SSCC, GLN, serial, lot, expiry and the pack
// identity (GTIN + serial). Each is a validated value type: the only way to get one is a
// factory that returns Result, so holding one means its syntax and check digit are right.
// Rules follow the GS1 General Specifications (§7.9 check digits, §7.11 CSET 82, §7.12 dates);
// docs/scanning.md lists them with examples.
#pragma once

#include <array>
#include <chrono>
#include <compare>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "pedigree/base/error.h"

namespace pedigree::provenance {

// GS1 mod-10 check digit of a digit string that lacks its check digit: weights 3,1,3,… from
// the rightmost digit; result = (10 - sum mod 10) mod 10. Requires only '0'..'9' (asserted).
int Gs1CheckDigit(std::string_view digits_without_check);

// True for the 82 characters GS1 allows in alphanumeric AIs (CSET 82, GenSpecs Figure 7.11-1):
// digits, upper- and lower-case letters and !"%&'()*+,-./:;<=>?_
inline constexpr std::array<bool, 256> kCset82 = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (char c : std::string_view("!\"%&'()*+,-./:;<=>?_")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();
inline bool IsCset82(char c) { return kCset82[static_cast<unsigned char>(c)]; }
// True for CSET 39: digits, upper-case letters and # - /
inline bool IsCset39(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '#' || c == '-' || c == '/';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Checks `value` as a CSET 82 field of 1..max_length characters. Codes: gs1.length,
// gs1.charset (offset = index of the first bad character). `what` names it in messages.
[[nodiscard]] Status CheckCset82Field(std::string_view value, size_t max_length,
                                      std::string_view what);

// The century of a two-digit GS1 year (GenSpecs §7.12): with D = YY - (reference_year mod
// 100), D in 51..99 means the previous century, D in -99..-50 the next one, otherwise the
// reference year's century. So in 2026, "75" is 2075 and "77" is 1977.
int Gs1FullYear(int yy, int reference_year);

// The current UTC calendar year, the default reference year of the sliding window.
int CurrentUtcYear();

// Parses a GS1 YYMMDD date. With allow_day_zero, DD = 00 means the last day of the month
// (AIs 11, 13, 15, 16, 17). Fails with gs1.length, gs1.charset or gs1.date.
[[nodiscard]] Result<std::chrono::year_month_day> ParseGs1Date(std::string_view yymmdd,
                                                               int reference_year,
                                                               bool allow_day_zero);

// A GTIN, always held as 14 digits (GTIN-8/12/13 are left-padded with zeros).
class Gtin {
 public:
  // Accepts 8, 12, 13 or 14 digits with a correct check digit. Codes: gs1.length,
  // gs1.charset, gs1.check_digit ("GTIN check digit is 3, expected 7").
  [[nodiscard]] static Result<Gtin> Parse(std::string_view digits);

  const std::string& value() const { return digits_; }  // 14 digits
  const std::string& str() const { return digits_; }
  auto operator<=>(const Gtin&) const = default;

 private:
  explicit Gtin(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// A Serial Shipping Container Code: 18 digits with a check digit (AI 00).
class Sscc {
 public:
  // Codes: gs1.length, gs1.charset, gs1.check_digit.
  [[nodiscard]] static Result<Sscc> Parse(std::string_view digits);
  const std::string& value() const { return digits_; }
  const std::string& str() const { return digits_; }
  auto operator<=>(const Sscc&) const = default;

 private:
  explicit Sscc(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// A Global Location Number: 13 digits with a check digit (AIs 410–417).
class Gln {
 public:
  // Codes: gs1.length, gs1.charset, gs1.check_digit.
  [[nodiscard]] static Result<Gln> Parse(std::string_view digits);
  const std::string& value() const { return digits_; }
  const std::string& str() const { return digits_; }
  auto operator<=>(const Gln&) const = default;

 private:
  explicit Gln(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// A serial number (AI 21): 1..20 CSET 82 characters, case-sensitive.
class Serial {
 public:
  // Codes: gs1.length, gs1.charset.
  [[nodiscard]] static Result<Serial> Parse(std::string_view text);
  const std::string& value() const { return text_; }
  const std::string& str() const { return text_; }
  auto operator<=>(const Serial&) const = default;

 private:
  explicit Serial(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// A batch or lot number (AI 10): 1..20 CSET 82 characters, case-sensitive.
class Lot {
 public:
  // Codes: gs1.length, gs1.charset.
  [[nodiscard]] static Result<Lot> Parse(std::string_view text);
  const std::string& value() const { return text_; }
  const std::string& str() const { return text_; }
  auto operator<=>(const Lot&) const = default;

 private:
  explicit Lot(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// An expiry date (AI 17): the YYMMDD text as printed plus the civil date it denotes, with
// DD = 00 read as the month's last day and the century from the GS1 sliding window.
class Expiry {
 public:
  // Uses the current UTC year as the window's reference. Codes: gs1.length, gs1.charset,
  // gs1.date.
  [[nodiscard]] static Result<Expiry> Parse(std::string_view yymmdd);
  // Deterministic variant for tests and for re-reading old records.
  [[nodiscard]] static Result<Expiry> Parse(std::string_view yymmdd, int reference_year);

  const std::string& value() const { return yymmdd_; }  // the original YYMMDD
  const std::string& str() const { return yymmdd_; }
  std::chrono::year_month_day date() const { return date_; }
  // ISO 8601 calendar date, "2026-02-28".
  std::string IsoDate() const;
  bool operator==(const Expiry& o) const { return date_ == o.date_ && yymmdd_ == o.yymmdd_; }
  bool operator<(const Expiry& o) const {
    return date_ != o.date_ ? date_ < o.date_ : yymmdd_ < o.yymmdd_;
  }

 private:
  Expiry(std::string yymmdd, std::chrono::year_month_day date)
      : yymmdd_(std::move(yymmdd)), date_(date) {}
  std::string yymmdd_;
  std::chrono::year_month_day date_;
};

// The identity of one serialised pack: GTIN + serial (AIs 01 + 21).
class PackId {
 public:
  PackId(Gtin gtin, Serial serial) : gtin_(std::move(gtin)), serial_(std::move(serial)) {}

  const Gtin& gtin() const { return gtin_; }
  const Serial& serial() const { return serial_; }
  // Canonical GS1 Digital Link: https://id.gs1.org/01/{gtin14}/21/{percent-encoded serial}.
  std::string DigitalLinkUri() const;
  // "(01)…(21)…", for logs and people.
  std::string str() const;
  auto operator<=>(const PackId&) const = default;

 private:
  Gtin gtin_;
  Serial serial_;
};

// Percent-encodes every byte outside the URI unreserved set A-Z a-z 0-9 - . _ ~ (RFC 3986
// §2.3), as GS1 Digital Link requires for path segments and query values.
std::string PercentEncode(std::string_view text);

}  // namespace pedigree::provenance

template <>
struct std::hash<pedigree::provenance::Gtin> {
  size_t operator()(const pedigree::provenance::Gtin& v) const noexcept {
    return std::hash<std::string>{}(v.value());
  }
};
template <>
struct std::hash<pedigree::provenance::Sscc> {
  size_t operator()(const pedigree::provenance::Sscc& v) const noexcept {
    return std::hash<std::string>{}(v.value());
  }
};
template <>
struct std::hash<pedigree::provenance::Gln> {
  size_t operator()(const pedigree::provenance::Gln& v) const noexcept {
    return std::hash<std::string>{}(v.value());
  }
};
template <>
struct std::hash<pedigree::provenance::Serial> {
  size_t operator()(const pedigree::provenance::Serial& v) const noexcept {
    return std::hash<std::string>{}(v.value());
  }
};
template <>
struct std::hash<pedigree::provenance::Lot> {
  size_t operator()(const pedigree::provenance::Lot& v) const noexcept {
    return std::hash<std::string>{}(v.value());
  }
};
template <>
struct std::hash<pedigree::provenance::PackId> {
  size_t operator()(const pedigree::provenance::PackId& v) const noexcept {
    size_t h = std::hash<std::string>{}(v.gtin().value());
    return h ^ (std::hash<std::string>{}(v.serial().value()) + 0x9e3779b97f4a7c15ULL + (h << 6) +
                (h >> 2));
  }
};
