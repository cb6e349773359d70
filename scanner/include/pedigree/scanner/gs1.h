// GS1 data from a scanner, a label or a URI, turned into the ledger's typed identifiers.
// Accepted forms, the AI table, every error code and the damaged-read diagnoses are
// documented in docs/scanning.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner {

// The ASCII group separator that carries FNC1 in scanner output.
inline constexpr char kGroupSeparator = '\x1d';

// One Application Identifier with its value, as found in the input.
struct Gs1Element {
  std::string ai;     // "01", "17", "8003"…
  std::string value;  // decoded (percent-decoding applied for URIs)
  size_t offset = 0;  // byte offset of the AI (raw/bracketed) or of the value (URIs) in the input
  bool operator==(const Gs1Element&) const = default;
};

// A finding about a probably damaged read: never a correction, only a hint with the
// alternative reading the service may try.
struct Finding {
  // "missing_separator", "caps_lock", "yz_swap", "keyboard_layout", "appended_ean".
  std::string kind;
  std::string ai;          // the AI whose value is suspect, empty if the whole input
  size_t offset = 0;       // byte offset in the input
  std::string message;     // one sentence a pharmacist can act on
  std::string suggestion;  // the alternative reading, e.g. the serial with Y/Z swapped
};

// Everything a parse found, in input order.
struct Gs1Data {
  std::vector<Gs1Element> elements;
  std::string symbology;    // "]d2", "]C1", "]Q3", "]e0" or "" when absent
  std::string source_form;  // "raw", "bracketed", "digital_link", "epc_urn"
  // Digital Link query keys that are not AIs (linkType, context…), reported not used.
  std::vector<std::string> ignored_query_keys;
  // Suspicions about a read that parsed (e.g. a serial that seems to hold a lost AI 17).
  std::vector<Finding> warnings;
  // The reference year of the century window the parse used (for expiry()).
  int reference_year = 0;

  // First element with this AI, or nullptr.
  const Gs1Element* Find(std::string_view ai) const;

  std::optional<provenance::Gtin> gtin() const;
  std::optional<provenance::Serial> serial() const;
  std::optional<provenance::Lot> lot() const;
  // Century by the sliding window around reference_year (the current UTC year if 0).
  std::optional<provenance::Expiry> expiry() const;
  std::optional<provenance::Sscc> sscc() const;
  // The GLN of AI 414 (location), else the first of 410–417.
  std::optional<provenance::Gln> gln() const;
  std::optional<provenance::PackId> pack_id() const;

  // Canonical element string: key AIs first, then the predefined-length AIs, then the others
  // by AI number; a GS (0x1D) after each field that is not predefined-length and not last.
  // No symbology identifier and no leading FNC1.
  std::string ElementString() const;
  // "(01)…(17)…(10)…(21)…" in the same canonical order.
  std::string BracketedString() const;
  // GS1 Digital Link on `base` (no trailing slash): the primary key and its qualifiers in the
  // path, every other AI as a query attribute. Fails with gs1.dl_no_primary_key if the data
  // has no key AI that Digital Link can carry.
  [[nodiscard]] Result<std::string> DigitalLinkUri(
      std::string_view base = "https://id.gs1.org") const;
};

struct ParseOptions {
  // Texts that keyboard-wedge scanners type for FNC1/GS; each is read as a GS.
  std::vector<std::string> gs_tokens = {"<GS>", "^]", "{GS}", "<FNC1>", "\\x1D", "\\x1d"};
  // Reference year of the century window; the current UTC year when absent.
  std::optional<int> reference_year;
  // Mandatory associations (21 needs 01…) are checked unless this is false, e.g. when a
  // carrier is known to be one of several on the same item.
  bool check_associations = true;
};

// Parses one read, detecting its form: raw scanner data (optional symbology identifier,
// GS separators or their keyboard-wedge renderings), bracketed "(01)…", a GS1 Digital Link
// URI on any domain, or an EPC pure-identity URN (sgtin, sscc, sgln). Every malformed input
// yields a specific gs1.* code with the AI as field and the byte offset; when the damage looks
// like a known scanner fault, the message ends with a hint (see DiagnoseGs1).
[[nodiscard]] Result<Gs1Data> ParseGs1(std::string_view input, const ParseOptions& options = {});

// Findings about a probably damaged read (missing separator, Caps Lock, Y/Z swap from a
// QWERTZ layout, an EAN appended to the lot), whether or not ParseGs1 accepts it.
struct ParseDiagnosis {
  std::vector<Finding> findings;
  bool empty() const { return findings.empty(); }
};
ParseDiagnosis DiagnoseGs1(std::string_view input, const ParseOptions& options = {});

// EPC Tag Data Standard pure-identity URNs. company_prefix_length is 6..12 (the GS1 Company
// Prefix length is not in the GTIN itself; the caller knows it from the organisation
// registry). Fails with gs1.company_prefix_length or gs1.epc_syntax (serial not encodable).
[[nodiscard]] Result<std::string> ToEpcUrn(const provenance::PackId& pack,
                                           int company_prefix_length);
[[nodiscard]] Result<std::string> ToEpcUrn(const provenance::Sscc& sscc, int company_prefix_length);
// A GLN without extension gets the extension "0" (TDS: SGLN with no AI 254).
[[nodiscard]] Result<std::string> ToEpcUrn(const provenance::Gln& gln, int company_prefix_length);

// The AI table as data, for docs and callers that want to describe an AI.
enum class Charset { kNumeric, kCset82, kCset39 };
enum class Check { kNone, kCheckDigit, kDateDayZeroAllowed, kDate, kTime, kZero };
struct AiComponent {
  Charset charset = Charset::kNumeric;
  unsigned char min_length = 0;
  unsigned char max_length = 0;  // == min_length for fixed-length components
  Check check = Check::kNone;
};
struct AiDefinition {
  std::string_view ai;
  std::string_view title;
  // True when the AI's first two digits are in GS1's predefined-length table (GenSpecs
  // Figure 7.8.5-2): such a field never needs a separator after it.
  bool predefined_length = false;
  AiComponent components[3];
  int component_count = 1;
  // Each non-empty string is a comma list; the data must contain one AI from every list.
  std::string_view requires_one_of[2];
  std::string_view excludes;  // comma list of AIs that must not appear with this one
  size_t min_length() const {
    size_t n = 0;
    for (int i = 0; i < component_count; ++i) n += components[i].min_length;
    return n;
  }
  size_t max_length() const {
    size_t n = 0;
    for (int i = 0; i < component_count; ++i) n += components[i].max_length;
    return n;
  }
  bool fixed_length() const { return min_length() == max_length(); }
};
// The definition of `ai`, or nullptr when the AI is unknown.
const AiDefinition* FindAi(std::string_view ai);
// All definitions in AI order.
const std::vector<AiDefinition>& AiTable();

}  // namespace pedigree::scanner
