// CBV 2.0 EPCIS Event Hash ID over EPCIS 2.0 JSON/JSON-LD events (docs/epcis.md, "Event Hash
// ID"): each member written as key=value in the canonical order, lists sorted, values
// normalised (UTC millisecond timestamps, CBV web URIs, canonical GS1 Digital Links),
// extensions as {namespace}local=value, then SHA-256 as an RFC 6920 ni URI.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/gs1.h"

// PEDIGREE_ASSIGN with a declaration of the value itself (the pre-hash is built of many
// small results).
#define EPCIS_CAT_(a, b) a##b
#define EPCIS_CAT(a, b) EPCIS_CAT_(a, b)
#define EPCIS_ASSIGN(decl, expr)                                              \
  auto EPCIS_CAT(epcis_r_, __LINE__) = (expr);                                \
  if (!EPCIS_CAT(epcis_r_, __LINE__)) {                                       \
    return std::unexpected(std::move(EPCIS_CAT(epcis_r_, __LINE__)).error()); \
  }                                                                           \
  decl = std::move(*EPCIS_CAT(epcis_r_, __LINE__))

namespace pedigree::scanner::epcis {
namespace {

using Prefixes = std::vector<std::pair<std::string, std::string>>;

constexpr std::array kEventOrder = {"type",
                                    "eventTime",
                                    "eventTimeZoneOffset",
                                    "certificationInfo",
                                    "epcList",
                                    "parentID",
                                    "inputEPCList",
                                    "childEPCs",
                                    "quantityList",
                                    "childQuantityList",
                                    "inputQuantityList",
                                    "outputEPCList",
                                    "outputQuantityList",
                                    "action",
                                    "transformationID",
                                    "bizStep",
                                    "disposition",
                                    "persistentDisposition",
                                    "readPoint",
                                    "bizLocation",
                                    "bizTransactionList",
                                    "sourceList",
                                    "destinationList",
                                    "sensorElementList",
                                    "ilmd"};
constexpr std::array kIgnored = {"recordTime", "eventID", "errorDeclaration", "@context"};
constexpr std::array kQuantityOrder = {"epcClass", "quantity", "uom"};
constexpr std::array kIdOrder = {"id"};
constexpr std::array kSensorElementOrder = {"sensorMetadata", "sensorReport"};
constexpr std::array kSensorMetadataOrder = {"time",
                                             "startTime",
                                             "endTime",
                                             "deviceID",
                                             "deviceMetadata",
                                             "rawData",
                                             "dataProcessingMethod",
                                             "bizRules"};
constexpr std::array kSensorReportOrder = {"type",
                                           "exception",
                                           "deviceID",
                                           "deviceMetadata",
                                           "rawData",
                                           "dataProcessingMethod",
                                           "time",
                                           "microorganism",
                                           "chemicalSubstance",
                                           "value",
                                           "component",
                                           "stringValue",
                                           "booleanValue",
                                           "hexBinaryValue",
                                           "uriValue",
                                           "minValue",
                                           "maxValue",
                                           "meanValue",
                                           "sDev",
                                           "percRank",
                                           "percValue",
                                           "uom",
                                           "coordinateReferenceSystem"};
constexpr std::array kPersistentOrder = {"set", "unset"};

template <size_t N>
bool In(const std::array<const char*, N>& list, std::string_view s) {
  return std::any_of(list.begin(), list.end(), [&](const char* x) { return s == x; });
}

std::string Pointer(std::string_view base, std::string_view key) {
  std::string out(base);
  out.push_back('/');
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) {
    --e;
  }
  return std::string(s.substr(b, e - b));
}

// Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// "YYYY-MM-DDThh:mm[:ss[.fff…]][Z|±hh:mm]" -> "YYYY-MM-DDThh:mm:ss.fffZ" in UTC; false when
// `s` is not such a timestamp. A missing offset is read as UTC.
bool NormaliseTimestamp(std::string_view s, HashProfile profile, std::string& out) {
  auto num = [&](size_t pos, size_t len, int& v) {
    if (pos + len > s.size()) return false;
    v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (!IsDigit(s[i])) return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 16 || !num(0, 4, year) || s[4] != '-' || !num(5, 2, month) || s[7] != '-' ||
      !num(8, 2, day) || s[10] != 'T' || !num(11, 2, hour) || s[13] != ':' || !num(14, 2, minute)) {
    return false;
  }
  size_t p = 16;
  int64_t millis = 0;
  if (p < s.size() && s[p] == ':') {
    if (!num(p + 1, 2, second)) return false;
    p += 3;
    if (p < s.size() && s[p] == '.') {
      ++p;
      size_t start = p;
      while (p < s.size() && IsDigit(s[p])) ++p;
      if (p == start) return false;
      std::string frac(s.substr(start, p - start));
      while (frac.size() < 4) frac.push_back('0');
      millis = (frac[0] - '0') * 100 + (frac[1] - '0') * 10 + (frac[2] - '0');
      // CBV 2.0 rounds at the fourth decimal; epcis2.js (JavaScript's Date) truncates.
      if (profile == HashProfile::kCbv20 && frac[3] >= '5') ++millis;
    }
  }
  int offset_minutes = 0;
  if (p < s.size()) {
    if (s[p] == 'Z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh = 0, om = 0;
      if (!num(p + 1, 2, oh) || p + 3 >= s.size() || s[p + 3] != ':' || !num(p + 4, 2, om)) {
        return false;
      }
      offset_minutes = (oh * 60 + om) * (s[p] == '-' ? -1 : 1);
      p += 6;
    }
  }
  if (p != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  int64_t total =
      (DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
       hour * 3600 + minute * 60 + second - offset_minutes * 60) *
          1000 +
      millis;
  int64_t days = total >= 0 ? total / 86400000 : -((-total + 86399999) / 86400000);
  int64_t rest = total - days * 86400000;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600000),
                static_cast<long long>(rest / 60000 % 60), static_cast<long long>(rest / 1000 % 60),
                static_cast<long long>(rest % 1000));
  out = buf;
  return true;
}

// Numbers written as strings lose insignificant zeros ("12.50" -> "12.5"); epcis2.js also
// drops leading zeros of all-digit strings.
std::string TrimZeros(std::string s, HashProfile profile) {
  if (s.empty() ||
      !std::all_of(s.begin(), s.end(), [](char c) { return IsDigit(c) || c == '.'; })) {
    return s;
  }
  if (profile == HashProfile::kEpcis2Js) {
    while (s.size() > 2 && s.front() == '0') s.erase(0, 1);
    while (s.size() > 3 && s.back() == '0' && s.find('.') != std::string::npos) s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  if (std::count(s.begin(), s.end(), '.') == 1 && s.front() != '.') {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string PercentEncodeDl(std::string_view v) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(static_cast<char>(c)) ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '\'' || c == '&' || c == ';' ||
                c == '=';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string WithCheckDigit(std::string digits) {
  int sum = 0;
  bool three = true;
  for (size_t i = digits.size(); i-- > 0;) {
    sum += (digits[i] - '0') * (three ? 3 : 1);
    three = !three;
  }
  digits.push_back(static_cast<char>('0' + (10 - sum % 10) % 10));
  return digits;
}

// Value normalisation shared by every scalar: trim, timestamps, EPC URNs, zeros.
std::string Scalar(const JsonValue& v, HashProfile profile) {
  if (v.is_string()) {
    std::string s = Trim(v.as_string());
    std::string ts;
    if (NormaliseTimestamp(s, profile, ts)) return ts;
    s = NormaliseEpc(s);
    return TrimZeros(std::move(s), profile);
  }
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_null()) return "null";
  // Numbers print as ECMAScript Number::toString, the same as RFC 8785.
  return Canonicalize(v);
}

// Bare CBV words and urn:epcglobal:cbv URNs as web URIs: "shipping" ->
// https://ref.gs1.org/cbv/BizStep-shipping.
std::string CbvValue(const JsonValue& v, std::string_view kind, std::string_view urn_kind,
                     HashProfile profile) {
  if (!v.is_string()) return Scalar(v, profile);
  std::string s = Trim(v.as_string());
  bool bare = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_';
  });
  if (bare) return "https://ref.gs1.org/cbv/" + std::string(kind) + "-" + s;
  std::string urn = "urn:epcglobal:cbv:" + std::string(urn_kind) + ":";
  if (s.starts_with(urn)) {
    return "https://ref.gs1.org/cbv/" + std::string(kind) + "-" + s.substr(urn.size());
  }
  if (s.starts_with("cbv:")) return "https://ref.gs1.org/cbv/" + s.substr(4);
  return Scalar(JsonValue(s), profile);
}

std::string GS1VocValue(const JsonValue& v, HashProfile profile) {
  if (!v.is_string()) return Scalar(v, profile);
  std::string s = Trim(v.as_string());
  if (!s.empty() && s.find(':') == std::string::npos) return "https://gs1.org/voc/" + s;
  if (s.starts_with("gs1:")) return "https://gs1.org/voc/" + s.substr(4);
  return Scalar(JsonValue(s), profile);
}

std::string Concat(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += p;
  return out;
}

class PreHasher {
 public:
  PreHasher(const HashOptions& options, Prefixes prefixes)
      : options_(options), prefixes_(std::move(prefixes)) {}

  Result<std::string> Event(const JsonValue& event) {
    if (!event.is_object()) {
      return Fail(
          Error("epcis.invalid_event", "an EPCIS event must be a JSON object").at_field(""));
    }
    const JsonValue* type = event.find("type");
    if (type == nullptr || !type->is_string()) {
      return Fail(
          Error("epcis.invalid_event", "the event has no string \"type\"").at_field("/type"));
    }
    std::string out;
    std::vector<std::string> custom;
    for (const char* key : kEventOrder) {
      const JsonValue* v = event.find(key);
      if (v == nullptr) continue;
      std::string k = key;
      std::string ptr = "/" + k;
      if (k == "type") {
        out += "eventType=" + Scalar(*v, profile());
      } else if (k == "bizStep") {
        out += "bizStep=" + CbvValue(*v, "BizStep", "bizstep", profile());
      } else if (k == "disposition") {
        out += "disposition=" + CbvValue(*v, "Disp", "disp", profile());
      } else if (k == "readPoint" || k == "bizLocation") {
        PEDIGREE_TRY(Ordered(*v, kIdOrder, k, ptr, out, custom));
      } else if (k == "persistentDisposition") {
        PEDIGREE_TRY(Ordered(*v, kPersistentOrder, k, ptr, out, custom));
      } else if (k == "ilmd") {
        if (!v->is_object()) {
          return Fail(Error("epcis.invalid_event", "ilmd must be an object").at_field(ptr));
        }
        EPCIS_ASSIGN(std::string children, Children(*v, ptr));
        out += "ilmd" + children;
      } else if (v->is_array()) {
        PEDIGREE_TRY(List(*v, k, ptr, out, custom));
      } else if (v->is_object()) {
        return Fail(Error("epcis.invalid_event", k + " must not be an object").at_field(ptr));
      } else {
        out += k + "=" + Scalar(*v, profile());
      }
    }
    for (const auto& [key, value] : event.as_object()) {
      if (In(kEventOrder, key) || In(kIgnored, key) ||
          std::find(options_.ignore.begin(), options_.ignore.end(), key) != options_.ignore.end()) {
        continue;
      }
      EPCIS_ASSIGN(std::string s, Custom(key, value, Pointer("", key)));
      custom.push_back(std::move(s));
    }
    return out + Concat(std::move(custom));
  }

 private:
  HashProfile profile() const { return options_.profile; }

  const std::string* Namespace(std::string_view prefix) const {
    for (auto it = prefixes_.rbegin(); it != prefixes_.rend(); ++it) {
      if (it->first == prefix) return &it->second;
    }
    return nullptr;
  }

  // An extension member: "prefix:local" -> "{iri}local", objects as their sorted children,
  // arrays as one entry per element.
  Result<std::string> Custom(const std::string& key, const JsonValue& value,
                             const std::string& ptr) {
    if (key == "rdfs:comment" || key.starts_with("@xmlns")) return std::string();
    std::string field = key;
    size_t colon = key.find(':');
    if (colon != std::string::npos) {
      const std::string* ns = Namespace(key.substr(0, colon));
      if (ns == nullptr) {
        return Fail(Error("epcis.invalid_event",
                          "the extension '" + key + "' uses a prefix that no @context defines")
                        .at_field(ptr));
      }
      field = "{" + *ns + "}" + key.substr(colon + 1);
    } else if (key.starts_with("#")) {
      return "=" + Scalar(value, profile());
    }
    if (value.is_object()) {
      EPCIS_ASSIGN(std::string children, Children(value, ptr));
      return field + children;
    }
    if (value.is_array()) {
      std::vector<std::string> items;
      size_t i = 0;
      for (const JsonValue& item : value.as_array()) {
        std::string p = ptr + "/" + std::to_string(i++);
        if (item.is_object()) {
          EPCIS_ASSIGN(std::string children, Children(item, p));
          items.push_back(field + children);
        } else {
          items.push_back(field + "=" + Scalar(item, profile()));
        }
      }
      return Concat(std::move(items));
    }
    return field + "=" + Scalar(value, profile());
  }

  Result<std::string> Children(const JsonValue& object, const std::string& ptr) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : object.as_object()) {
      EPCIS_ASSIGN(std::string s, Custom(key, value, Pointer(ptr, key)));
      parts.push_back(std::move(s));
    }
    return Concat(std::move(parts));
  }

  // A structured member with standard children in `order`; unknown children become custom
  // entries named after the member ("readPoint{ns}x=…").
  template <size_t N>
  Status Ordered(const JsonValue& v, const std::array<const char*, N>& order,
                 const std::string& name, const std::string& ptr, std::string& out,
                 std::vector<std::string>& custom) {
    if (!v.is_object()) {
      return Fail(Error("epcis.invalid_event", name + " must be an object").at_field(ptr));
    }
    out += name;
    EPCIS_ASSIGN(Element e, ReadElement(v, order, name, ptr));
    out += e.text;
    if (!e.custom.empty()) custom.push_back(name + Concat(std::move(e.custom)));
    return {};
  }

  struct Element {
    std::string text;
    std::vector<std::string> custom;
  };

  // One object with its standard children in `order`, values normalised per `kind`.
  template <size_t N>
  Result<Element> ReadElement(const JsonValue& v, const std::array<const char*, N>& order,
                              const std::string& kind, const std::string& ptr) {
    if (!v.is_object()) {
      return Fail(Error("epcis.invalid_event", kind + " must be an object").at_field(ptr));
    }
    Element e;
    for (const char* key : order) {
      const JsonValue* c = v.find(key);
      if (c == nullptr) continue;
      std::string k = key;
      std::string p = Pointer(ptr, k);
      if (kind == "sensorElement" && k == "sensorMetadata") {
        PEDIGREE_TRY(Ordered(*c, kSensorMetadataOrder, k, p, e.text, e.custom));
      } else if (kind == "sensorElement" && k == "sensorReport") {
        if (!c->is_array()) {
          return Fail(Error("epcis.invalid_event", "sensorReport must be an array").at_field(p));
        }
        std::vector<std::string> reports;
        size_t i = 0;
        for (const JsonValue& r : c->as_array()) {
          std::string rp = p + "/" + std::to_string(i++);
          EPCIS_ASSIGN(Element re, ReadElement(r, kSensorReportOrder, "sensorReport", rp));
          reports.push_back("sensorReport" + re.text);
          if (!re.custom.empty()) e.custom.push_back("sensorReport" + Concat(std::move(re.custom)));
        }
        e.text += Concat(std::move(reports));
      } else if (kind == "persistentDisposition") {
        if (!c->is_array()) {
          return Fail(Error("epcis.invalid_event", k + " must be an array").at_field(p));
        }
        std::vector<std::string> items;
        for (const JsonValue& d : c->as_array()) {
          items.push_back(k + "=" + CbvValue(d, "Disp", "disp", profile()));
        }
        e.text += Concat(std::move(items));
      } else if (kind == "sensorReport" && k == "type") {
        e.text += "type=" + GS1VocValue(*c, profile());
      } else if (kind == "sensorReport" && k == "exception") {
        e.text += "exception=" + GS1VocValue(*c, profile());
      } else if (kind == "sensorReport" && k == "component") {
        e.text += "component=" + CbvValue(*c, "Comp", "comp", profile());
      } else if (kind == "bizTransaction" && k == "type") {
        e.text += "type=" + CbvValue(*c, "BTT", "btt", profile());
      } else if ((kind == "source" || kind == "destination") && k == "type") {
        e.text += "type=" + CbvValue(*c, "SDT", "sdt", profile());
      } else if (c->is_object() || c->is_array()) {
        return Fail(Error("epcis.invalid_event", k + " must be a single value").at_field(p));
      } else {
        e.text += k + "=" + Scalar(*c, profile());
      }
    }
    for (const auto& [key, value] : v.as_object()) {
      if (In(order, key)) continue;
      EPCIS_ASSIGN(std::string s, Custom(key, value, Pointer(ptr, key)));
      e.custom.push_back(std::move(s));
    }
    return e;
  }

  Status List(const JsonValue& list, const std::string& name, const std::string& ptr,
              std::string& out, std::vector<std::string>& custom) {
    if (list.as_array().empty()) return {};
    std::vector<std::string> items;
    std::vector<std::string> list_custom;
    size_t i = 0;
    for (const JsonValue& item : list.as_array()) {
      std::string p = ptr + "/" + std::to_string(i++);
      if (name == "epcList" || name == "childEPCs" || name == "inputEPCList" ||
          name == "outputEPCList") {
        if (!item.is_string()) {
          return Fail(Error("epcis.invalid_event", "an EPC must be a string").at_field(p));
        }
        items.push_back("epc=" + Scalar(item, profile()));
      } else if (name.ends_with("uantityList")) {
        EPCIS_ASSIGN(Element e, ReadElement(item, kQuantityOrder, "quantityElement", p));
        items.push_back("quantityElement" + e.text);
        for (std::string& c : e.custom) custom.push_back("quantityElement" + c);
      } else if (name == "bizTransactionList" || name == "sourceList" ||
                 name == "destinationList") {
        std::string kind = name.substr(0, name.size() - 4);
        std::array<const char*, 2> type_first = {"type", "bizTransaction"};
        if (kind != "bizTransaction") type_first[1] = kind == "source" ? "source" : "destination";
        std::array<const char*, 2> value_first = {type_first[1], "type"};
        EPCIS_ASSIGN(
            Element e,
            ReadElement(item, profile() == HashProfile::kEpcis2Js ? type_first : value_first, kind,
                        p));
        items.push_back(e.text);
        for (std::string& c : e.custom) custom.push_back(kind + c);
      } else if (name == "sensorElementList") {
        EPCIS_ASSIGN(Element e, ReadElement(item, kSensorElementOrder, "sensorElement", p));
        items.push_back("sensorElement" + e.text);
        if (!e.custom.empty()) list_custom.push_back("sensorElement" + Concat(std::move(e.custom)));
      } else {
        // certificationInfo and other standard lists: values as written.
        items.push_back(name + "=" + Scalar(item, profile()));
      }
    }
    out += name + Concat(std::move(items));
    if (!list_custom.empty()) custom.push_back(name + Concat(std::move(list_custom)));
    return {};
  }

  const HashOptions& options_;
  Prefixes prefixes_;
};

void CollectXmlns(const JsonValue& v, Prefixes& out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.as_object()) {
      if (key.starts_with("@xmlns:") && value.is_string()) {
        out.emplace_back(key.substr(7), value.as_string());
      } else {
        CollectXmlns(value, out);
      }
    }
  } else if (v.is_array()) {
    for (const JsonValue& item : v.as_array()) CollectXmlns(item, out);
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ContextPrefixes(const JsonValue& document) {
  Prefixes out;
  const JsonValue* context = document.find("@context");
  if (context == nullptr) return out;
  auto add = [&](const JsonValue& c) {
    if (!c.is_object()) return;
    for (const auto& [key, value] : c.as_object()) {
      if (value.is_string()) out.emplace_back(key, value.as_string());
    }
  };
  if (context->is_array()) {
    for (const JsonValue& c : context->as_array()) add(c);
  } else {
    add(*context);
  }
  return out;
}

Result<std::string> EventPreHash(const JsonValue& event, const HashOptions& options) {
  Prefixes prefixes = {{"epcis", "https://ref.gs1.org/epcis/"},
                       {"cbv", "https://ref.gs1.org/cbv/"},
                       {"cbvmda", "urn:epcglobal:cbv:mda:"},
                       {"gs1", "https://gs1.org/voc/"},
                       {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
                       {"owl", "http://www.w3.org/2002/07/owl#"},
                       {"xsd", "http://www.w3.org/2001/XMLSchema#"},
                       {"dcterms", "http://purl.org/dc/terms/"}};
  prefixes.insert(prefixes.end(), options.context.begin(), options.context.end());
  CollectXmlns(event, prefixes);
  PreHasher hasher(options, std::move(prefixes));
  return hasher.Event(event);
}

std::string HashIdOfPreHash(std::string_view pre_hash) {
  Hash h = Sha256(pre_hash);
  return "ni:///sha-256;" + ToHex(h) + "?ver=CBV2.0";
}

Result<std::string> EventHashId(const JsonValue& event, const HashOptions& options) {
  EPCIS_ASSIGN(std::string pre, EventPreHash(event, options));
  return HashIdOfPreHash(pre);
}

std::string NormaliseEpc(std::string_view uri) {
  std::string s(uri);
  if (s.starts_with("urn:epc:id:sgtin:") || s.starts_with("urn:epc:id:sscc:") ||
      s.starts_with("urn:epc:id:sgln:")) {
    ParseOptions options;
    options.check_associations = false;
    auto data = ParseGs1(s, options);
    if (!data) return s;
    std::string out = "https://id.gs1.org";
    for (const Gs1Element& e : data->elements) out += "/" + e.ai + "/" + PercentEncodeDl(e.value);
    return out;
  }
  auto split = [](std::string_view body, std::vector<std::string>& parts) {
    size_t p = 0;
    while (true) {
      size_t dot = body.find('.', p);
      parts.emplace_back(body.substr(p, dot == std::string_view::npos ? body.npos : dot - p));
      if (dot == std::string_view::npos) break;
      p = dot + 1;
    }
  };
  auto digits = [](const std::string& x) {
    return !x.empty() && std::all_of(x.begin(), x.end(), IsDigit);
  };
  // GIAI, "urn:epc:id:giai:{company prefix}.{asset reference}" -> https://id.gs1.org/8004/
  // {prefix}{reference}: the asset reference is URN-escaped (TDS 2.x, GS1 AI encodable
  // character set 82), unescaped here and percent-encoded as a Digital Link value, which
  // gives the text epcis2.js gives. A data logger's deviceID is often one.
  if (s.starts_with("urn:epc:id:giai:")) {
    std::string_view body = std::string_view(s).substr(16);
    size_t dot = body.find('.');
    if (dot == body.npos || dot < 6 || dot > 12) return s;
    std::string prefix(body.substr(0, dot));
    if (!digits(prefix)) return s;
    auto hex = [](char c) -> int {
      if (IsDigit(c)) return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    std::string asset;
    std::string_view raw = body.substr(dot + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '%') {
        if (i + 2 >= raw.size() || hex(raw[i + 1]) < 0 || hex(raw[i + 2]) < 0) return s;
        asset.push_back(static_cast<char>(hex(raw[i + 1]) * 16 + hex(raw[i + 2])));
        i += 2;
        continue;
      }
      const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) ||
                           std::string_view("!')(*+,.:;=_-").find(c) != std::string_view::npos;
      if (!allowed) return s;
      asset.push_back(c);
    }
    if (asset.empty() || prefix.size() + asset.size() > 30) return s;
    for (char c : asset) {
      // AI 8004 takes the 82 characters of GS1's set: '"', '%', '&', '/', '<', '>', '?' among
      // them are escaped in a URN; a control character or '#' is none of them.
      if (c < 0x21 || c > 0x7E || c == '#' || c == '$' || c == '@' || c == '[' || c == '\\' ||
          c == ']' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '~') {
        return s;
      }
    }
    return "https://id.gs1.org/8004/" + prefix + PercentEncodeDl(asset);
  }
  if (s.starts_with("urn:epc:id:pgln:")) {
    std::vector<std::string> parts;
    split(std::string_view(s).substr(16), parts);
    if (parts.size() == 2 && digits(parts[0]) && (parts[1].empty() || digits(parts[1])) &&
        parts[0].size() + parts[1].size() == 12) {
      return "https://id.gs1.org/417/" + WithCheckDigit(parts[0] + parts[1]);
    }
    return s;
  }
  if (s.starts_with("urn:epc:class:lgtin:")) {
    std::string_view body = std::string_view(s).substr(20);
    size_t d1 = body.find('.');
    size_t d2 = d1 == body.npos ? body.npos : body.find('.', d1 + 1);
    if (d2 == body.npos) return s;
    std::string cp(body.substr(0, d1));
    std::string ref(body.substr(d1 + 1, d2 - d1 - 1));
    if (!digits(cp) || !digits(ref) || cp.size() + ref.size() != 13) return s;
    std::string gtin = WithCheckDigit(ref.substr(0, 1) + cp + ref.substr(1));
    auto lot = ParseGs1("(01)" + gtin + "(10)" + std::string(body.substr(d2 + 1)));
    std::string lot_value(body.substr(d2 + 1));
    if (lot) {
      if (const Gs1Element* e = lot->Find("10")) lot_value = e->value;
    }
    return "https://id.gs1.org/01/" + gtin + "/10/" + PercentEncodeDl(lot_value);
  }
  return s;
}

}  // namespace pedigree::scanner::epcis
