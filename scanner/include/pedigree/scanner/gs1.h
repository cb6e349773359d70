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

// The AI table as data, for docs and callers that want to describe an AI. It is parsed from
// the GS1 Barcode Syntax Dictionary (scanner/data/gs1-syntax-dictionary.txt) embedded in the
// build: one definition per AI (ranges such as 3100-3105 are expanded).
// N = digits, X = CSET 82, Y = CSET 39, Z = CSET 64 (base64url).
enum class Charset : unsigned char { kNumeric, kCset82, kCset39, kCset64 };
// The dictionary's linters ("syntax tests"), each applied to one component.
enum class Check : unsigned char {
  kNone,
  kCsum,            // GS1 mod-10 check digit
  kCsumAlpha,       // GMN check character pair
  kGcpPos1,         // starts with a GS1 Company Prefix (4 digits at least)
  kGcpPos2,         // the same after the first character
  kYymmd0,          // YYMMDD, DD may be 00
  kYymmdd,          // YYMMDD
  kYyyymmdd,        // YYYYMMDD
  kHhmi,            // HHMI
  kHh,              // HH
  kMi,              // MI
  kSs,              // SS
  kIso3166,         // ISO 3166 numeric country code
  kIso3166999,      // the same, or 999
  kIso3166Alpha2,   // ISO 3166 alpha-2 country code
  kIso4217,         // ISO 4217 numeric currency code
  kIso5218,         // 0, 1, 2 or 9
  kIban,            // ISO 13616 IBAN with its mod-97 check
  kPcenc,           // valid percent-encoding
  kPieceOfTotal,    // PPTT: non-zero piece not above the non-zero total
  kPosInSeqSlash,   // "pos/end"
  kWinding,         // 0, 1 or 9
  kZero,            // "0"
  kNonZero,         // not all zeros
  kNoZeroPrefix,    // no leading zero unless "0"
  kMediaType,       // AIDC media type 01-10, 80-99
  kLatitude,        // 0 to 1800000000
  kLongitude,       // 0 to 3600000000
  kCouponCode,      // North American coupon code (AI 8110)
  kCouponPosOffer,  // positive offer file coupon (AI 8112)
  kHasNonDigit,     // at least one non-digit
  kImporterIdx,     // one importer-index character
  kPackageType,     // PackageTypeCode
  kYesNo,           // 0 or 1
  kHyphen,          // "-"
  // Named by other releases of the dictionary; implemented so that an update using them
  // keeps working.
  kKey,          // older name of gcppos1
  kKeyOff1,      // older name of gcppos2
  kHhmm,         // HHMM
  kMm,           // MM month 01-12
  kYyyymmd0,     // YYYYMMDD, DD may be 00
  kYymmddhh,     // YYMMDDHH
  kMmOptSs,      // MM minutes, optionally followed by SS seconds
  kIso3166List,  // one to five ISO 3166 numeric codes
  kLatLong,      // latitude (N10) then longitude (N10)
};
struct AiComponent {
  Charset charset = Charset::kNumeric;
  unsigned char min_length = 0;
  unsigned char max_length = 0;  // == min_length for fixed-length components
  bool optional = false;         // "[...]": may be absent once the data is exhausted
  Check checks[4] = {Check::kNone, Check::kNone, Check::kNone, Check::kNone};
  bool Has(Check c) const {
    for (Check k : checks) {
      if (k == c) return true;
    }
    return false;
  }
};
struct AiDefinition {
  std::string_view ai;
  std::string_view title;
  // "*" flag: a predefined-length AI that never needs a separator after it.
  bool predefined_length = false;
  // "?" flag: allowed as a GS1 Digital Link data attribute (query parameter).
  bool dl_data_attribute = false;
  static constexpr int kMaxComponents = 5;
  AiComponent components[kMaxComponents];
  int component_count = 1;
  // Each req= attribute as written ("01+21,02,35nn"): one of its comma-separated
  // alternatives must be present, an alternative being AIs or patterns joined by '+'
  // ('n' = any digit). Every attribute must hold.
  std::string_view requirements[3];
  int requirement_count = 0;
  // Each ex= attribute ("390n,8111"): none of these AIs or patterns may appear with this one
  // (an AI never excludes itself).
  std::string_view exclusions[2];
  int exclusion_count = 0;
  // "dlpkey": a Digital Link primary key; dl_qualifiers holds the value ("22,10,21|235"),
  // empty when the key takes no qualifier.
  bool dl_primary_key = false;
  std::string_view dl_qualifiers;
  size_t min_length() const {
    size_t n = 0;
    for (int i = 0; i < component_count; ++i) {
      if (!components[i].optional) n += components[i].min_length;
    }
    return n;
  }
  size_t max_length() const {
    size_t n = 0;
    for (int i = 0; i < component_count; ++i) n += components[i].max_length;
    return n;
  }
  bool fixed_length() const { return min_length() == max_length(); }
};
// The dictionary text embedded in the build, and its parse: fails (gs1.dictionary) on a
// line it cannot read, an unknown flag, linter or attribute, so that a dictionary update
// with something new stops the build's tests instead of being skipped silently.
std::string_view SyntaxDictionaryText();
[[nodiscard]] Result<std::vector<AiDefinition>> ParseSyntaxDictionary(std::string_view text);
// The definition of `ai`, or nullptr when the AI is unknown.
const AiDefinition* FindAi(std::string_view ai);
// All definitions in AI order.
const std::vector<AiDefinition>& AiTable();

}  // namespace pedigree::scanner
