// GS1 Digital Link URIs (GS1 Digital Link Standard: URI Syntax 1.x, uncompressed form) and EPC
// pure-identity URNs (EPC Tag Data Standard §6: sgtin, sscc, sgln).
#include <cstdio>
#include <span>
#include <string>

#include "gs1_internal.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::scanner::internal {
namespace {

using provenance::IsDigit;

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

// GS1 Digital Link URI value decoding (RFC 3986 §2.1): "%XX" with two hex digits is the
// byte XX, any other '%' stays literal (it is then judged by the AI's character set); in a
// query value '+' is a space (form encoding), in a path segment it is itself. A decoded
// NUL is refused.
Result<std::string> DlDecode(std::string_view s, size_t offset, bool query, std::string_view ai) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      char decoded = static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      if (decoded == '\0') {
        return Fail(Error("gs1.dl_syntax", "the value of AI " + std::string(ai) +
                                               " decodes to a NUL byte (%00) at byte " +
                                               std::to_string(offset + i))
                        .at_field(std::string(ai))
                        .at_offset(offset + i));
      }
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && query) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// RFC 3986 §2: the characters a URI may hold (unreserved, reserved and '%').
bool IsUriChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(c) != std::string_view::npos;
}

// The authority of a Digital Link: a host name (letters, digits, '-', '.'), an IPv4
// address, or an IPv6 literal in brackets, optionally followed by ":port". No user info.
// Returns the offset of the first bad character relative to `host`, or npos.
size_t BadHostAt(std::string_view host) {
  if (host.empty()) return 0;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return 0;
    for (size_t i = 1; i < close; ++i) {
      char c = host[i];
      bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                c == ':' || c == '.';
      if (!ok) return i;
    }
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return close + 1;
      port = host.substr(close + 2);
      if (port.empty()) return close + 1;
    }
  } else {
    size_t colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = host.substr(colon + 1);
      if (port.empty()) return colon;
    }
    if (name.empty()) return 0;
    size_t label_start = 0;
    for (size_t i = 0; i <= name.size(); ++i) {
      if (i == name.size() || name[i] == '.') {
        // An empty label is allowed only as the root's trailing dot ("example.com.").
        if (i == label_start && !(i == name.size() && i > 0)) return i;
        if (i > label_start && (name[label_start] == '-' || name[i - 1] == '-')) return label_start;
        label_start = i + 1;
        continue;
      }
      char c = name[i];
      bool ok =
          (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
      if (!ok) return i;
    }
  }
  for (size_t i = 0; i < port.size(); ++i) {
    if (!IsDigit(port[i]) || i >= 5) return static_cast<size_t>(port.data() - host.data()) + i;
  }
  return std::string_view::npos;
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
  // A byte loop: the lists are a few bytes, and a find (memchr) and a == (memcmp) call per
  // item cost more than the scan; a Digital Link parse runs this a dozen times. As before,
  // an empty item after a trailing comma is not an item, nor is an empty list one.
  if (list.empty()) return -1;
  int index = 0;
  size_t start = 0;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size() && list[i] != ',') continue;
    if (i == list.size() && start == i && i != 0) break;
    if (i - start == ai.size()) {
      size_t k = 0;
      while (k < ai.size() && list[start + k] == ai[k]) ++k;
      if (k == ai.size()) return index;
    }
    ++index;
    start = i + 1;
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
  const AiDefinition* def = FindAiByCode(ai);
  return def && def->dl_primary_key;
}

void DigitalLinkQualifiers(std::string_view key, std::string_view* sequence,
                           std::string_view* alternative) {
  *sequence = "";
  *alternative = "";
  const AiDefinition* def = FindAiByCode(key);
  if (!def || !def->dl_primary_key) return;
  std::string_view q = def->dl_qualifiers;
  size_t bar = q.find('|');
  *sequence = q.substr(0, bar);
  if (bar != std::string_view::npos) *alternative = q.substr(bar + 1);
}

namespace {

// True when `ais` (the path's AIs after the key) is an ordered selection from one of the
// key's qualifier sequences ("dlpkey=22,10,21|235": 22/10/21 in that order, or 235).
bool IsValidQualifierSequence(const AiDefinition& key, std::span<const std::string_view> ais) {
  if (ais.empty()) return true;
  std::string_view alternatives = key.dl_qualifiers;
  while (true) {
    size_t bar = alternatives.find('|');
    std::string_view sequence = alternatives.substr(0, bar);
    size_t next = 0;
    bool ok = true;
    for (std::string_view ai : ais) {
      int index = IndexInList(sequence, ai);
      if (index < 0 || static_cast<size_t>(index) < next) {
        ok = false;
        break;
      }
      next = static_cast<size_t>(index) + 1;
    }
    if (ok && !sequence.empty()) return true;
    if (bar == std::string_view::npos) return false;
    alternatives.remove_prefix(bar + 1);
  }
}

}  // namespace

// GS1 Digital Link URI Syntax (uncompressed): scheme, domain, optional stem, then the
// rightmost primary key's "/AI/value" with its qualifiers in the dictionary's order, then
// data attributes ("?" flag) as query parameters.
Result<Gs1Data> ParseDigitalLink(std::string_view in, const ParseOptions& options,
                                 int reference_year, std::vector<Finding>* findings) {
  (void)options;
  (void)findings;
  Gs1Data data;
  data.source_form = "digital_link";
  data.elements.reserve(6);
  // RFC 3986 §2: a character no URI may hold is refused (a space, '"', '<', '{', '|'…).
  for (size_t i = 0; i < in.size(); ++i) {
    if (!IsUriChar(in[i])) {
      unsigned char u = static_cast<unsigned char>(in[i]);
      char shown[16];
      std::snprintf(shown, sizeof shown, u >= 0x21 && u < 0x7f ? "'%c'" : "byte 0x%02X",
                    u >= 0x21 && u < 0x7f ? in[i] : u);
      return Fail(Error("gs1.dl_syntax", std::string("the Digital Link holds ") +
                                             (u == ' ' ? std::string("a space") : shown) +
                                             " at byte " + std::to_string(i) +
                                             ", which a URI cannot carry unencoded")
                      .at_offset(i));
    }
  }
  // The scheme is http or https, in lower or upper case (not mixed).
  size_t scheme_end = 0;
  for (std::string_view scheme : {"https://", "HTTPS://", "http://", "HTTP://"}) {
    if (in.substr(0, scheme.size()) == scheme) {
      scheme_end = scheme.size();
      break;
    }
  }
  if (scheme_end == 0) {
    return Fail(Error("gs1.dl_syntax",
                      "a Digital Link starts with http:// or https:// in lower or upper case, "
                      "got '" +
                          std::string(in.substr(0, std::min<size_t>(in.size(), 8))) + "'")
                    .at_offset(0));
  }
  bool scheme_upper = in[0] == 'H';
  size_t auth_end = scheme_end;
  while (auth_end < in.size() && in[auth_end] != '/' && in[auth_end] != '?' &&
         in[auth_end] != '#') {
    ++auth_end;
  }
  if (auth_end == scheme_end) {
    return Fail(Error("gs1.dl_syntax", "the Digital Link has no domain").at_offset(scheme_end));
  }
  std::string_view host = in.substr(scheme_end, auth_end - scheme_end);
  if (size_t bad = BadHostAt(host); bad != std::string_view::npos) {
    return Fail(Error("gs1.dl_syntax", "the Digital Link's domain '" + std::string(host) +
                                           "' is not a host name, IP address or [IPv6] with an "
                                           "optional :port")
                    .at_offset(scheme_end + std::min(bad, host.size())));
  }
  if (auth_end == in.size() || in[auth_end] != '/') {
    return Fail(Error("gs1.dl_syntax", "the Digital Link has no path after its domain")
                    .at_offset(auth_end));
  }
  size_t frag = in.find('#', auth_end);
  std::string_view body = in.substr(0, frag);
  size_t path_end = body.find('?', auth_end);
  if (path_end == std::string_view::npos) path_end = body.size();

  constexpr size_t kMaxSegments = 32;
  Segment seg_store[kMaxSegments];
  size_t seg_count = 0;
  for (size_t p = auth_end; p < path_end;) {
    size_t start = p + 1;  // in[p] == '/'
    size_t slash = in.find('/', start);
    if (slash == std::string_view::npos || slash > path_end) slash = path_end;
    if (slash == start) {
      return Fail(Error("gs1.dl_syntax",
                        "the Digital Link path has an empty segment ('//' or "
                        "a trailing '/') at byte " +
                            std::to_string(start))
                      .at_offset(start));
    }
    if (seg_count == kMaxSegments) {
      return Fail(Error("gs1.dl_syntax", "the Digital Link path has more than " +
                                             std::to_string(kMaxSegments) + " segments")
                      .at_offset(start));
    }
    seg_store[seg_count++] = {in.substr(start, slash - start), start};
    p = slash;
  }
  std::span<const Segment> segs(seg_store, seg_count);
  // The primary key is found from the right: /AI/value pairs are walked back while the AI
  // is a known AI, up to the first that is a primary key; what precedes it is the stem.
  size_t key_index = segs.size();
  if (segs.size() >= 2) {
    for (size_t i = segs.size() - 2;; i -= 2) {
      const AiDefinition* def = AllDigits(segs[i].text) ? FindAiByCode(segs[i].text) : nullptr;
      if (!def) break;
      if (def->dl_primary_key) {
        key_index = i;
        break;
      }
      if (i < 2) break;
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

  const AiDefinition* key_def = FindAiByCode(segs[key_index].text);
  std::string_view key = key_def->ai;
  std::string_view path_ais_store[kMaxSegments];
  size_t path_ai_count = 0;
  for (size_t k = key_index; k < segs.size(); k += 2) {
    std::string_view ai = segs[k].text;
    if (k > key_index) {
      path_ais_store[path_ai_count++] = ai;
      if (!IsValidQualifierSequence(*key_def, std::span(path_ais_store, path_ai_count))) {
        std::string_view sequence, alternative;
        DigitalLinkQualifiers(key, &sequence, &alternative);
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
    auto value = DlDecode(segs[k + 1].text, segs[k + 1].offset, /*query=*/false, ai);
    if (!value) return std::unexpected(value.error());
    data.elements.emplace_back(StringFrom{ai}, std::move(*value), segs[k + 1].offset);
  }
  std::span<const std::string_view> path_qualifiers(path_ais_store, path_ai_count);

  if (path_end < body.size()) {
    size_t p = path_end + 1;
    while (p < body.size()) {
      size_t amp = body.find('&', p);
      if (amp == std::string_view::npos) amp = body.size();
      std::string_view pair = body.substr(p, amp - p);
      size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      if (eq == 0) {
        return Fail(Error("gs1.dl_syntax",
                          "the Digital Link query has a parameter with an "
                          "empty name at byte " +
                              std::to_string(p))
                        .at_offset(p));
      }
      if (pair.empty() || eq == std::string_view::npos || !AllDigits(k)) {
        // Empty parameters, parameters without a value and non-numeric keys (linkType,
        // context…) are not AI data: reported, not used.
        if (!k.empty()) data.ignored_query_keys.emplace_back(k);
        p = amp + 1;
        continue;
      }
      std::string_view v = pair.substr(eq + 1);
      size_t voffset = p + eq + 1;
      const AiDefinition* def = FindAiByCode(k);
      if (!def) {
        return Fail(Error("gs1.unknown_ai", "query attribute '" + std::string(k) +
                                                "' is not a known Application Identifier")
                        .at_field(std::string(k))
                        .at_offset(p));
      }
      if (v.empty()) {
        return Fail(Error("gs1.length", "query attribute " + std::string(k) + " has no value")
                        .at_field(std::string(k))
                        .at_offset(voffset));
      }
      if (!def->dl_data_attribute) {
        return Fail(Error("gs1.dl_syntax",
                          "AI " + std::string(k) +
                              " is not a Digital Link data attribute (the syntax dictionary "
                              "gives it no '?' flag), so it cannot be a query parameter")
                        .at_field(std::string(k))
                        .at_offset(p));
      }
      for (const Gs1Element& e : data.elements) {
        if (e.ai == k) {
          return Fail(Error("gs1.duplicate_ai", "AI " + std::string(k) +
                                                    " appears twice in the Digital Link; an AI "
                                                    "may appear once, in the path or the query")
                          .at_field(std::string(k))
                          .at_offset(p));
        }
      }
      // A key qualifier belongs in the path: refused when the AI would form a valid
      // key-qualifier sequence at some place of the path.
      for (size_t at = 0; at <= path_qualifiers.size(); ++at) {
        std::string_view trial[kMaxSegments + 1];
        size_t n = 0;
        for (size_t i = 0; i < at; ++i) trial[n++] = path_qualifiers[i];
        trial[n++] = def->ai;
        for (size_t i = at; i < path_qualifiers.size(); ++i) trial[n++] = path_qualifiers[i];
        if (IsValidQualifierSequence(*key_def, std::span(trial, n)) &&
            !key_def->dl_qualifiers.empty()) {
          return Fail(Error("gs1.dl_syntax", "AI " + std::string(k) + " is a key qualifier of /" +
                                                 std::string(key) +
                                                 "/ and belongs in the path, not in the query")
                          .at_field(std::string(k))
                          .at_offset(p));
        }
      }
      auto value = DlDecode(v, voffset, /*query=*/true, k);
      if (!value) return std::unexpected(value.error());
      // As the GS1 Syntax Engine does for a GTIN in the query: GTIN-8/12/13 are
      // right-justified to 14 digits.
      if (def->ai == "01" && AllDigits(*value) &&
          (value->size() == 8 || value->size() == 12 || value->size() == 13)) {
        value->insert(0, 14 - value->size(), '0');
      }
      data.elements.emplace_back(StringFrom{def->ai}, std::move(*value), voffset);
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
