// Form detection, the public parse and diagnosis entry points, and Gs1Data's renderings.
#include "pedigree/scanner/gs1.h"

#include <algorithm>
#include <ctime>

#include "gs1_internal.h"

namespace pedigree::scanner {
namespace {

using internal::InvertCase;

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

int ReferenceYear(const ParseOptions& options) {
  if (options.reference_year) return *options.reference_year;
  // The year only changes at New Year; avoid a gmtime per scan.
  thread_local std::time_t cached_hour = -1;
  thread_local int cached_year = 0;
  std::time_t hour = std::time(nullptr) / 3600;
  if (hour != cached_hour) {
    cached_year = provenance::CurrentUtcYear();
    cached_hour = hour;
  }
  return cached_year;
}

std::string_view TrimEnd(std::string_view s) {
  while (!s.empty() &&
         (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool IsKeyAi(std::string_view ai) {
  static constexpr std::string_view kKeys[] = {"00",   "01",   "02",   "253",  "255",  "401", "402",
                                               "8003", "8004", "8006", "8010", "8017", "8018"};
  return std::find(std::begin(kKeys), std::end(kKeys), ai) != std::end(kKeys);
}

int CanonicalRank(const Gs1Element& e) {
  if (IsKeyAi(e.ai)) return 0;
  const AiDefinition* def = FindAi(e.ai);
  return def && def->predefined_length ? 1 : 2;
}

std::vector<const Gs1Element*> CanonicalOrder(const std::vector<Gs1Element>& elements) {
  std::vector<const Gs1Element*> order;
  order.reserve(elements.size());
  for (const auto& e : elements) order.push_back(&e);
  // Ties (a repeated AI) keep input order through the position tie-break, as a stable sort
  // would; std::stable_sort itself trips clang 19's deprecation of the libstdc++ 12
  // get_temporary_buffer it uses, which -Werror turns into a build failure.
  std::sort(order.begin(), order.end(), [](const Gs1Element* a, const Gs1Element* b) {
    int ra = CanonicalRank(*a), rb = CanonicalRank(*b);
    if (ra != rb) return ra < rb;
    if (a->ai != b->ai) return a->ai < b->ai;
    return a < b;  // both point into `elements`
  });
  return order;
}

std::string SwapYz(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    switch (c) {
      case 'y':
        c = 'z';
        break;
      case 'z':
        c = 'y';
        break;
      case 'Y':
        c = 'Z';
        break;
      case 'Z':
        c = 'Y';
        break;
      default:
        break;
    }
  }
  return out;
}

bool HasKind(const std::vector<Finding>& findings, std::string_view kind) {
  for (const auto& f : findings) {
    if (f.kind == kind) return true;
  }
  return false;
}

// Detects the form and runs its parser. Every return is a prvalue, so the result is built in
// the caller's object without a move.
Result<Gs1Data> ParseDetectedForm(std::string_view in, const ParseOptions& options, int year,
                                  std::vector<Finding>* findings) {
  if (in.empty()) return Fail(Error("gs1.truncated", "the read is empty").at_offset(0));
  if (StartsWithNoCase(in, "urn:epc:") && !StartsWithNoCase(in, "urn:epc:id:")) {
    return Fail(Error("gs1.epc_syntax", "only EPC pure-identity URNs (urn:epc:id:…) are accepted")
                    .at_offset(8));
  }
  if (StartsWithNoCase(in, "https://") || StartsWithNoCase(in, "http://")) {
    return internal::ParseDigitalLink(in, options, year, findings);
  }
  if (StartsWithNoCase(in, "urn:epc:id:")) return internal::ParseEpcUrn(in, options, year);
  if (in[0] == '(') return internal::ParseBracketed(in, options, year, findings);
  return internal::ParseRaw(in, options, year, findings);
}

// Every return names `data`, so it is constructed in the caller's object (NRVO): a Gs1Data
// move and the destruction of the moved-from shell cost about 5% of a parse.
Result<Gs1Data> ParseForm(std::string_view input, const ParseOptions& options, int year,
                          std::vector<Finding>* findings) {
  Result<Gs1Data> data = ParseDetectedForm(TrimEnd(input), options, year, findings);
  if (!data) return data;
  auto ok = internal::CheckCombination(*data, options.check_associations);
  if (!ok) {
    data = std::unexpected(ok.error());
    return data;
  }
  data->reference_year = year;
  internal::AddWarnings(*data, year);
  return data;
}

// When a read fails, tries the readings a known scanner fault would have produced.
void TryAlternativeReadings(std::string_view input, const ParseOptions& options, int year,
                            std::vector<Finding>* findings) {
  if (!HasKind(*findings, "yz_swap") && !HasKind(*findings, "keyboard_layout") &&
      input.find_first_of("yzYZ") != std::string_view::npos) {
    std::string swapped = SwapYz(input);
    if (ParseForm(swapped, options, year, nullptr)) {
      findings->push_back({"yz_swap", "", 0,
                           "with Y and Z swapped the read is valid: the scanner probably types "
                           "with a US layout into a German (QWERTZ) keyboard layout; set both to "
                           "the same layout and scan again",
                           swapped});
    }
  }
  if (!HasKind(*findings, "caps_lock")) {
    std::string inverted = InvertCase(input);
    if (inverted != input && ParseForm(inverted, options, year, nullptr)) {
      findings->push_back({"caps_lock", "", 0,
                           "with upper and lower case inverted the read is valid: Caps Lock is "
                           "probably on at the keyboard-wedge scanner; switch it off and scan "
                           "again",
                           inverted});
    }
  }
}

}  // namespace

const Gs1Element* Gs1Data::Find(std::string_view ai) const {
  for (const auto& e : elements) {
    if (internal::AiEquals(e.ai, ai)) return &e;
  }
  return nullptr;
}

std::optional<provenance::Gtin> Gs1Data::gtin() const {
  const Gs1Element* e = Find("01");
  if (!e) return std::nullopt;
  auto v = provenance::Gtin::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::Serial> Gs1Data::serial() const {
  const Gs1Element* e = Find("21");
  if (!e) return std::nullopt;
  auto v = provenance::Serial::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::Lot> Gs1Data::lot() const {
  const Gs1Element* e = Find("10");
  if (!e) return std::nullopt;
  auto v = provenance::Lot::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::Expiry> Gs1Data::expiry() const {
  const Gs1Element* e = Find("17");
  if (!e) return std::nullopt;
  auto v = reference_year ? provenance::Expiry::Parse(e->value, reference_year)
                          : provenance::Expiry::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::Sscc> Gs1Data::sscc() const {
  const Gs1Element* e = Find("00");
  if (!e) return std::nullopt;
  auto v = provenance::Sscc::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::Gln> Gs1Data::gln() const {
  const Gs1Element* e = Find("414");
  for (size_t i = 0; !e && i < elements.size(); ++i) {
    const std::string& ai = elements[i].ai;
    if (ai.size() == 3 && ai[0] == '4' && ai[1] == '1') e = &elements[i];
  }
  if (!e) return std::nullopt;
  auto v = provenance::Gln::Parse(e->value);
  return v ? std::optional(*v) : std::nullopt;
}

std::optional<provenance::PackId> Gs1Data::pack_id() const {
  auto g = gtin();
  auto s = serial();
  if (!g || !s) return std::nullopt;
  return provenance::PackId(std::move(*g), std::move(*s));
}

std::string Gs1Data::ElementString() const {
  std::string out;
  auto order = CanonicalOrder(elements);
  for (size_t i = 0; i < order.size(); ++i) {
    out += order[i]->ai;
    out += order[i]->value;
    const AiDefinition* def = FindAi(order[i]->ai);
    if (i + 1 < order.size() && !(def && def->predefined_length)) out.push_back(kGroupSeparator);
  }
  return out;
}

std::string Gs1Data::BracketedString() const {
  std::string out;
  for (const Gs1Element* e : CanonicalOrder(elements)) {
    out += "(" + e->ai + ")" + e->value;
  }
  return out;
}

Result<std::string> Gs1Data::DigitalLinkUri(std::string_view base) const {
  static constexpr std::string_view kKeyPreference[] = {
      "01", "00", "414", "417", "8006", "8003", "8004", "8018", "402", "401", "8010"};
  const Gs1Element* key = nullptr;
  for (auto k : kKeyPreference) {
    if ((key = Find(k))) break;
  }
  if (!key) {
    return Fail("gs1.dl_no_primary_key",
                "the data holds no AI that a Digital Link can use as its primary key "
                "(01, 00, 414, 8006, 8003, 8004, 8018, 402, 401…)");
  }
  std::string out(base);
  out += "/" + key->ai + "/" + provenance::PercentEncode(key->value);
  std::string_view sequence, alternative;
  internal::DigitalLinkQualifiers(key->ai, &sequence, &alternative);
  std::vector<const Gs1Element*> in_path = {key};
  bool any = false;
  for (std::string_view list = sequence; !list.empty();) {
    size_t comma = list.find(',');
    if (const Gs1Element* q = Find(list.substr(0, comma))) {
      out += "/" + q->ai + "/" + provenance::PercentEncode(q->value);
      in_path.push_back(q);
      any = true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (!any && !alternative.empty()) {
    if (const Gs1Element* q = Find(alternative)) {
      out += "/" + q->ai + "/" + provenance::PercentEncode(q->value);
      in_path.push_back(q);
    }
  }
  char joiner = '?';
  for (const Gs1Element* e : CanonicalOrder(elements)) {
    if (std::find(in_path.begin(), in_path.end(), e) != in_path.end()) continue;
    out.push_back(joiner);
    out += e->ai + "=" + provenance::PercentEncode(e->value);
    joiner = '&';
  }
  return out;
}

Result<Gs1Data> ParseGs1(std::string_view input, const ParseOptions& options) {
  int year = ReferenceYear(options);
  std::vector<Finding> findings;
  // Every return names `data` (NRVO), see ParseForm.
  Result<Gs1Data> data = ParseForm(input, options, year, &findings);
  if (data) return data;
  TryAlternativeReadings(input, options, year, &findings);
  if (findings.empty()) return data;
  Error e = data.error();
  std::string message = e.message();
  for (const Finding& f : findings) message += "; hint: " + f.message;
  Error hinted(e.code(), message);
  if (!e.field().empty()) hinted = hinted.at_field(e.field());
  if (e.location().offset) hinted = hinted.at_offset(*e.location().offset);
  data = Fail(hinted);
  return data;
}

ParseDiagnosis DiagnoseGs1(std::string_view input, const ParseOptions& options) {
  int year = ReferenceYear(options);
  ParseDiagnosis diagnosis;
  auto data = ParseForm(input, options, year, &diagnosis.findings);
  if (!data) {
    TryAlternativeReadings(input, options, year, &diagnosis.findings);
    return diagnosis;
  }
  for (Finding& f : data->warnings) diagnosis.findings.push_back(std::move(f));
  // Weaker signs: only the ledger can tell whether the alternative serial exists, so these
  // are offered as alternatives to look up after an "unknown serial" answer.
  for (const Gs1Element& e : data->elements) {
    if (e.ai != "21" && e.ai != "10") continue;
    const char* what = e.ai == "21" ? "serial" : "batch";
    if (e.value.find_first_of("yzYZ") != std::string::npos) {
      std::string swapped = SwapYz(e.value);
      diagnosis.findings.push_back(
          {"yz_swap", e.ai, e.offset,
           std::string("if this ") + what +
               " is unknown, the scanner may be typing into a "
               "German (QWERTZ) keyboard layout: with Y and Z swapped it reads '" +
               swapped + "'",
           swapped});
    }
    bool has_lower = false, has_upper = false;
    for (char c : e.value) {
      has_lower |= c >= 'a' && c <= 'z';
      has_upper |= c >= 'A' && c <= 'Z';
    }
    if (has_lower && !has_upper && !HasKind(diagnosis.findings, "caps_lock")) {
      std::string inverted = InvertCase(e.value);
      diagnosis.findings.push_back({"caps_lock", e.ai, e.offset,
                                    std::string("the ") + what +
                                        " is all lower case; if it is unknown, Caps Lock may "
                                        "have inverted it: it would read '" +
                                        inverted + "'",
                                    inverted});
    }
  }
  return diagnosis;
}

}  // namespace pedigree::scanner
