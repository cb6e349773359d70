// Reading members of a provenance payload, shared by the supply, trial and kit rules so
// that every kind reports a missing or mistyped member the same way. Each reader fails
// with `code` (the kind family's malformed code, e.g. "event.malformed",
// "trial.malformed") and names the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::provenance::fields {

inline constexpr const char* kMalformed = "event.malformed";
inline constexpr const char* kPackPrefix = "https://id.gs1.org/01/";

// Error `code` "field: why", at `field`.
Error Malformed(const std::string& field, const std::string& why, const char* code = kMalformed);

// A non-empty string member.
[[nodiscard]] Result<std::string> Str(const JsonValue& obj, const char* name,
                                      const char* code = kMalformed);
// The string member, or "" when absent or not a string.
std::string OptStr(const JsonValue& obj, const char* name);
[[nodiscard]] Result<int64_t> Int(const JsonValue& obj, const char* name,
                                  const char* code = kMalformed);
// An array of non-empty strings (possibly empty).
[[nodiscard]] Result<std::vector<std::string>> StrList(const JsonValue& obj, const char* name,
                                                       const char* code = kMalformed);

bool AllDigits(std::string_view s);
// 0..15, or -1 for a character that is not a hex digit.
int HexDigit(char c);
// Exactly 64 lowercase hex characters (a SHA-256 written as the ledger writes it).
bool IsLowerHex64(std::string_view s);

struct PackKey {
  std::string gtin;
  std::string serial;
  bool operator<(const PackKey& o) const {
    return std::tie(gtin, serial) < std::tie(o.gtin, o.serial);
  }
};

// A canonical pack id `https://id.gs1.org/01/{gtin14}/21/{serial}` into its parts; the
// serial is percent-decoded. nullopt when `epc` is not a pack id.
std::optional<PackKey> ParsePackId(std::string_view epc);
std::string PackIdOf(const PackKey& k);

// A temperature in °C as EPCIS writes it, but as a decimal string ("-2", "12.3") or an
// integer, since signed payloads carry no floats; in tenths of a degree.
[[nodiscard]] Result<int64_t> TenthsOfDegree(const JsonValue& v, const char* field,
                                             const char* code = kMalformed);

// The lowest and highest temperature (tenths °C) of a sensor payload: either `readings`
// [{time, value: tenths}] or EPCIS 2.0 `sensorElementList` [{sensorMetadata, sensorReport:
// [{type: "Temperature", value | minValue | maxValue, uom: "CEL"}]}].
[[nodiscard]] Result<std::pair<int64_t, int64_t>> TemperatureRange(const JsonValue& p,
                                                                   const char* code = kMalformed);

// docs/events.md's physical bounds of sensor values: a temperature from -273.1 to 1000.0
// degrees Celsius (readings -2731..10000 tenths, or sensorElementList Temperature reports), a
// RelativeHumidity report from 0 to 100 %. event.sensor_out_of_bounds at the reading's path
// ("readings[1].value"); `code` for a value that does not parse.
[[nodiscard]] Status CheckSensorBounds(const JsonValue& p, const char* code = kMalformed);

}  // namespace pedigree::provenance::fields
