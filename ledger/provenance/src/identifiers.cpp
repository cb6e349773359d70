#include "pedigree/provenance/identifiers.h"

#include <cassert>
#include <cstdio>
#include <ctime>
#include <string>

namespace pedigree::provenance {
namespace {

// Checks a fixed-length numeric key with a trailing check digit.
Status CheckNumericKey(std::string_view digits, size_t length, std::string_view what) {
  if (digits.size() != length) {
    return Fail("gs1.length", std::string(what) + " must have " + std::to_string(length) +
                                  " digits, got " + std::to_string(digits.size()));
  }
  for (size_t i = 0; i < digits.size(); ++i) {
    if (!IsDigit(digits[i])) {
      return Fail(Error("gs1.charset", std::string(what) + " must be digits only, found '" +
                                           std::string(1, digits[i]) + "' at position " +
                                           std::to_string(i + 1))
                      .at_offset(i));
    }
  }
  int expected = Gs1CheckDigit(digits.substr(0, length - 1));
  int actual = digits[length - 1] - '0';
  if (expected != actual) {
    return Fail(Error("gs1.check_digit", std::string(what) + " check digit is " +
                                             std::to_string(actual) + ", expected " +
                                             std::to_string(expected))
                    .at_offset(length - 1));
  }
  return Ok();
}

}  // namespace

int Gs1CheckDigit(std::string_view digits) {
  int sum = 0;
  int weight = 3;
  for (size_t i = digits.size(); i-- > 0;) {
    assert(IsDigit(digits[i]));
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

Status CheckCset82Field(std::string_view value, size_t max_length, std::string_view what) {
  if (value.empty() || value.size() > max_length) {
    return Fail("gs1.length", std::string(what) + " must have 1 to " + std::to_string(max_length) +
                                  " characters, got " + std::to_string(value.size()));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!IsCset82(value[i])) {
      char shown[8];
      unsigned char u = static_cast<unsigned char>(value[i]);
      if (u >= 0x21 && u < 0x7f) {
        std::snprintf(shown, sizeof shown, "'%c'", value[i]);
      } else {
        std::snprintf(shown, sizeof shown, "0x%02X", u);
      }
      return Fail(Error("gs1.charset", std::string(what) + " contains " + shown + " at position " +
                                           std::to_string(i + 1) +
                                           ", which GS1 does not allow (CSET 82)")
                      .at_offset(i));
    }
  }
  return Ok();
}

int Gs1FullYear(int yy, int reference_year) {
  int ref_yy = reference_year % 100;
  int century = reference_year - ref_yy;
  int d = yy - ref_yy;
  if (d >= 51) return century - 100 + yy;
  if (d <= -50) return century + 100 + yy;
  return century + yy;
}

int CurrentUtcYear() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  return tm.tm_year + 1900;
}

Result<std::chrono::year_month_day> ParseGs1Date(std::string_view text, int reference_year,
                                                 bool allow_day_zero) {
  using namespace std::chrono;
  if (text.size() != 6) {
    return Fail("gs1.length", "a date must be 6 digits YYMMDD, got " + std::to_string(text.size()) +
                                  " characters");
  }
  for (size_t i = 0; i < 6; ++i) {
    if (!IsDigit(text[i])) {
      return Fail(Error("gs1.charset", "a date must be digits YYMMDD, found '" +
                                           std::string(1, text[i]) + "' at position " +
                                           std::to_string(i + 1))
                      .at_offset(i));
    }
  }
  int yy = (text[0] - '0') * 10 + (text[1] - '0');
  unsigned mm = static_cast<unsigned>((text[2] - '0') * 10 + (text[3] - '0'));
  unsigned dd = static_cast<unsigned>((text[4] - '0') * 10 + (text[5] - '0'));
  std::string shown(text);
  if (mm < 1 || mm > 12) {
    return Fail(Error("gs1.date", "date " + shown + " has month " + std::to_string(mm) +
                                      "; months run from 01 to 12")
                    .at_offset(2));
  }
  year y{Gs1FullYear(yy, reference_year)};
  year_month_day_last last{y / month{mm} / std::chrono::last};
  if (dd == 0) {
    if (!allow_day_zero) {
      return Fail(
          Error("gs1.date", "date " + shown + " has day 00, which this field does not allow")
              .at_offset(4));
    }
    return year_month_day{last};
  }
  if (dd > static_cast<unsigned>(last.day())) {
    return Fail(Error("gs1.date", "date " + shown + " has day " + std::to_string(dd) + " but " +
                                      std::to_string(static_cast<int>(y)) + "-" +
                                      (mm < 10 ? "0" : "") + std::to_string(mm) + " has only " +
                                      std::to_string(static_cast<unsigned>(last.day())) + " days")
                    .at_offset(4));
  }
  return year_month_day{y, month{mm}, day{dd}};
}

Result<Gtin> Gtin::Parse(std::string_view digits) {
  size_t n = digits.size();
  if (n != 8 && n != 12 && n != 13 && n != 14) {
    return Fail("gs1.length", "a GTIN has 8, 12, 13 or 14 digits, got " + std::to_string(n));
  }
  auto ok = CheckNumericKey(digits, n, "GTIN");
  if (!ok) return std::unexpected(ok.error());
  std::string padded(14 - n, '0');
  padded.append(digits);
  return Gtin(std::move(padded));
}

Result<Sscc> Sscc::Parse(std::string_view digits) {
  auto ok = CheckNumericKey(digits, 18, "SSCC");
  if (!ok) return std::unexpected(ok.error());
  return Sscc(std::string(digits));
}

Result<Gln> Gln::Parse(std::string_view digits) {
  auto ok = CheckNumericKey(digits, 13, "GLN");
  if (!ok) return std::unexpected(ok.error());
  return Gln(std::string(digits));
}

Result<Serial> Serial::Parse(std::string_view text) {
  auto ok = CheckCset82Field(text, 20, "serial number");
  if (!ok) return std::unexpected(ok.error());
  return Serial(std::string(text));
}

Result<Lot> Lot::Parse(std::string_view text) {
  auto ok = CheckCset82Field(text, 20, "batch/lot");
  if (!ok) return std::unexpected(ok.error());
  return Lot(std::string(text));
}

Result<Expiry> Expiry::Parse(std::string_view yymmdd) { return Parse(yymmdd, CurrentUtcYear()); }

Result<Expiry> Expiry::Parse(std::string_view yymmdd, int reference_year) {
  auto date = ParseGs1Date(yymmdd, reference_year, /*allow_day_zero=*/true);
  if (!date) return std::unexpected(date.error().with_context("expiry"));
  return Expiry(std::string(yymmdd), *date);
}

std::string Expiry::IsoDate() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date_.year()),
                static_cast<unsigned>(date_.month()), static_cast<unsigned>(date_.day()));
  return buf;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    bool unreserved = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string PackId::DigitalLinkUri() const {
  return "https://id.gs1.org/01/" + gtin_.value() + "/21/" + PercentEncode(serial_.value());
}

std::string PackId::str() const { return "(01)" + gtin_.value() + "(21)" + serial_.value(); }

}  // namespace pedigree::provenance
