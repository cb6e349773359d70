// GS1 Digital Link URIs (GS1 Digital Link Standard: URI Syntax 1.x, uncompressed form) and EPC
// pure-identity URNs (EPC Tag Data Standard §6: sgtin, sscc, sgln).
#include <span>
#include <string>

#include "gs1_internal.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner::internal {
namespace {

using provenance::IsDigit;

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes %XX escapes; fails with `code` on a malformed escape.
Result<std::string> PercentDecode(std::string_view s, size_t offset, const char* code) {
  if (s.find('%') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Fail(Error(code, "malformed percent-escape '" +
                                  std::string(s.substr(i, std::min<size_t>(3, s.size() - i))) +
                                  "' at byte " + std::to_string(offset + i))
                      .at_offset(offset + i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

struct Segment {
  std::string_view text;
  size_t offset;
};

bool IsBase64UrlText(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Index of `ai` in a comma list, or -1.
int IndexInList(std::string_view list, std::string_view ai) {
  int index = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (list.substr(0, comma) == ai) return index;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    ++index;
  }
  return -1;
}

// TDS §6 / Table I.3.1: characters that must be escaped in the serial of an EPC URI.
std::string EpcEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "%22";
        break;
      case '%':
        out += "%25";
        break;
      case '&':
        out += "%26";
        break;
      case '/':
        out += "%2F";
        break;
      case '<':
        out += "%3C";
        break;
      case '>':
        out += "%3E";
        break;
      case '?':
        out += "%3F";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

Status CheckPrefixLength(int company_prefix_length) {
  if (company_prefix_length < 6 || company_prefix_length > 12) {
    return Fail(Error("gs1.company_prefix_length", "a GS1 Company Prefix has 6 to 12 digits, got " +
                                                       std::to_string(company_prefix_length)));
  }
  return Ok();
}

}  // namespace

bool IsDigitalLinkKey(std::string_view ai) {
  static constexpr std::string_view kKeys[] = {"00",   "01",   "253",  "255",  "401",
                                               "402",  "414",  "417",  "8003", "8004",
                                               "8006", "8010", "8013", "8017", "8018"};
  for (auto k : kKeys) {
    if (AiEquals(k, ai)) return true;
  }
  return false;
}

void DigitalLinkQualifiers(std::string_view key, std::string_view* sequence,
                           std::string_view* alternative) {
  *sequence = "";
  *alternative = "";
  if (key == "01") {
    *sequence = "22,10,21";
    *alternative = "235";
  } else if (key == "8006") {
    *sequence = "22,10,21";
  } else if (key == "414") {
    *sequence = "254";
    *alternative = "7040";
  } else if (key == "417" || key == "8004") {
    *sequence = "7040";
  } else if (key == "8010") {
    *sequence = "8011";
  } else if (key == "8017" || key == "8018") {
    *sequence = "8019";
  }
}

Result<Gs1Data> ParseDigitalLink(std::string_view in, const ParseOptions& options,
                                 int reference_year, std::vector<Finding>* findings) {
  (void)options;
  (void)findings;
  Gs1Data data;
  data.source_form = "digital_link";
  data.elements.reserve(6);
  size_t scheme_end = StartsWithNoCase(in, "https://") ? 8 : 7;
  bool scheme_upper = in[0] == 'H';
  // Hand loops: string_view::find_first_of calls memchr on the set once per input byte.
  size_t auth_end = scheme_end;
  while (auth_end < in.size() && in[auth_end] != '/' && in[auth_end] != '?' &&
         in[auth_end] != '#') {
    ++auth_end;
  }
  if (auth_end == scheme_end) {
    return Fail(Error("gs1.dl_syntax", "the Digital Link has no domain").at_offset(scheme_end));
  }
  size_t path_end = auth_end;
  while (path_end < in.size() && in[path_end] != '?' && in[path_end] != '#') ++path_end;
  size_t query_end =
      path_end < in.size() && in[path_end] == '?' ? in.find('#', path_end) : path_end;
  if (query_end == std::string_view::npos) query_end = in.size();

  // A fixed array keeps the common case allocation-free; real links have a handful of
  // segments, so a path with more is refused rather than parsed.
  constexpr size_t kMaxSegments = 32;
  Segment seg_store[kMaxSegments];
  size_t seg_count = 0;
  for (size_t p = auth_end; p < path_end;) {
    size_t start = p + 1;  // in[p] == '/'
    size_t slash = in.find('/', start);
    if (slash == std::string_view::npos || slash > path_end) slash = path_end;
    if (slash > start) {
      if (seg_count == kMaxSegments) {
        return Fail(Error("gs1.dl_syntax", "the Digital Link path has more than " +
                                               std::to_string(kMaxSegments) + " segments")
                        .at_offset(start));
      }
      seg_store[seg_count++] = {in.substr(start, slash - start), start};
    }
    p = slash;
  }
  std::span<const Segment> segs(seg_store, seg_count);
  size_t key_index = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!IsDigitalLinkKey(segs[i].text) || (segs.size() - i) % 2 != 0) continue;
    bool all_ais = true;
    for (size_t k = i; k < segs.size(); k += 2) {
      if (!AllDigits(segs[k].text) || !FindAi(segs[k].text)) {
        all_ais = false;
        break;
      }
    }
    if (all_ais) {
      key_index = i;
      break;
    }
  }
  if (key_index == segs.size()) {
    if (!segs.empty() && segs.back().text.size() >= 8 && IsBase64UrlText(segs.back().text) &&
        !AllDigits(segs.back().text)) {
      return Fail(Error("gs1.dl_compressed_unsupported",
                        "'/" + std::string(segs.back().text) +
                            "' looks like a compressed GS1 Digital Link, which is not supported; "
                            "scan the pack's DataMatrix or use the uncompressed link "
                            "(/01/{GTIN}/21/{serial})")
                      .at_offset(segs.back().offset));
    }
    return Fail(Error("gs1.dl_syntax",
                      "the Digital Link path holds no GS1 primary key such as /01/{GTIN}, "
                      "followed only by /AI/value pairs")
                    .at_offset(auth_end));
  }

  std::string_view key = segs[key_index].text;
  std::string_view sequence, alternative;
  DigitalLinkQualifiers(key, &sequence, &alternative);
  int last_position = -1;
  bool used_sequence = false, used_alternative = false;
  for (size_t k = key_index; k < segs.size(); k += 2) {
    std::string_view ai = segs[k].text;
    if (k > key_index) {
      int index = IndexInList(sequence, ai);
      bool alt = ListContains(alternative, ai);
      if (index > last_position && !used_alternative) {
        last_position = index;
        used_sequence = true;
      } else if (alt && !used_sequence && !used_alternative) {
        used_alternative = true;
      } else {
        std::string rule = sequence.empty() ? "none" : std::string(sequence);
        return Fail(Error("gs1.dl_syntax",
                          "/" + std::string(ai) + "/ is not allowed at this place after /" +
                              std::string(key) + "/: its path qualifiers are " + rule +
                              (alternative.empty() ? "" : " or " + std::string(alternative)) +
                              ", in that order; other AIs go in the query (?17=…)")
                        .at_field(std::string(ai))
                        .at_offset(segs[k].offset));
      }
    }
    auto value = PercentDecode(segs[k + 1].text, segs[k + 1].offset, "gs1.dl_syntax");
    if (!value) return std::unexpected(value.error().at_field(std::string(ai)));
    if (ai == "01" && AllDigits(*value) &&
        (value->size() == 8 || value->size() == 12 || value->size() == 13)) {
      value->insert(0, 14 - value->size(), '0');
    }
    data.elements.emplace_back(StringFrom{ai}, std::move(*value), segs[k + 1].offset);
  }

  if (path_end < in.size() && in[path_end] == '?') {
    size_t p = path_end + 1;
    while (p <= query_end && p < in.size()) {
      size_t amp = in.find('&', p);
      if (amp == std::string_view::npos || amp > query_end) amp = query_end;
      std::string_view pair = in.substr(p, amp - p);
      size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      size_t voffset = p + (eq == std::string_view::npos ? pair.size() : eq + 1);
      if (!k.empty() && AllDigits(k)) {
        if (!FindAi(k)) {
          return Fail(Error("gs1.unknown_ai", "query attribute '" + std::string(k) +
                                                  "' is not a known Application Identifier")
                          .at_field(std::string(k))
                          .at_offset(p));
        }
        if (IsDigitalLinkKey(k)) {
          return Fail(Error("gs1.dl_syntax", "AI " + std::string(k) +
                                                 " is a primary key and belongs in the path, "
                                                 "not in the query")
                          .at_field(std::string(k))
                          .at_offset(p));
        }
        auto value = PercentDecode(v, voffset, "gs1.dl_syntax");
        if (!value) return std::unexpected(value.error().at_field(std::string(k)));
        data.elements.emplace_back(StringFrom{k}, std::move(*value), voffset);
      } else if (!k.empty()) {
        data.ignored_query_keys.emplace_back(k);
      }
      p = amp + 1;
    }
  }

  for (const Gs1Element& e : data.elements) {
    const AiDefinition* def = FindAi(e.ai);
    auto ok = ValidateValue(*def, e.value, e.offset, reference_year);
    if (!ok) return std::unexpected(ok.error());
  }
  if (scheme_upper && in.size() > 5 && in[1] == 'T' && in[2] == 'T' && in[3] == 'P') {
    data.warnings.push_back(
        {"caps_lock", "", 0,
         "the link is typed in inverted case ('" + std::string(in.substr(0, scheme_end)) +
             "'): Caps Lock is probably on at the keyboard-wedge scanner, so the serial and lot "
             "are inverted too; switch Caps Lock off and scan again",
         InvertCase(in)});
  }
  return data;
}

Result<Gs1Data> ParseEpcUrn(std::string_view in, const ParseOptions& options, int reference_year) {
  (void)options;
  Gs1Data data;
  data.source_form = "epc_urn";
  constexpr size_t kPrefix = 11;  // "urn:epc:id:"
  size_t colon = in.find(':', kPrefix);
  if (colon == std::string_view::npos) {
    return Fail(Error("gs1.epc_syntax", "an EPC URN reads urn:epc:id:{scheme}:{fields}")
                    .at_offset(kPrefix));
  }
  std::string_view scheme = in.substr(kPrefix, colon - kPrefix);
  std::string_view body = in.substr(colon + 1);
  size_t body_offset = colon + 1;
  // The last field (serial, extension) may itself contain '.', so split the first dots only.
  size_t parts_wanted = scheme == "sscc" ? 2 : 3;
  if (scheme != "sgtin" && scheme != "sscc" && scheme != "sgln") {
    return Fail(Error("gs1.epc_syntax", "EPC scheme '" + std::string(scheme) +
                                            "' is not supported (sgtin, sscc, sgln are)")
                    .at_offset(kPrefix));
  }
  std::string_view fields[3];
  size_t field_offsets[3] = {body_offset, 0, 0};
  size_t p = 0;
  for (size_t i = 0; i + 1 < parts_wanted; ++i) {
    size_t dot = body.find('.', p);
    if (dot == std::string_view::npos) {
      return Fail(Error("gs1.epc_syntax", "urn:epc:id:" + std::string(scheme) + " needs " +
                                              std::to_string(parts_wanted) +
                                              " dot-separated fields")
                      .at_offset(body_offset + body.size()));
    }
    fields[i] = body.substr(p, dot - p);
    field_offsets[i] = body_offset + p;
    p = dot + 1;
  }
  fields[parts_wanted - 1] = body.substr(p);
  field_offsets[parts_wanted - 1] = body_offset + p;
  std::string_view cp = fields[0];
  std::string_view ref = fields[1];
  size_t total = scheme == "sgtin" ? 13 : scheme == "sscc" ? 17 : 12;
  if (!AllDigits(cp) || cp.size() < 6 || cp.size() > 12) {
    return Fail(Error("gs1.epc_syntax",
                      "the company prefix '" + std::string(cp) + "' must be 6 to 12 digits")
                    .at_offset(field_offsets[0]));
  }
  if ((!ref.empty() && !AllDigits(ref)) || cp.size() + ref.size() != total) {
    return Fail(Error("gs1.epc_syntax", "company prefix and reference '" + std::string(cp) + "." +
                                            std::string(ref) + "' must be " +
                                            std::to_string(total) + " digits together, got " +
                                            std::to_string(cp.size() + ref.size()))
                    .at_offset(field_offsets[1]));
  }
  if (scheme == "sgtin") {
    if (ref.empty()) {
      return Fail(Error("gs1.epc_syntax", "the SGTIN item reference must hold the indicator digit")
                      .at_offset(field_offsets[1]));
    }
    std::string gtin = std::string(ref.substr(0, 1)) + std::string(cp) + std::string(ref.substr(1));
    gtin.push_back(static_cast<char>('0' + provenance::Gs1CheckDigit(gtin)));
    auto serial = PercentDecode(fields[2], field_offsets[2], "gs1.epc_syntax");
    if (!serial) return std::unexpected(serial.error().at_field("21"));
    data.elements.push_back({"01", std::move(gtin), field_offsets[0]});
    data.elements.push_back({"21", std::move(*serial), field_offsets[2]});
  } else if (scheme == "sscc") {
    if (ref.empty()) {
      return Fail(Error("gs1.epc_syntax", "the SSCC serial reference must hold the extension digit")
                      .at_offset(field_offsets[1]));
    }
    std::string sscc = std::string(ref.substr(0, 1)) + std::string(cp) + std::string(ref.substr(1));
    sscc.push_back(static_cast<char>('0' + provenance::Gs1CheckDigit(sscc)));
    data.elements.push_back({"00", std::move(sscc), field_offsets[0]});
  } else {
    std::string gln = std::string(cp) + std::string(ref);
    gln.push_back(static_cast<char>('0' + provenance::Gs1CheckDigit(gln)));
    data.elements.push_back({"414", std::move(gln), field_offsets[0]});
    auto ext = PercentDecode(fields[2], field_offsets[2], "gs1.epc_syntax");
    if (!ext) return std::unexpected(ext.error().at_field("254"));
    if (ext->empty()) {
      return Fail(Error("gs1.epc_syntax", "the SGLN extension is empty; use 0 for none")
                      .at_offset(field_offsets[2]));
    }
    if (*ext != "0") data.elements.push_back({"254", std::move(*ext), field_offsets[2]});
  }
  for (const Gs1Element& e : data.elements) {
    auto ok = ValidateValue(*FindAi(e.ai), e.value, e.offset, reference_year);
    if (!ok) return std::unexpected(ok.error());
  }
  return data;
}

}  // namespace pedigree::scanner::internal

namespace pedigree::scanner {

Result<std::string> ToEpcUrn(const provenance::PackId& pack, int company_prefix_length) {
  auto ok = internal::CheckPrefixLength(company_prefix_length);
  if (!ok) return std::unexpected(ok.error());
  const std::string& g = pack.gtin().value();
  size_t cpl = static_cast<size_t>(company_prefix_length);
  return "urn:epc:id:sgtin:" + g.substr(1, cpl) + "." + g.substr(0, 1) +
         g.substr(1 + cpl, 12 - cpl) + "." + internal::EpcEscape(pack.serial().value());
}

Result<std::string> ToEpcUrn(const provenance::Sscc& sscc, int company_prefix_length) {
  auto ok = internal::CheckPrefixLength(company_prefix_length);
  if (!ok) return std::unexpected(ok.error());
  const std::string& s = sscc.value();
  size_t cpl = static_cast<size_t>(company_prefix_length);
  return "urn:epc:id:sscc:" + s.substr(1, cpl) + "." + s.substr(0, 1) + s.substr(1 + cpl, 16 - cpl);
}

Result<std::string> ToEpcUrn(const provenance::Gln& gln, int company_prefix_length) {
  auto ok = internal::CheckPrefixLength(company_prefix_length);
  if (!ok) return std::unexpected(ok.error());
  const std::string& g = gln.value();
  size_t cpl = static_cast<size_t>(company_prefix_length);
  return "urn:epc:id:sgln:" + g.substr(0, cpl) + "." + g.substr(cpl, 12 - cpl) + ".0";
}

}  // namespace pedigree::scanner
