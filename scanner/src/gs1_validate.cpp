// Value and combination rules of the AI table, and the AI lookup by prefix.
#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

#include "gs1_internal.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner::internal {
namespace {

using provenance::IsDigit;

struct PrefixIndex {
  // AIs are prefix-free, so each 2-, 3- or 4-digit code names at most one definition. Entries
  // are table index + 1 (0 = none) in 16 bits: the dictionary has several hundred AIs.
  std::array<uint16_t, 100> by2{};
  std::array<uint16_t, 1000> by3{};
  std::array<uint16_t, 10000> by4{};
  const AiDefinition* table = nullptr;
  // Out of line: it runs once, and inlined it would stop Index() from being inlined.
  [[gnu::noinline]] PrefixIndex() {
    const auto& defs = AiTable();
    table = defs.data();
    for (size_t i = 0; i < defs.size(); ++i) {
      int code = 0;
      for (char c : defs[i].ai) code = code * 10 + (c - '0');
      auto slot = static_cast<uint16_t>(i + 1);
      switch (defs[i].ai.size()) {
        case 2:
          by2[code] = slot;
          break;
        case 3:
          by3[code] = slot;
          break;
        case 4:
          by4[code] = slot;
          break;
        default:
          break;
      }
    }
  }
};

// Inlined into every lookup: out of line the call cost more than the guard check it holds.
[[gnu::always_inline]] inline const PrefixIndex& Index() {
  static const PrefixIndex index;
  return index;
}

// The definition of an AI given as exactly 2 to 4 digits. AIs are prefix-free, so a code that
// extends a shorter AI has no entry of its own: one table read answers what LookupAiAt answers
// with a length comparison.
inline const AiDefinition* DefinitionOf(std::string_view ai) {
  const PrefixIndex& index = Index();
  // Callers pass any text (a Digital Link path segment, FindAiByCode's argument): a long
  // run of digits would overflow `code` before the switch below refused its length.
  if (ai.size() < 2 || ai.size() > 4) return nullptr;
  int code = 0;
  for (char c : ai) {
    if (!IsDigit(c)) return nullptr;
    code = code * 10 + (c - '0');
  }
  uint16_t slot = 0;
  switch (ai.size()) {
    case 2:
      slot = index.by2[code];
      break;
    case 3:
      slot = index.by3[code];
      break;
    case 4:
      slot = index.by4[code];
      break;
    default:
      return nullptr;
  }
  return slot ? index.table + slot - 1 : nullptr;
}

std::string ShowChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  char buf[16];
  if (u == 0x1d) return "a group separator (GS)";
  if (u == 0x20) return "a space";
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02X", u);
  }
  return buf;
}

Error At(Error e, const AiDefinition& def, size_t offset) {
  return e.at_field(std::string(def.ai)).at_offset(offset);
}

std::string KeyName(const AiDefinition& def) {
  if (def.ai == "01" || def.ai == "02") return "GTIN";
  if (def.ai == "00") return "SSCC";
  if (def.ai.size() == 3 && def.ai[0] == '4' && def.ai[1] == '1') return "GLN";
  if (def.ai == "402") return "GSIN";
  if (def.ai == "8017" || def.ai == "8018") return "GSRN";
  if (def.ai == "253") return "GDTI";
  if (def.ai == "255") return "GCN";
  if (def.ai == "8003") return "GRAI";
  if (def.ai == "8006") return "ITIP";
  return "value";
}

// True when `yymmdd` (digits only) is a valid date in every year and every century window:
// month 01–12 and a day the month always has. False means "ask provenance::ParseGs1Date".
bool PlainlyValidDate(std::string_view yymmdd, bool allow_day_zero) {
  if (yymmdd.size() != 6) return false;
  unsigned mm = static_cast<unsigned>((yymmdd[2] - '0') * 10 + (yymmdd[3] - '0'));
  unsigned dd = static_cast<unsigned>((yymmdd[4] - '0') * 10 + (yymmdd[5] - '0'));
  static constexpr unsigned kShortest[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mm < 1 || mm > 12) return false;
  if (dd == 0) return allow_day_zero;
  return dd <= kShortest[mm];
}

bool InCharset(Charset charset, char c) {
  switch (charset) {
    case Charset::kNumeric:
      return IsDigit(c);
    case Charset::kCset82:
      return provenance::IsCset82(c);
    case Charset::kCset39:
      return provenance::IsCset39(c);
    case Charset::kCset64:
      return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             c == '-' || c == '_' || c == '=';
  }
  return false;
}

// `offset` is the part's byte offset in the input, `pos` its position in the value.
Status ValidateComponent(const AiDefinition& def, const AiComponent& comp, std::string_view part,
                         size_t offset, size_t pos, int reference_year) {
  size_t bad = part.size();
  for (size_t i = 0; i < part.size(); ++i) {
    if (!InCharset(comp.charset, part[i])) {
      bad = i;
      break;
    }
  }
  // CSET 64 (base64url) allows '=' only as padding at the end: at most two, and a padded
  // value's length is a multiple of 3 (the syntax tests' cset64 rule).
  if (bad == part.size() && comp.charset == Charset::kCset64) {
    size_t pads = 0;
    while (pads < part.size() && part[part.size() - 1 - pads] == '=') ++pads;
    size_t eq = part.find('=');
    if (eq < part.size() - pads) {
      bad = eq;
    } else if (pads > 2 || (pads > 0 && part.size() % 3 != 0)) {
      return Fail(At(Error("gs1.charset", Label(def) + ": '" + std::string(part) +
                                              "' has bad base64url padding: at most two '=' "
                                              "and a padded length that is a multiple of 3"),
                     def, offset + part.size() - pads));
    }
  }
  if (bad != part.size()) {
    const char* set = comp.charset == Charset::kNumeric  ? "digits only"
                      : comp.charset == Charset::kCset82 ? "GS1 CSET 82 characters"
                      : comp.charset == Charset::kCset39 ? "GS1 CSET 39 characters"
                                                         : "base64url characters (CSET 64)";
    return Fail(At(
        Error("gs1.charset", Label(def) + " allows " + set + ", found " + ShowChar(part[bad]) +
                                 " at position " + std::to_string(pos + bad + 1) + " of the value"),
        def, offset + bad));
  }
  for (Check check : comp.checks) {
    if (check == Check::kNone) break;
    auto fault = RunLinter(check, part, reference_year);
    if (!fault) continue;
    std::string message;
    if (check == Check::kCsum) {
      message = Label(def) + ": " + KeyName(def) + " " + std::string(part) + " " + fault->message +
                "; the code is misread or misprinted, scan it again";
    } else {
      message = Label(def) + ": '" + std::string(part) + "' " + fault->message;
    }
    return Fail(At(Error(std::string(fault->code), message), def, offset + fault->pos));
  }
  return Ok();
}

}  // namespace

std::string FriendlyName(const AiDefinition& def) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"00", "SSCC"},
      {"01", "GTIN"},
      {"10", "batch/lot"},
      {"11", "production date"},
      {"13", "packaging date"},
      {"15", "best-before date"},
      {"16", "sell-by date"},
      {"17", "expiry date"},
      {"21", "serial number"},
      {"22", "CPV"},
      {"710", "PZN"},
      {"711", "CIP"},
      {"714", "AIC"},
      {"715", "NDC"},
      {"7003", "expiry date and time"}};
  for (const auto& [ai, name] : kNames) {
    if (ai == def.ai) return std::string(name);
  }
  return std::string(def.title);
}

std::string Article(std::string_view noun) {
  return std::string_view("aeiouAEIOU").find(noun.empty() ? 'x' : noun[0]) != std::string_view::npos
             ? "an "
             : "a ";
}

std::string Label(const AiDefinition& def) {
  std::string s = "AI ";
  s += def.ai;
  s += " (";
  s += def.title;
  s += ")";
  return s;
}

const AiDefinition* FindAiByCode(std::string_view ai) { return DefinitionOf(ai); }

bool ListContains(std::string_view list, std::string_view ai) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    if (item == ai) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

const AiDefinition* LookupAiAt(std::string_view text, size_t pos, size_t* ai_length) {
  static const PrefixIndex& index = Index();
  if (pos + 2 > text.size() || !IsDigit(text[pos]) || !IsDigit(text[pos + 1])) return nullptr;
  int code = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
  if (uint16_t slot = index.by2[code]) {
    *ai_length = 2;
    return index.table + slot - 1;
  }
  if (pos + 3 > text.size() || !IsDigit(text[pos + 2])) return nullptr;
  code = code * 10 + (text[pos + 2] - '0');
  if (uint16_t slot = index.by3[code]) {
    *ai_length = 3;
    return index.table + slot - 1;
  }
  if (pos + 4 > text.size() || !IsDigit(text[pos + 3])) return nullptr;
  code = code * 10 + (text[pos + 3] - '0');
  if (uint16_t slot = index.by4[code]) {
    *ai_length = 4;
    return index.table + slot - 1;
  }
  return nullptr;
}

namespace {

// The success path of ValidateComponent without its error building: true when the part is
// certainly valid, false when it is invalid or needs the full check (e.g. 29 February).
inline bool ComponentPlainlyValid(const AiComponent& comp, std::string_view part) {
  if (comp.checks[0] == Check::kCsum && comp.checks[1] != Check::kCsum) {
    // Digits and the check digit in one pass (GS1 weights 3,1,3… from the right).
    if (part.empty()) return false;
    int sum = 0;
    int weight = 3;
    for (size_t i = part.size() - 1; i-- > 0;) {
      unsigned d = static_cast<unsigned>(part[i] - '0');
      if (d > 9) return false;
      sum += static_cast<int>(d) * weight;
      weight = 4 - weight;
    }
    unsigned check = static_cast<unsigned>(part.back() - '0');
    if (check > 9 || static_cast<int>(check) != (10 - sum % 10) % 10) return false;
    // gcppos1/gcppos2 on an all-digit key of 13+ digits always hold.
    for (Check c : comp.checks) {
      if (c != Check::kNone && c != Check::kCsum && c != Check::kGcpPos1 && c != Check::kGcpPos2) {
        return false;
      }
    }
    return part.size() >= 5;
  }
  for (char c : part) {
    if (!InCharset(comp.charset, c)) return false;
  }
  if (comp.charset == Charset::kCset64) return false;  // padding rule: the full check
  for (Check c : comp.checks) {
    switch (c) {
      case Check::kNone:
        break;
      case Check::kYymmd0:
      case Check::kYymmdd:
        if (!PlainlyValidDate(part, c == Check::kYymmd0)) return false;
        break;
      default:
        return false;  // rare linters: the full check answers
    }
  }
  return true;
}

// Splits `value` into the definition's components ("each component of the format
// specification is applied to the given data, consuming prefixes of the prescribed length;
// optional components may be ignored after the given data is exhausted"). Calls
// f(index, part, position) for each present component; returns false (with the position of
// the fault in *bad) when the value is too short or too long for the specification.
template <typename F>
inline bool SplitValue(const AiDefinition& def, std::string_view value, size_t* bad, F&& f) {
  size_t pos = 0;
  for (int i = 0; i < def.component_count; ++i) {
    const AiComponent& comp = def.components[i];
    size_t left = value.size() - pos;
    if (left == 0 && comp.optional) break;
    size_t len;
    if (comp.min_length == comp.max_length) {
      if (left < comp.max_length) {
        *bad = value.size();
        return false;
      }
      len = comp.max_length;
    } else {
      if (left < comp.min_length || left > comp.max_length) {
        *bad = left < comp.min_length ? value.size() : pos + comp.max_length;
        return false;
      }
      len = left;
    }
    if (!f(i, value.substr(pos, len), pos)) {
      *bad = pos;
      return false;
    }
    pos += len;
  }
  if (pos != value.size()) {
    *bad = pos;
    return false;
  }
  return true;
}

// ValidateValue's success path: true when the value is certainly valid.
inline bool ValuePlainlyValid(const AiDefinition& def, std::string_view value) {
  size_t bad = 0;
  return SplitValue(def, value, &bad, [&](int i, std::string_view part, size_t) {
    return ComponentPlainlyValid(def.components[i], part);
  });
}

// ValidateValue as a yes/no answer, building an error only in the rare doubtful case.
bool IsValidValue(const AiDefinition& def, std::string_view value, int reference_year) {
  return ValuePlainlyValid(def, value) || ValidateValue(def, value, 0, reference_year).has_value();
}

[[gnu::noinline]] Status ValidateValueInFull(const AiDefinition& def, std::string_view value,
                                             size_t value_offset, int reference_year) {
  size_t bad = 0;
  bool shaped = SplitValue(def, value, &bad, [](int, std::string_view, size_t) { return true; });
  if (!shaped) {
    std::string want = def.fixed_length() ? "exactly " + std::to_string(def.max_length())
                                          : std::to_string(def.min_length()) + " to " +
                                                std::to_string(def.max_length());
    std::string shape;
    if (def.component_count > 1) {
      shape = " (";
      for (int i = 0; i < def.component_count; ++i) {
        const AiComponent& c = def.components[i];
        if (i) shape += " ";
        if (c.optional) shape += "[";
        shape += c.charset == Charset::kNumeric  ? "N"
                 : c.charset == Charset::kCset82 ? "X"
                 : c.charset == Charset::kCset39 ? "Y"
                                                 : "Z";
        if (c.min_length != c.max_length) shape += "..";
        shape += std::to_string(c.max_length);
        if (c.optional) shape += "]";
      }
      shape += ")";
    }
    return Fail(At(Error("gs1.length", Label(def) + " must have " + want + " characters" + shape +
                                           ", got " + std::to_string(value.size())),
                   def, value_offset));
  }
  Status result = Ok();
  SplitValue(def, value, &bad, [&](int i, std::string_view part, size_t pos) {
    result =
        ValidateComponent(def, def.components[i], part, value_offset + pos, pos, reference_year);
    return result.has_value();
  });
  return result;
}

}  // namespace

Status ValidateValue(const AiDefinition& def, std::string_view value, size_t value_offset,
                     int reference_year) {
  if (ValuePlainlyValid(def, value)) return Ok();
  return ValidateValueInFull(def, value, value_offset, reference_year);
}

namespace {

// Calls f(item) for each `sep`-separated item of `list` until f returns true; returns whether
// one did. A byte loop: the lists are a few bytes long, and a memchr call per item cost
// more than the scan (CheckCombination runs this on every parse).
template <typename F>
bool AnyItem(std::string_view list, char sep, F&& f) {
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == sep) {
      if (f(list.substr(start, i - start))) return true;
      start = i + 1;
    }
  }
  return false;
}

// An AI or AI pattern of a req= or ex= attribute ("31nn": 'n' = any digit) names an AI of
// its length whose digits it matches. Longer items keep their size and so never match
// (AIs have 2 to 4 digits).
struct AiPattern {
  char text[4] = {};
  size_t size = 0;
  bool Matches(std::string_view ai) const {
    if (size != ai.size()) return false;
    for (size_t i = 0; i < size; ++i) {
      if (text[i] != ai[i] && !(text[i] == 'n' && IsDigit(ai[i]))) return false;
    }
    return true;
  }
};

// A definition's ex= and req= attributes, split once: CheckCombination runs on every parse
// and splitting the same few strings there was a fifth of a parse's instructions.
struct Combination {
  std::vector<std::vector<AiPattern>> exclusions;  // per ex= attribute, its patterns
  // per req= attribute, its comma-separated alternatives, each its '+'-joined patterns
  std::vector<std::vector<std::vector<AiPattern>>> requirements;
};

AiPattern PatternOf(std::string_view item) {
  AiPattern p;
  p.size = item.size();
  for (size_t i = 0; i < item.size() && i < sizeof p.text; ++i) p.text[i] = item[i];
  return p;
}

// The combination rules of AiTable()[i], for every i.
const std::vector<Combination>& Combinations() {
  static const std::vector<Combination> all = [] {
    const auto& defs = AiTable();
    std::vector<Combination> out(defs.size());
    for (size_t d = 0; d < defs.size(); ++d) {
      for (int k = 0; k < defs[d].exclusion_count; ++k) {
        auto& patterns = out[d].exclusions.emplace_back();
        AnyItem(defs[d].exclusions[k], ',', [&](std::string_view item) {
          patterns.push_back(PatternOf(item));
          return false;
        });
      }
      for (int k = 0; k < defs[d].requirement_count; ++k) {
        auto& alternatives = out[d].requirements.emplace_back();
        AnyItem(defs[d].requirements[k], ',', [&](std::string_view alternative) {
          auto& parts = alternatives.emplace_back();
          AnyItem(alternative, '+', [&](std::string_view item) {
            parts.push_back(PatternOf(item));
            return false;
          });
          return false;
        });
      }
    }
    return out;
  }();
  return all;
}

// The AIs of a read, in order, as CheckCombination's memo key: each AI's (2 to 4) digits
// packed into 32 bits, and whether associations were checked.
struct AiList {
  static constexpr size_t kMax = 8;
  uint32_t ais[kMax] = {};
  size_t count = 0;
  bool associations = false;
  // False when the read cannot be a key (more than kMax elements, an AI longer than 4).
  bool Set(const std::vector<Gs1Element>& els, bool check_associations) {
    if (els.size() > kMax) return false;
    count = els.size();
    associations = check_associations;
    for (size_t i = 0; i < count; ++i) {
      const std::string& ai = els[i].ai;
      if (ai.size() > 4) return false;
      uint32_t packed = 0;
      for (char c : ai) packed = packed << 8 | static_cast<unsigned char>(c);
      ais[i] = packed;
    }
    return true;
  }
  bool operator==(const AiList& o) const {
    if (count != o.count || associations != o.associations) return false;
    for (size_t i = 0; i < count; ++i) {
      if (ais[i] != o.ais[i]) return false;
    }
    return true;
  }
};

// The last few AI lists whose combination rules held, per thread (no locking).
class PassedLists {
 public:
  bool Contains(const AiList& list) const {
    for (size_t i = 0; i < used_; ++i) {
      if (lists_[i] == list) return true;
    }
    return false;
  }
  void Add(const AiList& list) {
    lists_[next_] = list;
    next_ = (next_ + 1) % kSize;
    used_ = std::max(used_, next_ == 0 ? kSize : next_);
  }

 private:
  static constexpr size_t kSize = 8;
  AiList lists_[kSize];
  size_t next_ = 0, used_ = 0;
};

PassedLists& RecentlyPassed() {
  thread_local PassedLists lists;
  return lists;
}

// "01+21,02" as "AI 01 with AI 21, or AI 02".
std::string DescribeRequirement(std::string_view requirement) {
  std::string out;
  AnyItem(requirement, ',', [&](std::string_view alternative) {
    if (!out.empty()) out += ", or ";
    bool first = true;
    AnyItem(alternative, '+', [&](std::string_view ai) {
      out += first ? "AI " : " with AI ";
      out += ai;
      first = false;
      return false;
    });
    return false;
  });
  return out;
}

}  // namespace

Status CheckCombination(const Gs1Data& data, bool check_associations) {
  const auto& els = data.elements;
  for (size_t i = 0; i < els.size(); ++i) {
    for (size_t j = i + 1; j < els.size(); ++j) {
      // AiEquals, not ==: two-byte AIs compare inline, where == calls memcmp.
      if (AiEquals(els[i].ai, els[j].ai) && els[i].value != els[j].value) {
        return Fail(Error("gs1.duplicate_ai", "AI " + els[i].ai +
                                                  " appears twice with different "
                                                  "values, '" +
                                                  els[i].value + "' and '" + els[j].value +
                                                  "'; the read mixes two codes, scan one pack")
                        .at_field(els[i].ai)
                        .at_offset(els[j].offset));
      }
    }
  }
  // The rules below depend on the AIs alone, in their order, not on the values; scanners
  // send the same few AI lists again and again, so each thread remembers the last lists
  // that passed and skips the rules for them (they were ~1,000 instructions of a ~5,800
  // instruction parse).
  AiList list;
  const bool rememberable = list.Set(els, check_associations);
  if (rememberable && RecentlyPassed().Contains(list)) return Ok();
  const std::vector<Combination>& combinations = Combinations();
  const AiDefinition* table = AiTable().data();
  for (size_t i = 0; i < els.size(); ++i) {
    const Gs1Element& e = els[i];
    const AiDefinition* def = DefinitionOf(e.ai);
    if (!def) continue;
    const Combination& rules = combinations[static_cast<size_t>(def - table)];
    // "ex=": invalid to pair with any listed AI or pattern; "an AI is not exclusive of
    // itself even if it matches a pattern".
    for (size_t k = 0; k < rules.exclusions.size(); ++k) {
      int clash = -1;
      for (const AiPattern& pattern : rules.exclusions[k]) {
        for (size_t j = 0; j < els.size() && clash < 0; ++j) {
          if (!AiEquals(els[j].ai, e.ai) && pattern.Matches(els[j].ai)) {
            clash = static_cast<int>(j);
          }
        }
        if (clash >= 0) break;
      }
      if (clash >= 0) {
        const Gs1Element& other = els[static_cast<size_t>(clash)];
        return Fail(Error("gs1.invalid_pair", "AI " + e.ai + " and AI " + other.ai +
                                                  " must not appear together in GS1 data (AI " +
                                                  e.ai + " excludes " +
                                                  std::string(def->exclusions[k]) + ")")
                        .at_field(e.ai)
                        .at_offset(std::max(e.offset, other.offset)));
      }
    }
    if (!check_associations) continue;
    // "req=": mandatory association with one of the listed AIs or '+' groups.
    for (size_t k = 0; k < rules.requirements.size(); ++k) {
      bool met = false;
      for (const auto& alternative : rules.requirements[k]) {
        bool all = true;
        for (const AiPattern& pattern : alternative) {
          bool found = false;
          for (size_t j = 0; j < els.size() && !found; ++j) {
            found = j != i && pattern.Matches(els[j].ai);
          }
          if (!found) {
            all = false;
            break;
          }
        }
        if (all) {
          met = true;
          break;
        }
      }
      if (met) continue;
      return Fail(Error("gs1.missing_association", Label(*def) + " is only valid together with " +
                                                       DescribeRequirement(def->requirements[k]) +
                                                       ", which this read does not contain")
                      .at_field(e.ai)
                      .at_offset(e.offset));
    }
  }
  if (rememberable) RecentlyPassed().Add(list);
  return Ok();
}

bool IsCompleteElementString(std::string_view text, int reference_year) {
  size_t pos = 0;
  if (text.empty()) return false;
  while (pos < text.size()) {
    if (text[pos] == kGroupSeparator) {
      ++pos;
      continue;
    }
    size_t ai_len = 0;
    const AiDefinition* def = LookupAiAt(text, pos, &ai_len);
    if (!def) return false;
    size_t start = pos + ai_len;
    size_t end;
    if (def->fixed_length()) {
      end = start + def->max_length();
      if (end > text.size()) return false;
    } else {
      end = text.find(kGroupSeparator, start);
      if (end == std::string_view::npos) end = text.size();
    }
    if (!IsValidValue(*def, text.substr(start, end - start), reference_year)) return false;
    pos = end;
  }
  return true;
}

Finding SwallowedAi(const Gs1Data* context, const AiDefinition& def, std::string_view value,
                    size_t value_offset, int reference_year, bool must_shorten) {
  // A tail that starts with a date AI holding a valid date is strong evidence; a tail that
  // starts with AI 10 or 21 is weaker, so those candidates are tried after all date ones.
  // Candidates are collected in one cheap scan; only they are validated.
  constexpr size_t kMaxCandidates = 16;
  size_t candidates[2][kMaxCandidates];
  const AiDefinition* candidate_defs[2][kMaxCandidates];
  size_t counts[2] = {0, 0};
  for (size_t i = 1; i + 2 < value.size(); ++i) {
    // Every AI this looks for (10, 11, 13, 15–17, 21) starts with 1 or 21.
    if (value[i] != '1' && !(value[i] == '2' && value[i + 1] == '1')) continue;
    size_t ai_len = 0;
    const AiDefinition* tail_def = LookupAiAt(value, i, &ai_len);
    if (!tail_def) continue;
    bool is_date =
        tail_def->components[0].Has(Check::kYymmd0) || tail_def->components[0].Has(Check::kYymmdd);
    if (!is_date && !AiEquals(tail_def->ai, "10") && !AiEquals(tail_def->ai, "21")) continue;
    if (context && context->Find(tail_def->ai)) continue;
    int kind = is_date ? 0 : 1;
    if (counts[kind] < kMaxCandidates) {
      candidates[kind][counts[kind]] = i;
      candidate_defs[kind][counts[kind]++] = tail_def;
    }
  }
  for (int kind = 0; kind < 2; ++kind) {
    for (size_t c = 0; c < counts[kind]; ++c) {
      size_t i = candidates[kind][c];
      const AiDefinition* tail_def = candidate_defs[kind][c];
      std::string_view head = value.substr(0, i);
      if (must_shorten && head.size() > def.max_length()) continue;
      // Both must hold; the tail test is the cheaper and the more often false, so it goes first.
      std::string_view tail = value.substr(i);
      if (!IsCompleteElementString(tail, reference_year)) continue;
      if (!IsValidValue(def, head, reference_year)) continue;
      Finding f;
      f.kind = "missing_separator";
      f.ai = std::string(def.ai);
      f.offset = value_offset + i;
      std::string shown(tail.substr(0, 12));
      if (tail.size() > 12) shown += "…";
      f.message = "the " + FriendlyName(def) + " contains '" + shown + "', which looks like " +
                  Article(FriendlyName(*tail_def)) + FriendlyName(*tail_def) + " (AI " +
                  std::string(tail_def->ai) + ")" +
                  ": the scanner probably dropped a group separator (FNC1); check the "
                  "scanner's GS transmission setting and scan again";
      f.suggestion = std::string(def.ai) + std::string(head) + kGroupSeparator + std::string(tail);
      return f;
    }
  }
  // Default-initialised, not `{}`: value-initialising zeroes the whole Finding first, which
  // was the hottest instruction of this function (a rep stos over 136 bytes).
  Finding none;
  return none;
}

void AddWarnings(Gs1Data& data, int reference_year) {
  const Gs1Element* gtin = data.Find("01");
  for (const Gs1Element& e : data.elements) {
    if (!AiEquals(e.ai, "10") && !AiEquals(e.ai, "21")) continue;
    const AiDefinition* def = DefinitionOf(e.ai);
    // Only the strong signal here: a lost AI 17/10/21 is what causes most false A3 alerts.
    Finding f = SwallowedAi(&data, *def, e.value, e.offset + e.ai.size(), reference_year,
                            /*must_shorten=*/false);
    if (!f.kind.empty()) {
      data.warnings.push_back(std::move(f));
      continue;
    }
    if (gtin && e.value.size() > 13) {
      std::string_view v = e.value;
      std::string_view ean13 = std::string_view(gtin->value).substr(1);
      if (v.substr(v.size() - 13) == ean13) {
        Finding a;
        a.kind = "appended_ean";
        a.ai = e.ai;
        a.offset = e.offset + e.ai.size() + v.size() - 13;
        a.message = "the " + FriendlyName(*def) + " ends with the product's EAN " +
                    std::string(ean13) +
                    ": the scanner or label appended the EAN; the real value is probably '" +
                    std::string(v.substr(0, v.size() - 13)) + "'";
        a.suggestion = std::string(v.substr(0, v.size() - 13));
        data.warnings.push_back(std::move(a));
      }
    }
  }
}

}  // namespace pedigree::scanner::internal
