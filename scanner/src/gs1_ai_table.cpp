// The Application Identifier table: the GS1 Barcode Syntax Dictionary
// (scanner/data/gs1-syntax-dictionary.txt, embedded at build time) parsed once at start.
// The parser has no per-AI code; every rule comes from the dictionary's line for the AI.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>

#include "gs1_internal.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::scanner {
namespace internal {
extern const char kGs1SyntaxDictionary[];
}  // namespace internal

namespace {

struct LinterName {
  std::string_view name;
  Check check;
};
// Every linter the dictionary may name; an unknown name fails the parse.
constexpr LinterName kLinters[] = {
    {"csum", Check::kCsum},
    {"csumalpha", Check::kCsumAlpha},
    {"gcppos1", Check::kGcpPos1},
    {"gcppos2", Check::kGcpPos2},
    {"yymmd0", Check::kYymmd0},
    {"yymmdd", Check::kYymmdd},
    {"yyyymmdd", Check::kYyyymmdd},
    {"hhmi", Check::kHhmi},
    {"hh", Check::kHh},
    {"mi", Check::kMi},
    {"ss", Check::kSs},
    {"iso3166", Check::kIso3166},
    {"iso3166999", Check::kIso3166999},
    {"iso3166alpha2", Check::kIso3166Alpha2},
    {"iso4217", Check::kIso4217},
    {"iso5218", Check::kIso5218},
    {"iban", Check::kIban},
    {"pcenc", Check::kPcenc},
    {"pieceoftotal", Check::kPieceOfTotal},
    {"posinseqslash", Check::kPosInSeqSlash},
    {"winding", Check::kWinding},
    {"zero", Check::kZero},
    {"nonzero", Check::kNonZero},
    {"nozeroprefix", Check::kNoZeroPrefix},
    {"mediatype", Check::kMediaType},
    {"latitude", Check::kLatitude},
    {"longitude", Check::kLongitude},
    {"couponcode", Check::kCouponCode},
    {"couponposoffer", Check::kCouponPosOffer},
    {"hasnondigit", Check::kHasNonDigit},
    {"importeridx", Check::kImporterIdx},
    {"packagetype", Check::kPackageType},
    {"yesno", Check::kYesNo},
    {"hyphen", Check::kHyphen},
    {"key", Check::kKey},
    {"keyoff1", Check::kKeyOff1},
    {"hhmm", Check::kHhmm},
    {"mm", Check::kMm},
    {"yyyymmd0", Check::kYyyymmd0},
    {"yymmddhh", Check::kYymmddhh},
    {"mmoptss", Check::kMmOptSs},
    {"iso3166list", Check::kIso3166List},
    {"latlong", Check::kLatLong},
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    size_t p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

Error DictionaryError(size_t line_number, std::string_view line, const std::string& what) {
  return Error("gs1.dictionary", "GS1 syntax dictionary line " + std::to_string(line_number) +
                                     " ('" + std::string(Trim(line)) + "'): " + what);
}

// Names of AIs expanded from ranges ("3101" from "3100-3105") must outlive every parse.
std::string_view Intern(std::string name) {
  static std::mutex mutex;
  static std::deque<std::string> pool;
  std::lock_guard lock(mutex);
  for (const auto& s : pool) {
    if (s == name) return s;
  }
  pool.push_back(std::move(name));
  return pool.back();
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "N14,csum,gcppos2", "[X..17]", "[N3],iso3166".
Result<AiComponent> ParseComponent(std::string_view token, size_t line_number,
                                   std::string_view line) {
  AiComponent comp;
  std::string_view type = token;
  std::string_view linters;
  if (token.front() == '[') {
    size_t close = token.find(']');
    if (close == std::string_view::npos) {
      return Fail(
          DictionaryError(line_number, line, "unclosed '[' in '" + std::string(token) + "'"));
    }
    comp.optional = true;
    type = token.substr(1, close - 1);
    linters = token.substr(close + 1);
  } else {
    size_t comma = token.find(',');
    type = token.substr(0, comma);
    linters = comma == std::string_view::npos ? std::string_view() : token.substr(comma);
  }
  if (type.size() < 2) {
    return Fail(DictionaryError(line_number, line, "bad component '" + std::string(token) + "'"));
  }
  switch (type[0]) {
    case 'N':
      comp.charset = Charset::kNumeric;
      break;
    case 'X':
      comp.charset = Charset::kCset82;
      break;
    case 'Y':
      comp.charset = Charset::kCset39;
      break;
    case 'Z':
      comp.charset = Charset::kCset64;
      break;
    default:
      return Fail(
          DictionaryError(line_number, line, "unknown component type '" + std::string(type) + "'"));
  }
  std::string_view length = type.substr(1);
  bool variable = length.substr(0, 2) == "..";
  if (variable) length.remove_prefix(2);
  if (!AllDigits(length) || length.size() > 2 || length == "0") {
    return Fail(DictionaryError(line_number, line, "bad length in '" + std::string(type) + "'"));
  }
  int n = std::stoi(std::string(length));
  comp.max_length = static_cast<unsigned char>(n);
  comp.min_length = variable ? 1 : static_cast<unsigned char>(n);
  if (!linters.empty()) {
    if (linters.front() != ',') {
      return Fail(DictionaryError(line_number, line, "bad component '" + std::string(token) + "'"));
    }
    int count = 0;
    for (std::string_view name : Split(linters.substr(1), ',')) {
      const LinterName* found = nullptr;
      for (const auto& l : kLinters) {
        if (l.name == name) found = &l;
      }
      if (!found) {
        return Fail(DictionaryError(line_number, line,
                                    "unknown linter '" + std::string(name) +
                                        "': implement it in gs1_validate.cpp before using "
                                        "this dictionary"));
      }
      if (count == 4) {
        return Fail(DictionaryError(line_number, line, "more than 4 linters on a component"));
      }
      comp.checks[count++] = found->check;
    }
  }
  return comp;
}

// One dictionary entry, for every AI of its range.
Status ParseLine(std::string_view line, size_t line_number, std::vector<AiDefinition>& out) {
  std::string_view body = line;
  std::string_view title;
  if (size_t hash = line.find('#'); hash != std::string_view::npos) {
    body = line.substr(0, hash);
    title = Trim(line.substr(hash + 1));
  }
  std::vector<std::string_view> tokens;
  for (size_t p = 0; p < body.size();) {
    while (p < body.size() && IsSpace(body[p])) ++p;
    size_t start = p;
    while (p < body.size() && !IsSpace(body[p])) ++p;
    if (p > start) tokens.push_back(body.substr(start, p - start));
  }
  if (tokens.size() < 2) return Fail(DictionaryError(line_number, line, "no specification"));
  AiDefinition def;
  def.title = title;
  size_t t = 1;
  char first = tokens[1][0];
  if (first != 'N' && first != 'X' && first != 'Y' && first != 'Z' && first != '[') {
    for (char f : tokens[1]) {
      if (f == '*') {
        def.predefined_length = true;
      } else if (f == '?') {
        def.dl_data_attribute = true;
      } else {
        return Fail(DictionaryError(line_number, line, std::string("unknown flag '") + f + "'"));
      }
    }
    t = 2;
  }
  def.component_count = 0;
  bool seen_optional = false;
  for (; t < tokens.size(); ++t) {
    std::string_view tok = tokens[t];
    bool is_attribute = tok.find('=') != std::string_view::npos || tok == "dlpkey";
    if (is_attribute) {
      size_t eq = tok.find('=');
      std::string_view key = tok.substr(0, eq);
      std::string_view value =
          eq == std::string_view::npos ? std::string_view() : tok.substr(eq + 1);
      if (key == "req") {
        if (def.requirement_count == 3) {
          return Fail(DictionaryError(line_number, line, "more than 3 req= attributes"));
        }
        def.requirements[def.requirement_count++] = value;
      } else if (key == "ex") {
        if (def.exclusion_count == 2) {
          return Fail(DictionaryError(line_number, line, "more than 2 ex= attributes"));
        }
        def.exclusions[def.exclusion_count++] = value;
      } else if (key == "dlpkey") {
        def.dl_primary_key = true;
        def.dl_qualifiers = value;
      } else {
        return Fail(
            DictionaryError(line_number, line, "unknown attribute '" + std::string(key) + "'"));
      }
      continue;
    }
    if (def.requirement_count || def.exclusion_count || def.dl_primary_key) {
      return Fail(DictionaryError(line_number, line, "a component follows the attributes"));
    }
    if (def.component_count == AiDefinition::kMaxComponents) {
      return Fail(DictionaryError(line_number, line, "more than 5 components"));
    }
    auto comp = ParseComponent(tok, line_number, line);
    if (!comp) return std::unexpected(comp.error());
    // "No mandatory components may follow optional components"; "only the final component
    // may have variable length".
    if (seen_optional && !comp->optional) {
      return Fail(
          DictionaryError(line_number, line, "a mandatory component follows an optional one"));
    }
    if (def.component_count > 0) {
      const AiComponent& prev = def.components[def.component_count - 1];
      if (prev.min_length != prev.max_length) {
        return Fail(
            DictionaryError(line_number, line, "a component follows a variable-length one"));
      }
    }
    seen_optional = seen_optional || comp->optional;
    def.components[def.component_count++] = *comp;
  }
  if (def.component_count == 0) {
    return Fail(DictionaryError(line_number, line, "no components"));
  }
  std::string_view ais = tokens[0];
  size_t dash = ais.find('-');
  std::string_view lo = ais.substr(0, dash);
  std::string_view hi = dash == std::string_view::npos ? lo : ais.substr(dash + 1);
  if (!AllDigits(lo) || !AllDigits(hi) || lo.size() != hi.size() || lo.size() < 2 ||
      lo.size() > 4 || hi < lo) {
    return Fail(
        DictionaryError(line_number, line, "bad AI or AI range '" + std::string(ais) + "'"));
  }
  if (lo == hi) {
    def.ai = lo;
    out.push_back(def);
    return Ok();
  }
  int from = std::stoi(std::string(lo));
  int to = std::stoi(std::string(hi));
  for (int code = from; code <= to; ++code) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%0*d", static_cast<int>(lo.size()), code);
    def.ai = Intern(buf);
    out.push_back(def);
  }
  return Ok();
}

std::vector<AiDefinition> BuildTable() {
  auto table = ParseSyntaxDictionary(SyntaxDictionaryText());
  if (!table) {
    // The embedded text is fixed at build time and the tests parse it: this only happens
    // if a build skipped them.
    std::fprintf(stderr, "pedigree: %s\n", table.error().message().c_str());
    std::abort();
  }
  return std::move(*table);
}

}  // namespace

std::string_view SyntaxDictionaryText() { return internal::kGs1SyntaxDictionary; }

Result<std::vector<AiDefinition>> ParseSyntaxDictionary(std::string_view text) {
  std::vector<AiDefinition> table;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_number;
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    auto ok = ParseLine(line, line_number, table);
    if (!ok) return std::unexpected(ok.error());
  }
  std::sort(table.begin(), table.end(),
            [](const AiDefinition& a, const AiDefinition& b) { return a.ai < b.ai; });
  for (size_t i = 1; i < table.size(); ++i) {
    if (table[i].ai == table[i - 1].ai) {
      return Fail(Error("gs1.dictionary",
                        "GS1 syntax dictionary defines AI " + std::string(table[i].ai) + " twice"));
    }
  }
  // AIs are prefix-free: no AI may start with another (the parser of element strings relies
  // on it).
  for (size_t i = 0; i < table.size(); ++i) {
    for (size_t j = 0; j < table.size(); ++j) {
      if (i != j && table[j].ai.size() > table[i].ai.size() &&
          table[j].ai.substr(0, table[i].ai.size()) == table[i].ai) {
        return Fail(Error("gs1.dictionary", "GS1 syntax dictionary AI " + std::string(table[j].ai) +
                                                " starts with AI " + std::string(table[i].ai)));
      }
    }
  }
  return table;
}

const std::vector<AiDefinition>& AiTable() {
  static const std::vector<AiDefinition> table = BuildTable();
  return table;
}

const AiDefinition* FindAi(std::string_view ai) { return internal::FindAiByCode(ai); }

}  // namespace pedigree::scanner
