// Pieces shared by the GS1 parsers of each input form (private to pedigree::scanner).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/scanner/gs1.h"

namespace pedigree::scanner::internal {

// What a pharmacist calls the field: "expiry date", "serial number", else the GS1 title.
std::string FriendlyName(const AiDefinition& def);
// "a " or "an " for `noun`.
std::string Article(std::string_view noun);

// "AI 17 (USE BY OR EXPIRY)".
std::string Label(const AiDefinition& def);

// Checks one value against its AI definition. On failure the error carries the AI as field
// and `value_offset` + the position of the fault as offset.
[[nodiscard]] Status ValidateValue(const AiDefinition& def, std::string_view value,
                                   size_t value_offset, int reference_year);

// Duplicates, invalid pairs and (if asked) mandatory associations over the whole data.
[[nodiscard]] Status CheckCombination(const Gs1Data& data, bool check_associations);

// Fills data.warnings with the strong signs of a damaged read that still parsed.
void AddWarnings(Gs1Data& data, int reference_year);

// Where a variable-length value seems to hold a following AI because a separator was lost:
// returns the finding (kind "missing_separator") or an empty kind when nothing fits.
// `context` (may be null) rules out AIs the data already holds; with `must_shorten` the value
// left before the suspected AI must fit the field.
Finding SwallowedAi(const Gs1Data* context, const AiDefinition& def, std::string_view value,
                    size_t value_offset, int reference_year, bool must_shorten);

// Parsers for each form; `findings` receives the diagnoses made where an error is detected.
[[nodiscard]] Result<Gs1Data> ParseRaw(std::string_view input, const ParseOptions& options,
                                       int reference_year, std::vector<Finding>* findings);
[[nodiscard]] Result<Gs1Data> ParseBracketed(std::string_view input, const ParseOptions& options,
                                             int reference_year, std::vector<Finding>* findings);
[[nodiscard]] Result<Gs1Data> ParseDigitalLink(std::string_view input, const ParseOptions& options,
                                               int reference_year, std::vector<Finding>* findings);
[[nodiscard]] Result<Gs1Data> ParseEpcUrn(std::string_view input, const ParseOptions& options,
                                          int reference_year);

// Parses a bare element string (no symbology, separators as GS only) from `text`; used by the
// diagnosis to test whether a tail of a value is itself valid GS1 data.
bool IsCompleteElementString(std::string_view text, int reference_year);

// A linter's finding: the error code, what is wrong (a phrase following "the value …"),
// and the position of the fault in the component.
struct LintFault {
  std::string_view code;
  std::string message;
  size_t pos = 0;
};
// Applies one of the dictionary's linters to one component; nullopt when it passes.
std::optional<LintFault> RunLinter(Check check, std::string_view component, int reference_year);

// FindAi's answer: the definition of `ai` (2 to 4 digits), or nullptr.
const AiDefinition* FindAiByCode(std::string_view ai);

// The AI that starts at text[pos] (2 to 4 digits), or nullptr.
const AiDefinition* LookupAiAt(std::string_view text, size_t pos, size_t* ai_length);

// Key AIs that Digital Link accepts as a primary key, and their qualifier sequences.
bool IsDigitalLinkKey(std::string_view ai);
// For a primary key, the allowed qualifiers in their required order ("22,10,21"), and an
// alternative sequence ("235") or empty.
void DigitalLinkQualifiers(std::string_view key, std::string_view* sequence,
                           std::string_view* alternative);

// Equality of short AI strings without a call to memcmp (this sits on the hot path).
inline bool AiEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Converts to std::string wherever one is initialised from it, so that
// `elements.emplace_back(StringFrom{ai}, StringFrom{value}, offset)` builds the element's
// strings in the vector instead of building them in a temporary and moving them there.
struct StringFrom {
  std::string_view text;
  operator std::string() const { return std::string(text); }
};

// True if `list` (comma-separated AIs) contains `ai`.
bool ListContains(std::string_view list, std::string_view ai);

// `s` with ASCII letter case swapped: what Caps Lock does to a keyboard-wedge read.
inline std::string InvertCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

}  // namespace pedigree::scanner::internal
