// Raw scanner output (symbology identifier + element string with GS separators) and the
// bracketed human-readable form.
#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "gs1_internal.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner::internal {
namespace {

using provenance::IsDigit;

constexpr std::string_view kGs1Symbologies[] = {"]d2", "]C1", "]Q3", "]e0", "]J1"};

// Symbology identifiers compare with AiEquals (an inline byte loop): == on these 3-byte
// views is a memcmp call each, five of them per raw read.
bool IsGs1Symbology(std::string_view s) {
  for (auto k : kGs1Symbologies) {
    if (AiEquals(k, s)) return true;
  }
  return false;
}

// Recognises GS and its keyboard-wedge renderings without allocating.
class Separators {
 public:
  explicit Separators(const ParseOptions& options) : tokens_(options.gs_tokens) {
    Mark(kGroupSeparator);
    for (const std::string& t : tokens_) {
      if (!t.empty()) Mark(t[0]);
    }
    // Unused slots repeat GS, so WordHits runs a fixed, unrolled loop.
    for (size_t k = start_count_; k < kMaxWordStarts; ++k) start_words_[k] = start_words_[0];
  }
  // Length of the separator at text[pos], 0 if none.
  size_t At(std::string_view text, size_t pos) const {
    char c = text[pos];
    if (!Starts(c)) return 0;
    if (c == kGroupSeparator) return 1;
    for (const std::string& t : tokens_) {
      if (!t.empty() && text.compare(pos, t.size(), t) == 0) return t.size();
    }
    return 0;
  }
  // The first separator at or after `pos` and before `limit` (<= text.size()), else `limit`.
  size_t Next(std::string_view text, size_t pos, size_t limit) const {
    // Eight bytes at a time while eight can be read from `text` (even past `limit`: lanes at
    // or beyond it are ignored), then byte by byte near the end of the text.
    if (start_count_ <= kMaxWordStarts) {
      while (pos < limit && text.size() - pos >= 8) {
        size_t lanes = std::min<size_t>(8, limit - pos);
        uint64_t hits = WordHits(text.data() + pos);
        // The lowest hit is exact (false positives only sit above a true one).
        size_t lane = hits ? static_cast<size_t>(std::countr_zero(hits)) / 8 : 8;
        if (lane >= lanes) {
          pos += lanes;
          continue;
        }
        pos += lane;
        if (At(text, pos) != 0) return pos;
        ++pos;
      }
    }
    for (; pos < limit; ++pos) {
      if (Starts(text[pos]) && At(text, pos) != 0) return pos;
    }
    return limit;
  }

 private:
  void Mark(char c) {
    auto u = static_cast<unsigned char>(c);
    if (Starts(c)) return;
    starts_[u >> 6] |= uint64_t{1} << (u & 63);
    if (start_count_ < kMaxWordStarts) start_words_[start_count_] = 0x0101010101010101ull * u;
    ++start_count_;
  }
  // The high bit of each byte lane of the 8 at `p` that holds a start byte: the lowest set
  // bit is exact, lanes above it may be false positives.
  uint64_t WordHits(const char* p) const {
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHigh = 0x8080808080808080ull;
    uint64_t w;
    std::memcpy(&w, p, 8);
    uint64_t hit = 0;
    for (size_t k = 0; k < kMaxWordStarts; ++k) {
      uint64_t x = w ^ start_words_[k];
      hit |= (x - kOnes) & ~x & kHigh;  // high bit set where a byte of x is zero
    }
    return hit;
  }
  bool Starts(char c) const {
    auto u = static_cast<unsigned char>(c);
    return starts_[u >> 6] >> (u & 63) & 1;
  }

  const std::vector<std::string>& tokens_;
  // A bit for GS and each byte that starts a token (four words: cheaper to clear per parse
  // than a byte table).
  uint64_t starts_[4] = {0, 0, 0, 0};
  // The distinct start bytes broadcast to all eight lanes, for the word-at-a-time scan
  // (skipped when there are many).
  static constexpr size_t kMaxWordStarts = 8;
  uint64_t start_words_[kMaxWordStarts];
  size_t start_count_ = 0;
};

Finding AppendedEan(const AiDefinition& def, std::string_view value, size_t value_offset) {
  if (value.size() <= 13 || value.size() - 13 > def.max_length()) return {};
  std::string_view tail = value.substr(value.size() - 13);
  for (char c : tail) {
    if (!IsDigit(c)) return {};
  }
  if (provenance::Gs1CheckDigit(tail.substr(0, 12)) != tail[12] - '0') return {};
  Finding f;
  f.kind = "appended_ean";
  f.ai = std::string(def.ai);
  f.offset = value_offset + value.size() - 13;
  f.message = "the " + FriendlyName(def) + " ends with '" + std::string(tail) +
              "', a valid EAN-13: an EAN was probably appended to it; the real value is "
              "probably '" +
              std::string(value.substr(0, value.size() - 13)) + "'";
  f.suggestion = std::string(value.substr(0, value.size() - 13));
  return f;
}

Error TooLong(const AiDefinition& def, std::string_view value, size_t value_offset,
              int reference_year, std::vector<Finding>* findings) {
  Error e = Error("gs1.length", Label(def) + " allows at most " + std::to_string(def.max_length()) +
                                    " characters, got " + std::to_string(value.size()))
                .at_field(std::string(def.ai))
                .at_offset(value_offset + def.max_length());
  if (findings) {
    Finding f = SwallowedAi(nullptr, def, value, value_offset, reference_year, true);
    if (f.kind.empty()) f = AppendedEan(def, value, value_offset);
    if (!f.kind.empty()) findings->push_back(std::move(f));
  }
  return e;
}

}  // namespace

namespace {

bool IsHttpUri(std::string_view s) {
  for (std::string_view scheme : {"https://", "HTTPS://", "http://", "HTTP://"}) {
    if (s.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

// ISO/IEC 15424 symbology identifiers ]E0 (EAN-13, and UPC-A/UPC-E sent as 13 digits) and
// ]E4 (EAN-8): the digits are a GTIN-13 or GTIN-8, read as AI 01 with leading zeros
// (GenSpecs §3.3.2: a GTIN is right-justified in the 14-digit field).
Status ParseEanInto(std::string_view in, int reference_year, Gs1Data& data) {
  std::string_view sym = in.substr(0, 3);
  std::string_view digits = in.substr(3);
  size_t want = sym == "]E0" ? 13 : 8;
  const char* name = sym == "]E0" ? "EAN-13 / UPC-A" : "EAN-8";
  data.source_form = "raw";
  data.symbology = std::string(sym);
  size_t bad = digits.size();
  for (size_t i = 0; i < digits.size(); ++i) {
    if (!provenance::IsDigit(digits[i])) {
      bad = i;
      break;
    }
  }
  if (bad != digits.size()) {
    return Fail(Error("gs1.charset", std::string("an ") + name + " read (" + std::string(sym) +
                                         ") carries digits only, found '" +
                                         std::string(1, digits[bad]) + "' at byte " +
                                         std::to_string(3 + bad))
                    .at_field("01")
                    .at_offset(3 + bad));
  }
  if (digits.size() != want) {
    return Fail(Error("gs1.length", std::string("an ") + name + " read (" + std::string(sym) +
                                        ") carries " + std::to_string(want) + " digits, got " +
                                        std::to_string(digits.size()))
                    .at_field("01")
                    .at_offset(3));
  }
  std::string gtin = std::string(14 - want, '0') + std::string(digits);
  size_t pad = 14 - want;
  auto ok = ValidateValue(*FindAiByCode("01"), gtin, pad <= 3 ? 3 - pad : 0, reference_year);
  if (!ok) return ok;
  data.elements.push_back({"01", std::move(gtin), 3});
  return Ok();
}

// A GS1 Digital Link carried in a plain QR Code (]Q1) or Data Matrix (]d1): the data after
// the symbology identifier is the URI; offsets count from the start of the read.
Status ParseCarriedDigitalLinkInto(std::string_view in, const ParseOptions& options,
                                   int reference_year, std::vector<Finding>* findings,
                                   Gs1Data& data) {
  auto dl = ParseDigitalLink(in.substr(3), options, reference_year, findings);
  if (!dl) {
    Error e = dl.error();
    return Fail(e.at_offset(e.location().offset.value_or(0) + 3));
  }
  data = std::move(*dl);
  data.symbology = std::string(in.substr(0, 3));
  for (auto& e : data.elements) e.offset += 3;
  return Ok();
}

// ParseRaw's body, filling `data`.
Status ParseRawInto(std::string_view in, const ParseOptions& options, int reference_year,
                    std::vector<Finding>* findings, Gs1Data& data) {
  data.source_form = std::string("raw", 3);
  size_t pos = 0;
  if (!in.empty() && (in[0] == ']' || in[0] == '+') && in.size() >= 3) {
    std::string_view sym = in.substr(0, 3);
    if (AiEquals(sym, "]E0") || AiEquals(sym, "]E4")) return ParseEanInto(in, reference_year, data);
    if ((AiEquals(sym, "]Q1") || AiEquals(sym, "]d1")) && IsHttpUri(in.substr(3))) {
      return ParseCarriedDigitalLinkInto(in, options, reference_year, findings, data);
    }
    if (in[0] == ']' && IsGs1Symbology(sym)) {
      data.symbology = std::string(sym);
      pos = 3;
    } else if (in[0] == ']') {
      Error e("gs1.symbology",
              "the symbology identifier '" + std::string(sym) +
                  "' does not announce GS1 data (a GS1 DataMatrix reads as ]d2, GS1-128 as ]C1, "
                  "GS1 QR as ]Q3); this is not a GS1 pack code or the scanner is misconfigured");
      e = e.at_offset(0);
      if (findings && IsGs1Symbology(InvertCase(sym))) {
        findings->push_back(
            {"caps_lock", "", 0,
             "'" + std::string(sym) + "' is '" + InvertCase(sym) +
                 "' with its letters' case inverted: Caps Lock is probably on at the "
                 "keyboard-wedge scanner, so letters in the serial and lot are inverted too; "
                 "switch Caps Lock off and scan again",
             InvertCase(in)});
      }
      return Fail(e);
    } else {
      std::string as_bracket = "]" + std::string(in.substr(1, 2));
      if (IsGs1Symbology(as_bracket) || IsGs1Symbology(InvertCase(as_bracket))) {
        Error e("gs1.symbology", "the read starts with '" + std::string(sym) +
                                     "' where a symbology identifier such as ']d2' belongs");
        if (findings) {
          findings->push_back(
              {"keyboard_layout", "", 0,
               "a ']' typed on a German (QWERTZ) keyboard layout arrives as '+': the scanner "
               "uses a US layout and the computer a German one, so Y and Z are swapped too; "
               "set the scanner to the computer's keyboard layout and scan again",
               as_bracket + std::string(in.substr(3))});
        }
        return Fail(e.at_offset(0));
      }
    }
  }
  Separators seps(options);
  data.elements.reserve(6);
  while (pos < in.size()) {
    if (size_t s = seps.At(in, pos)) {
      pos += s;
      continue;
    }
    size_t ai_len = 0;
    const AiDefinition* def = LookupAiAt(in, pos, &ai_len);
    if (!def) {
      size_t digits = 0;
      while (digits < 4 && pos + digits < in.size() && IsDigit(in[pos + digits])) ++digits;
      if (digits == 0) {
        std::string shown(1, in[pos]);
        unsigned char u = static_cast<unsigned char>(in[pos]);
        if (u < 0x21 || u >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02X", u);
          shown = buf;
        }
        return Fail(Error("gs1.unknown_ai",
                          "expected an Application Identifier (digits) at "
                          "byte " +
                              std::to_string(pos) + ", found " + shown)
                        .at_offset(pos));
      }
      if (pos + digits == in.size() && digits < 4) {
        return Fail(Error("gs1.truncated", "the read ends inside an Application Identifier ('" +
                                               std::string(in.substr(pos)) +
                                               "'): the scan is incomplete, scan again")
                        .at_offset(pos));
      }
      return Fail(Error("gs1.unknown_ai", "no known Application Identifier starts with '" +
                                              std::string(in.substr(pos, digits)) + "' at byte " +
                                              std::to_string(pos))
                      .at_field(std::string(in.substr(pos, 2)))
                      .at_offset(pos));
    }
    size_t start = pos + ai_len;
    size_t end = start;
    if (def->fixed_length()) {
      size_t want = def->max_length();
      end = seps.Next(in, start, std::min(in.size(), start + want));
      if (end - start < want) {
        if (end == in.size()) {
          return Fail(Error("gs1.truncated", Label(*def) + " needs " + std::to_string(want) +
                                                 " characters but the read ends after " +
                                                 std::to_string(end - start) +
                                                 ": the scan is incomplete, scan again")
                          .at_field(std::string(def->ai))
                          .at_offset(end));
        }
        return Fail(Error("gs1.length", Label(*def) + " must have exactly " + std::to_string(want) +
                                            " characters, got " + std::to_string(end - start) +
                                            " before a group separator")
                        .at_field(std::string(def->ai))
                        .at_offset(end));
      }
    } else {
      end = seps.Next(in, start, in.size());
      std::string_view value = in.substr(start, end - start);
      if (value.size() > def->max_length()) {
        return Fail(TooLong(*def, value, start, reference_year, findings));
      }
      if (value.empty()) {
        return Fail(Error("gs1.length", Label(*def) + " is empty")
                        .at_field(std::string(def->ai))
                        .at_offset(start));
      }
    }
    std::string_view value = in.substr(start, end - start);
    auto ok = ValidateValue(*def, value, start, reference_year);
    if (!ok) return std::unexpected(ok.error());
    // Constructing the strings in place is cheaper than assigning into empty ones.
    data.elements.emplace_back(StringFrom{def->ai}, StringFrom{value}, pos);
    pos = end;
  }
  if (data.elements.empty()) {
    return Fail(Error("gs1.truncated", "the read holds no GS1 element string").at_offset(pos));
  }
  return Ok();
}

}  // namespace

// Builds the result in place (NRVO) rather than moving a finished Gs1Data into it.
Result<Gs1Data> ParseRaw(std::string_view in, const ParseOptions& options, int reference_year,
                         std::vector<Finding>* findings) {
  Result<Gs1Data> result;
  auto ok = ParseRawInto(in, options, reference_year, findings, *result);
  if (!ok) result = std::unexpected(std::move(ok.error()));
  return result;
}

namespace {

// True if text[pos] starts "(NN)", "(NNN)" or "(NNNN)" naming a known AI.
const AiDefinition* BracketedAiAt(std::string_view in, size_t pos, size_t* after) {
  if (pos >= in.size() || in[pos] != '(') return nullptr;
  size_t close = in.find(')', pos + 1);
  if (close == std::string_view::npos || close - pos - 1 < 2 || close - pos - 1 > 4) return nullptr;
  std::string_view ai = in.substr(pos + 1, close - pos - 1);
  for (char c : ai) {
    if (!IsDigit(c)) return nullptr;
  }
  *after = close + 1;
  return FindAi(ai);
}

}  // namespace

namespace {

// ParseBracketed's body, filling `data`.
Status ParseBracketedInto(std::string_view in, const ParseOptions& options, int reference_year,
                          std::vector<Finding>* findings, Gs1Data& data) {
  (void)options;
  data.source_form = std::string("bracketed", 9);
  data.elements.reserve(6);
  size_t pos = 0;
  while (pos < in.size()) {
    size_t start = 0;
    const AiDefinition* def = BracketedAiAt(in, pos, &start);
    if (!def) {
      size_t close = in.find(')', pos);
      if (in[pos] == '(' && close != std::string_view::npos && close - pos <= 5) {
        return Fail(Error("gs1.unknown_ai", "'" + std::string(in.substr(pos, close - pos + 1)) +
                                                "' is not a known Application Identifier")
                        .at_field(std::string(in.substr(pos + 1, close - pos - 1)))
                        .at_offset(pos));
      }
      return Fail(Error("gs1.syntax",
                        "expected '(AI)' at byte " + std::to_string(pos) + " of the bracketed form")
                      .at_offset(pos));
    }
    size_t end = start;
    size_t next = 0;
    // A '(' is part of the value unless it opens a known AI: CSET 82 includes brackets.
    while (end < in.size() && !(in[end] == '(' && BracketedAiAt(in, end, &next))) ++end;
    std::string_view value = in.substr(start, end - start);
    if (!def->fixed_length() && value.size() > def->max_length()) {
      return Fail(TooLong(*def, value, start, reference_year, findings));
    }
    if (value.empty()) {
      return Fail(Error("gs1.length", Label(*def) + " is empty")
                      .at_field(std::string(def->ai))
                      .at_offset(start));
    }
    auto ok = ValidateValue(*def, value, start, reference_year);
    if (!ok) return std::unexpected(ok.error());
    data.elements.emplace_back(StringFrom{def->ai}, StringFrom{value}, pos);
    pos = end;
  }
  return Ok();
}

}  // namespace

// Builds the result in place (NRVO) rather than moving a finished Gs1Data into it.
Result<Gs1Data> ParseBracketed(std::string_view in, const ParseOptions& options, int reference_year,
                               std::vector<Finding>* findings) {
  Result<Gs1Data> result;
  auto ok = ParseBracketedInto(in, options, reference_year, findings, *result);
  if (!ok) result = std::unexpected(std::move(ok.error()));
  return result;
}

}  // namespace pedigree::scanner::internal
