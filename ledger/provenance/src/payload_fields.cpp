// Payload member readers shared by the supply, trial and kit rules.
#include "payload_fields.h"

#include <algorithm>
#include <climits>

#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::provenance::fields {

Error Malformed(const std::string& field, const std::string& why, const char* code) {
  return Error(code, field + ": " + why).at_field(field);
}

Result<std::string> Str(const JsonValue& obj, const char* name, const char* code) {
  const JsonValue* v = obj.find(name);
  if (!v) return Fail(Malformed(name, "missing", code));
  if (!v->is_string()) return Fail(Malformed(name, "must be a string", code));
  if (v->as_string().empty()) return Fail(Malformed(name, "must not be empty", code));
  return v->as_string();
}

std::string OptStr(const JsonValue& obj, const char* name) {
  const JsonValue* v = obj.find(name);
  return v && v->is_string() ? v->as_string() : std::string();
}

Result<int64_t> Int(const JsonValue& obj, const char* name, const char* code) {
  const JsonValue* v = obj.find(name);
  if (!v) return Fail(Malformed(name, "missing", code));
  if (!v->is_int()) return Fail(Malformed(name, "must be an integer", code));
  return v->as_int();
}

Result<std::vector<std::string>> StrList(const JsonValue& obj, const char* name, const char* code) {
  const JsonValue* v = obj.find(name);
  if (!v) return Fail(Malformed(name, "missing", code));
  if (!v->is_array()) return Fail(Malformed(name, "must be an array of strings", code));
  std::vector<std::string> out;
  for (const JsonValue& item : v->as_array()) {
    if (!item.is_string() || item.as_string().empty()) {
      return Fail(Malformed(name, "must be an array of non-empty strings", code));
    }
    out.push_back(item.as_string());
  }
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<PackKey> ParsePackId(std::string_view epc) {
  if (epc.rfind(kPackPrefix, 0) != 0) return std::nullopt;
  std::string_view rest = epc.substr(std::string_view(kPackPrefix).size());
  if (rest.size() < 19 || rest.substr(14, 4) != "/21/") return std::nullopt;
  PackKey key{std::string(rest.substr(0, 14)), {}};
  std::string_view enc = rest.substr(18);
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc[i] == '%') {
      if (i + 2 >= enc.size()) return std::nullopt;
      int hi = HexDigit(enc[i + 1]);
      int lo = HexDigit(enc[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      key.serial.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (enc[i] == '/' || enc[i] == '?' || enc[i] == '#') {
      return std::nullopt;
    } else {
      key.serial.push_back(enc[i]);
    }
  }
  if (key.serial.empty()) return std::nullopt;
  return key;
}

std::string PackIdOf(const PackKey& k) {
  return kPackPrefix + k.gtin + "/21/" + PercentEncode(k.serial);
}

Result<int64_t> TenthsOfDegree(const JsonValue& v, const char* field, const char* code) {
  if (v.is_int()) return v.as_int() * 10;
  if (!v.is_string())
    return Fail(Malformed(field, "a temperature must be a decimal string such as \"4.5\"", code));
  const std::string& t = v.as_string();
  size_t i = 0;
  bool negative = i < t.size() && t[i] == '-';
  if (negative) ++i;
  int64_t whole = 0;
  size_t digits = 0;
  for (; i < t.size() && t[i] >= '0' && t[i] <= '9' && digits < 6; ++i, ++digits)
    whole = whole * 10 + (t[i] - '0');
  int64_t tenth = 0;
  if (i < t.size() && t[i] == '.' && i + 2 == t.size() && t[i + 1] >= '0' && t[i + 1] <= '9') {
    tenth = t[i + 1] - '0';
    i += 2;
  }
  if (digits == 0 || i != t.size()) {
    return Fail(Malformed(
        field, "'" + t + "' is not a temperature with at most one decimal, e.g. \"4.5\"", code));
  }
  int64_t tenths = whole * 10 + tenth;
  return negative ? -tenths : tenths;
}

Result<std::pair<int64_t, int64_t>> TemperatureRange(const JsonValue& p, const char* code) {
  int64_t lowest = INT64_MAX, highest = INT64_MIN;
  auto take = [&](int64_t tenths) {
    lowest = std::min(lowest, tenths);
    highest = std::max(highest, tenths);
  };
  if (const JsonValue* list = p.find("sensorElementList")) {
    if (!list->is_array()) return Fail(Malformed("sensorElementList", "must be an array", code));
    for (const JsonValue& element : list->as_array()) {
      const JsonValue* reports = element.is_object() ? element.find("sensorReport") : nullptr;
      if (!reports || !reports->is_array()) {
        return Fail(
            Malformed("sensorElementList", "each element needs a sensorReport array", code));
      }
      for (const JsonValue& r : reports->as_array()) {
        if (!r.is_object())
          return Fail(Malformed("sensorElementList", "each sensorReport must be an object", code));
        const JsonValue* type = r.find("type");
        if (!type || !type->is_string() ||
            (type->as_string() != "Temperature" && type->as_string() != "gs1:Temperature")) {
          continue;  // other sensors (humidity, shock) do not bear on the temperature range
        }
        if (const JsonValue* uom = r.find("uom");
            uom && (!uom->is_string() || uom->as_string() != "CEL")) {
          return Fail(Malformed("sensorElementList", "temperature uom must be CEL", code));
        }
        for (const char* k : {"value", "minValue", "maxValue"}) {
          if (const JsonValue* v = r.find(k)) {
            PEDIGREE_ASSIGN(tenths, TenthsOfDegree(*v, "sensorElementList", code));
            take(*tenths);
          }
        }
      }
    }
  } else if (const JsonValue* readings = p.find("readings")) {
    if (!readings->is_array())
      return Fail(Malformed("readings", "must be an array of {time, value}", code));
    for (const JsonValue& r : readings->as_array()) {
      if (!r.is_object())
        return Fail(Malformed("readings", "each reading must be an object {time, value}", code));
      PEDIGREE_ASSIGN(value, Int(r, "value", code));
      PEDIGREE_ASSIGN(t, Str(r, "time", code));
      if (!ParseUtcTime(*t))
        return Fail(Malformed("readings", "reading time '" + *t + "' is not a UTC time", code));
      take(*value);
    }
  } else {
    return Fail(Malformed("sensorElementList", "missing (or give readings [{time, value}])", code));
  }
  if (lowest == INT64_MAX)
    return Fail(Malformed("sensorElementList", "no temperature reading", code));
  return std::pair{lowest, highest};
}

namespace {
// Physical bounds of sensor readings: absolute zero (−273.15 °C, in whole tenths −273.1)
// to +1000 °C; relative humidity 0–100 %.
constexpr int64_t kMinTenthsCelsius = -2731;
constexpr int64_t kMaxTenthsCelsius = 10000;
constexpr int64_t kMaxTenthsHumidity = 1000;

}  // namespace

// Sensor values within physical bounds: temperatures (both payload forms) and relative
// humidity reports of an EPCIS sensorElementList.
Status CheckSensorBounds(const JsonValue& p, const char* code) {
  auto out_of_bounds = [](const std::string& field, const std::string& value, const char* what,
                          const char* expected) {
    return Fail(Error("event.sensor_out_of_bounds", field + " " + value +
                                                        " is not a physically possible " + what +
                                                        "; expected " + expected)
                    .at_field(field));
  };
  auto tenths_text = [](int64_t t) {
    std::string sign = t < 0 ? "-" : "";
    int64_t a = t < 0 ? -t : t;
    return sign + std::to_string(a / 10) + "." + std::to_string(a % 10);
  };
  constexpr const char* kTempRange = "-273.1 to 1000.0 degrees Celsius";
  if (const JsonValue* readings = p.find("readings"); readings && readings->is_array()) {
    const JsonArray& list = readings->as_array();
    for (size_t i = 0; i < list.size(); ++i) {
      const JsonValue* v = list[i].is_object() ? list[i].find("value") : nullptr;
      if (!v || !v->is_int()) continue;  // TemperatureRange reports it
      int64_t t = v->as_int();
      if (t < kMinTenthsCelsius || t > kMaxTenthsCelsius) {
        return out_of_bounds("readings[" + std::to_string(i) + "].value",
                             std::to_string(t) + " (tenths, " + tenths_text(t) + " degrees C)",
                             "temperature", "-2731 to 10000 tenths of a degree Celsius");
      }
    }
  }
  const JsonValue* elements = p.find("sensorElementList");
  if (!elements || !elements->is_array()) return Ok();
  const JsonArray& list = elements->as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonValue* reports = list[i].is_object() ? list[i].find("sensorReport") : nullptr;
    if (!reports || !reports->is_array()) continue;
    const JsonArray& rs = reports->as_array();
    for (size_t j = 0; j < rs.size(); ++j) {
      const JsonValue* type = rs[j].is_object() ? rs[j].find("type") : nullptr;
      if (!type || !type->is_string()) continue;
      const std::string& t = type->as_string();
      const bool temperature = t == "Temperature" || t == "gs1:Temperature";
      const bool humidity = t == "RelativeHumidity" || t == "gs1:RelativeHumidity";
      if (!temperature && !humidity) continue;
      for (const char* k : {"value", "minValue", "maxValue"}) {
        const JsonValue* v = rs[j].find(k);
        if (!v) continue;
        const std::string field = "sensorElementList[" + std::to_string(i) + "].sensorReport[" +
                                  std::to_string(j) + "]." + k;
        PEDIGREE_ASSIGN(tenths, TenthsOfDegree(*v, field.c_str(), code));
        const std::string shown =
            v->is_string() ? "\"" + v->as_string() + "\"" : tenths_text(*tenths);
        if (temperature && (*tenths < kMinTenthsCelsius || *tenths > kMaxTenthsCelsius))
          return out_of_bounds(field, shown, "temperature", kTempRange);
        if (humidity && (*tenths < 0 || *tenths > kMaxTenthsHumidity))
          return out_of_bounds(field, shown, "relative humidity", "0 to 100 percent");
      }
    }
  }
  return Ok();
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace pedigree::provenance::fields
