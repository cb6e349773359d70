// The bytes a data logger signs for a sensorElement (docs/epcis.md, "Device-signed sensor
// data"): RFC 8785 of the EPCIS 2.0 JSON element, so that any JCS library on the logger's
// side produces them from the element it writes.
#include "pedigree/provenance/device_signature.h"

#include <charconv>

#include "payload_fields.h"
#include "pedigree/base/bytes.h"

namespace pedigree::provenance {
namespace {

using fields::Malformed;

// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: the decimals a signed payload writes as strings. No
// exponent, no '+', no leading zeros, so a string names one number and reads one way.
bool IsDecimalText(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  if (s[i] == '0' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') return false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == s.size()) return true;
  if (s[i] != '.' || ++i == s.size()) return false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return i == s.size();
}

std::optional<double> DecimalValue(std::string_view s) {
  if (!IsDecimalText(s)) return std::nullopt;
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return d;
}

JsonValue ReportAsEpcis(const JsonValue& report) {
  if (!report.is_object()) return report;
  JsonValue out = JsonValue::Object();
  for (const auto& [k, v] : report.as_object()) {
    std::optional<double> d;
    if (IsSensorNumberMember(k) && v.is_string()) d = DecimalValue(v.as_string());
    out.set(k, d ? JsonValue(*d) : v);
  }
  return out;
}

}  // namespace

bool IsSensorNumberMember(std::string_view name) {
  return name == "value" || name == "minValue" || name == "maxValue" || name == "meanValue" ||
         name == "sDev" || name == "percRank" || name == "percValue";
}

JsonValue SensorElementAsEpcis(const JsonValue& element) {
  if (!element.is_object()) return element;
  JsonValue out = JsonValue::Object();
  for (const auto& [k, v] : element.as_object()) {
    if (k != "sensorReport" || !v.is_array()) {
      out.set(k, v);
      continue;
    }
    JsonValue reports = JsonValue::Array();
    for (const JsonValue& r : v.as_array()) reports.push_back(ReportAsEpcis(r));
    out.set(k, std::move(reports));
  }
  return out;
}

Result<std::optional<DeviceSignature>> ReadDeviceSignature(const JsonValue& element,
                                                           const std::string& field) {
  const JsonValue* member = element.find(kDeviceSignatureMember);
  if (!member) return std::optional<DeviceSignature>();
  const std::string at = field + "." + std::string(kDeviceSignatureMember);
  if (!member->is_object()) {
    return Fail(Malformed(at, "must be {\"alg\": \"Ed25519\", \"sig\": base64 signature}"));
  }
  for (const auto& [k, v] : member->as_object()) {
    if (k != "alg" && k != "sig") {
      return Fail(Malformed(at, "has no member '" + k + "'; its members are alg, sig"));
    }
  }
  const JsonValue* alg = member->find("alg");
  if (!alg || !alg->is_string() || alg->as_string() != "Ed25519") {
    return Fail(Malformed(at + ".alg", "must be \"Ed25519\""));
  }
  const JsonValue* sig = member->find("sig");
  Result<Bytes> raw = Fail("event.malformed", "no sig");
  if (sig && sig->is_string()) raw = FromBase64(sig->as_string());
  if (!raw || raw->size() != 64) {
    return Fail(Malformed(at + ".sig", "must be the base64 of a 64-byte Ed25519 signature"));
  }
  const JsonValue* meta = element.find("sensorMetadata");
  const JsonValue* device = meta ? meta->find("deviceID") : nullptr;
  if (!device || !device->is_string() || device->as_string().empty()) {
    return Fail(Malformed(field + ".sensorMetadata.deviceID",
                          "a device-signed sensorElement must name its logger's deviceID"));
  }
  DeviceSignature out;
  out.device_id = device->as_string();
  std::copy(raw->begin(), raw->end(), out.sig.begin());
  return std::optional<DeviceSignature>(std::move(out));
}

Result<std::string> DeviceSignedBytes(const JsonValue& element, const std::string& field) {
  if (!element.is_object()) return Fail(Malformed(field, "must be an object"));
  JsonValue unsigned_element = JsonValue::Object();
  for (const auto& [k, v] : element.as_object()) {
    if (k == kDeviceSignatureMember) continue;
    if (k == "sensorReport" && v.is_array()) {
      const JsonArray& reports = v.as_array();
      for (size_t j = 0; j < reports.size(); ++j) {
        if (!reports[j].is_object()) continue;
        for (const auto& [rk, rv] : reports[j].as_object()) {
          if (!IsSensorNumberMember(rk) || !rv.is_string()) continue;
          const std::string& text = rv.as_string();
          const std::string at = field + ".sensorReport[" + std::to_string(j) + "]." + rk;
          auto d = DecimalValue(text);
          if (!d) return Fail(Malformed(at, "'" + text + "' is not a decimal number"));
          // The payload's string must be the very number the logger's JSON carried.
          const std::string jcs = Canonicalize(JsonValue(*d));
          if (jcs != text) {
            return Fail(Malformed(at, "'" + text + "' must be written as \"" + jcs +
                                          "\" (the RFC 8785 form of the number) in a "
                                          "device-signed sensorElement"));
          }
        }
      }
    }
    unsigned_element.set(k, v);
  }
  return Canonicalize(SensorElementAsEpcis(unsigned_element));
}

}  // namespace pedigree::provenance
