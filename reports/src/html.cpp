// RenderHtml: every report kind from its JSON. The page is built from the same JSON the
// CLI prints, so the HTML can never show a check the JSON does not hold.
#include "pedigree/reports/html.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "pedigree/base/printable.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/reports/receipt.h"
#include "pedigree/reports/trial_report.h"

namespace pedigree::reports {

std::string EscapeHtml(std::string_view raw) {
  // Control characters first: a page must not carry what a terminal or a copy-paste acts on.
  const std::string text = Printable(raw);
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Screen colours carry meaning, and so do the words and border styles: the page stays
// readable printed in black and white, where backgrounds are dropped.
constexpr const char* kStyle = R"css(
:root{--ok:#1b7a3a;--bad:#b3261e;--warn:#9a6700;--ink:#1d2330;--mute:#5b6476;--line:#d5d9e2}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);margin:0;background:#f4f6f9}
main{max-width:1120px;margin:0 auto;padding:24px}
header h1{font-size:20px;margin:0 0 4px}
header .meta{color:var(--mute);font-size:12px}
header .subject{overflow-wrap:anywhere}
.banner{margin:16px 0;padding:18px 24px;border-radius:8px;color:#fff;border:4px solid transparent}
.banner .word{font-size:34px;font-weight:800;letter-spacing:.06em}
.banner .summary{font-size:16px;margin-top:4px;overflow-wrap:anywhere}
.banner.VERIFIED{background:var(--ok)}.banner.SUSPECT{background:var(--warn)}
.banner.FAILED{background:var(--bad)}.banner.UNKNOWN{background:var(--mute)}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;
margin:16px 0}
section h2{font-size:16px;margin:0 0 10px}
h3{font-size:14px;margin:14px 0 6px}
h4{font-size:13px;margin:10px 0 4px;color:var(--mute)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
th{color:var(--mute);font-weight:600}
td{overflow-wrap:anywhere}
.id{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv>tbody>tr>th{width:28%;overflow-wrap:normal}
table.kv table.kv>tbody>tr>th{width:35%}
table.kv td>table{font-size:inherit}
code,pre,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:12px}
code.hash,code.token,td.wrap{overflow-wrap:anywhere;word-break:normal}
ul.list{margin:0;padding-left:1.1em}
.time,td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f6f9;padding:8px;border-radius:4px;
margin:0}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:700;
text-transform:uppercase;border:1px solid;margin:1px 2px 1px 0;white-space:nowrap}
.badge.pass{color:var(--ok);border-color:var(--ok);background:#e8f5ec}
.badge.fail{color:var(--bad);border:2px solid var(--bad);background:#fdecea}
.badge.warn{color:var(--warn);border:1px dashed var(--warn);background:#fff6e0}
.badge.status{color:var(--ink);border-color:var(--mute);background:#eef1f6}
td.checks .badge{display:block;width:fit-content;white-space:normal;overflow-wrap:normal;
text-transform:none}
table.entries table.kv>tbody>tr>th{width:auto}
tr.alert td{background:#fdecea}
tr.alert td:first-child{border-left:4px solid var(--bad)}
.figures{display:flex;flex-wrap:wrap;gap:12px}
.figure{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:140px}
.figure .v{font-size:22px;font-weight:700}.figure .k{color:var(--mute);font-size:12px}
.item{border-left:3px solid var(--line);padding-left:10px;margin:10px 0}
svg.timeline{width:100%;height:auto;display:block}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.empty{color:var(--mute);font-style:italic}
@page{size:A4 portrait;margin:15mm}
@media print{
 body{background:none;color:#000;font-size:10pt}
 main{max-width:none;padding:0}
 header h1{font-size:15pt}
 .banner{margin:8px 0;padding:8px 14px}
 .banner .word{font-size:22pt}
 .banner .summary{font-size:11pt}
 section{border:none;border-top:1px solid #000;border-radius:0;padding:6px 0;margin:10px 0 0}
 h2,h3,h4{break-after:avoid;page-break-after:avoid}
 table{font-size:8.5pt}
 th,td{padding:2px 3px}
 .item{padding-left:6px;border-left-width:2px}
 code,pre,.mono{font-size:8pt}
 thead{display:table-header-group}
 tr,.figure,.item>table{break-inside:avoid;page-break-inside:avoid}
 .banner{background:none!important;color:#000;border:4px solid #000;border-radius:0}
 .banner.FAILED{border-style:double;border-width:6px}
 .banner.SUSPECT{border-style:dashed}
 .badge{background:none!important;color:#000!important;border-color:#000!important;font-size:7.5pt;
  padding:0 4px}
 tr.alert td{background:none}
 tr.alert td:first-child{border-left:4px solid #000}
 pre{background:none;border:1px solid #000}
 th{color:#000}
 .figure{padding:4px 8px;min-width:110px}.figure .v{font-size:14pt}
}
)css";

const std::string& Str(const JsonValue& v, std::string_view key) {
  static const std::string kEmpty;
  const JsonValue* m = v.find(key);
  return m && m->is_string() ? m->as_string() : kEmpty;
}

// Any scalar as text (objects and arrays as compact JSON).
std::string Text(const JsonValue* v) {
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->as_string();
  if (v->is_int()) return std::to_string(v->as_int());
  if (v->is_bool()) return v->as_bool() ? "yes" : "no";
  return Canonicalize(*v);
}
std::string Text(const JsonValue& v, std::string_view key) { return Text(v.find(key)); }

const JsonArray& Arr(const JsonValue& v, std::string_view key) {
  static const JsonArray kEmpty;
  const JsonValue* m = v.find(key);
  return m && m->is_array() ? m->as_array() : kEmpty;
}

// A check result ("pass", "fail", "warn") as a badge; other words get the neutral style.
std::string ResultBadge(std::string_view result) {
  std::string cls =
      result == "pass" || result == "fail" || result == "warn" ? std::string(result) : "status";
  return "<span class=\"badge " + cls + "\">" + EscapeHtml(result) + "</span>";
}

std::string StatusBadge(std::string_view status) {
  if (status.empty()) return "";
  return "<span class=\"badge status\">" + EscapeHtml(status) + "</span>";
}

class Page {
 public:
  void Section(std::string_view title) {
    if (open_) out_ += "</section>\n";
    out_ += first_ ? "<section class=\"first\">" : "<section>";
    first_ = false;
    open_ = true;
    out_ += "<h2>" + EscapeHtml(title) + "</h2>\n";
  }
  void Raw(std::string_view html) { out_ += html; }
  void Empty(std::string_view what) { out_ += "<p class=\"empty\">" + EscapeHtml(what) + "</p>\n"; }
  std::string Finish() {
    if (open_) out_ += "</section>\n";
    open_ = false;
    return std::move(out_);
  }

 private:
  std::string out_;
  bool first_ = true;
  bool open_ = false;
};

// Human labels for the report's member names. A printed report is read by pharmacists,
// inspectors and journal editors, not by programmers: members not listed here are
// de-camelCased ("recordCount" -> "record count"), which is right for most of them.
std::string Label(std::string_view key) {
  static const std::pair<std::string_view, std::string_view> kLabels[] = {
      {"gtin", "GTIN"},
      {"sscc", "SSCC"},
      {"org", "organisation"},
      {"orgName", "organisation name"},
      {"sequencedTime", "logged at"},
      {"time", "time"},
      {"statusAfter", "status after"},
      {"holderAfter", "holder after"},
      {"inTransitTo", "in transit to"},
      {"productName", "product"},
      {"key", "signing key"},
      {"treeSize", "tree size"},
      {"rootHash", "root hash"},
      {"verifierKey", "verifier key"},
      {"trialId", "trial"},
      {"registryId", "registry number"},
      {"sponsorName", "sponsor name"},
      {"protocolHash", "protocol SHA-256"},
      {"documentHash", "document SHA-256"},
      {"schemaHash", "schema hash"},
      {"fileHash", "file SHA-256"},
      {"root", "Merkle root"},
      {"leaf", "leaf hash"},
      {"sealIndex", "seal entry"},
      {"afterFirstEnrolment", "after the first enrolment"},
      {"sealedBeforeFirstEnrolment", "protocol sealed before the first enrolment"},
      {"outcomeCheck", "outcome check"},
      {"reportedNotSealed", "reported but not pre-specified"},
      {"sealedNotReported", "pre-specified but not reported"},
      {"moved", "moved between primary and secondary"},
      {"switched", "outcome switching"},
      {"lockState", "lock state"},
      {"currentLeaves", "current records"},
      {"redactedLeaves", "redacted records"},
      {"submittedRecords", "submitted records"},
      {"candidateFile", "candidate file"},
      {"candidateLine", "line in the candidate"},
      {"valuesKnown", "values known"},
      {"inSealed", "in the sealed dataset"},
      {"inCandidate", "in the candidate"},
      {"sealedCount", "sealed records"},
      {"candidateCount", "candidate records"},
      {"refusedKind", "refused event"},
      {"ethicsRef", "ethics reference"},
      {"subjectRef", "subject"},
      {"recordsRedacted", "records redacted"},
      {"redactionDone", "redaction done"},
      {"dataChoice", "data choice"},
      {"despatchAdvice", "despatch advice"},
      {"statusReason", "status reason"},
      {"batchStatus", "batch status"},
      {"evidenceIndex", "evidence index"},
      {"classification", "closed as"},
      {"weighs", "weighs on the verdict"},
      {"domains", "datasets by domain"},
      {"registry", "registry entries used to judge keys"},
  };
  for (const auto& [k, label] : kLabels) {
    if (k == key) return std::string(label);
  }
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(key[i]);
    if (std::isupper(c)) {
      // An acronym inside a name ("schemaURL") stays one word.
      const bool run = i > 0 && std::isupper(static_cast<unsigned char>(key[i - 1]));
      if (i > 0 && !run) out += ' ';
      out += run ? static_cast<char>(c) : static_cast<char>(std::tolower(c));
    } else {
      out += key[i] == '_' ? ' ' : static_cast<char>(c);
    }
  }
  return out;
}

// A section or sub-heading title: the label with its first letter capitalised.
std::string Title(std::string_view key) {
  std::string t = Label(key);
  if (!t.empty()) t[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
  return t;
}

bool IsTimeValue(std::string_view s) {
  // RFC 3339 as the reports write it: 2026-11-21T07:49:59Z.
  return s.size() >= 20 && s.size() <= 35 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
         std::isdigit(static_cast<unsigned char>(s[0]));
}

bool IsHexToken(std::string_view s) {
  return s.size() >= 16 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) != 0; });
}

// A URL (a GS1 Digital Link pack id) with a break opportunity after each path separator, so
// a narrow cell breaks it between GTIN, AI and serial rather than inside one of them.
// Segments are escaped whole, so a multi-byte character or a control character in one is
// escaped as EscapeHtml does for any text.
std::string Url(std::string_view url) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] == '/' && i + 1 < url.size() && url[i + 1] != '/') {
      out += EscapeHtml(url.substr(start, i + 1 - start)) + "<wbr>";
      start = i + 1;
    }
  }
  return out + EscapeHtml(url.substr(start));
}

// Text for reading: escaped, with every short hyphenated word (a date, a time, an advice
// number such as DA-10001, a trial id) kept on one line, since a browser would otherwise
// break it after a hyphen and a reader would copy half of it. A longer one made of parts
// (a record key "STUDY|SUBJECT") may break only between its parts.
std::string Prose(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    if (word.find('-') != std::string_view::npos && word.size() <= 24) {
      out += "<span class=\"id\">" + EscapeHtml(word) + "</span>";
    } else if (word.find('-') != std::string_view::npos && word.find('|') != std::string::npos) {
      for (size_t at = 0; at < word.size();) {
        size_t bar = word.find('|', at);
        bar = bar == std::string_view::npos ? word.size() : bar + 1;
        const std::string_view part = word.substr(at, bar - at);
        out += (at ? "<wbr>" : "") + (part.size() <= 24
                                          ? "<span class=\"id\">" + EscapeHtml(part) + "</span>"
                                          : EscapeHtml(part));
        at = bar;
      }
    } else if (word.starts_with("https://")) {
      out += Url(word);
    } else {
      out += EscapeHtml(word);
    }
    if (end < text.size()) out += ' ';
    start = end + 1;
  }
  return out;
}

// Short tokens (a key fingerprint, a GLN, an organisation id) never break; long ones (a
// pack id, a hash) break anywhere and stay whole.
std::string Token(std::string_view s, std::string_view cls = "token") {
  return "<code class=\"" + std::string(s.size() <= 24 ? "id" : cls) + "\">" +
         (s.starts_with("https://") ? Url(s) : EscapeHtml(s)) + "</code>";
}

// One scalar string as it is printed. Times never wrap; hashes, keys, pack ids and other
// long tokens are monospace and may break anywhere (a reader compares them character by
// character, and the whole value stays on the page); prose wraps at spaces.
std::string StringCell(std::string_view key, const std::string& s) {
  if (IsTimeValue(s)) return "<span class=\"time\">" + EscapeHtml(s) + "</span>";
  if (IsHexToken(s)) return "<code class=\"hash\">" + EscapeHtml(s) + "</code>";
  const bool spaced = s.find(' ') != std::string::npos;
  if (!spaced && (s.size() > 24 || key == "key" || key == "pack" || key == "location"))
    return Token(s);
  // Codes and identifiers ("rules.batch_recalled", a lot, a domain) are read as one word.
  if (!spaced) return "<span class=\"id\">" + EscapeHtml(s) + "</span>";
  return Prose(s);
}

bool IsScalar(const JsonValue& v) { return !v.is_object() && !v.is_array(); }

bool AllScalarObjects(const JsonArray& rows) {
  return std::all_of(rows.begin(), rows.end(), [](const JsonValue& r) {
    if (!r.is_object()) return false;
    for (const auto& [k, v] : r.as_object()) {
      if (!IsScalar(v)) return false;
    }
    return true;
  });
}

bool IsCheckList(const JsonArray& rows) {
  return !rows.empty() && std::all_of(rows.begin(), rows.end(), [](const JsonValue& r) {
    return r.is_object() && r.find("id") && r.find("result");
  });
}

// Per-entry checks as one badge each ("signature pass"), with a failure's detail under it.
std::string CheckBadges(const JsonArray& checks) {
  std::string h;
  for (const JsonValue& c : checks) {
    const std::string& result = Str(c, "result");
    std::string cls = result == "pass" || result == "fail" || result == "warn" ? result : "status";
    h += "<span class=\"badge " + EscapeHtml(cls) + "\" title=\"" + EscapeHtml(Str(c, "detail")) +
         "\">" + EscapeHtml(Str(c, "id")) + " " + EscapeHtml(result) + "</span>";
    if (result == "fail" && !Str(c, "detail").empty())
      h += "<small>" + EscapeHtml(Str(c, "detail")) + "</small><br>";
  }
  return h;
}

std::string Nested(std::string_view key, const JsonValue& value);

// Any value inside a cell: scalars as text (see StringCell), arrays of scalars as a list,
// objects as nested label/value tables, arrays of objects as tables or one block each.
std::string Cell(std::string_view key, const JsonValue& v) {
  if (v.is_null()) return "<span class=\"empty\">none</span>";
  if (v.is_string()) {
    if (key == "status" || key == "statusAfter" || key == "lockState") {
      return StatusBadge(v.as_string());
    }
    return StringCell(key, v.as_string());
  }
  if (v.is_int() || v.is_bool()) return EscapeHtml(Text(&v));
  if (v.is_array() && v.size() == 0) return "<span class=\"empty\">none</span>";
  if (v.is_array() && std::all_of(v.as_array().begin(), v.as_array().end(), IsScalar)) {
    const JsonArray& items = v.as_array();
    const bool long_items = std::any_of(
        items.begin(), items.end(), [](const JsonValue& item) { return Text(&item).size() > 20; });
    std::string h;
    for (const JsonValue& item : items) {
      if (long_items) {
        h += "<li>" + Cell(key, item) + "</li>";
      } else {
        h += (h.empty() ? "" : ", ") + Cell(key, item);
      }
    }
    return long_items ? "<ul class=\"list\">" + h + "</ul>" : h;
  }
  return Nested(key, v);
}

// A table of objects: one row per element, the given columns (member, heading); the
// row gets class `row_class` (and "alert" when `highlight` says so).
struct Column {
  std::string member;
  std::string heading;
  bool numeric = false;
};

std::string ObjectTableHtml(const JsonArray& rows, const std::vector<Column>& columns,
                            std::string_view row_class) {
  std::string h = "<table><thead><tr>";
  for (const Column& c : columns) h += "<th>" + EscapeHtml(c.heading) + "</th>";
  h += "</tr></thead><tbody>\n";
  for (const JsonValue& row : rows) {
    h += "<tr class=\"" + EscapeHtml(row_class) + "\">";
    for (const Column& c : columns) {
      h += c.numeric ? "<td class=\"num\">" : "<td>";
      const JsonValue* v = row.find(c.member);
      if (c.member == "result") {
        h += ResultBadge(Str(row, "result"));
      } else if (v) {
        h += Cell(c.member, *v);
      }
      h += "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table>\n";
}

void ObjectTable(Page& page, const JsonArray& rows, const std::vector<Column>& columns,
                 std::string_view row_class, std::string_view empty_text) {
  if (rows.empty()) {
    page.Empty(empty_text);
    return;
  }
  page.Raw(ObjectTableHtml(rows, columns, row_class));
}

// Columns for an array of objects whose members are not known in advance.
std::vector<Column> ColumnsOf(const JsonArray& rows) {
  std::vector<Column> columns;
  std::set<std::string> seen;
  for (const JsonValue& row : rows) {
    if (!row.is_object()) continue;
    for (const auto& [k, v] : row.as_object()) {
      if (seen.insert(k).second) columns.push_back({k, Label(k), v.is_int()});
    }
  }
  return columns;
}

// Label/value table of an object's members, nested values rendered in place.
// Lists of objects (a domain's locks, seals, submissions) would be squeezed into the value
// column; they follow the table at full width under a heading of their own.
std::string KeyValueHtml(const JsonValue& object) {
  if (!object.is_object() || object.size() == 0) return "<p class=\"empty\">none</p>\n";
  std::string h = "<table class=\"kv\"><tbody>\n", after;
  for (const auto& [k, v] : object.as_object()) {
    const bool wide = v.is_array() && v.size() > 0 && !IsCheckList(v.as_array()) &&
                      std::any_of(v.as_array().begin(), v.as_array().end(),
                                  [](const JsonValue& r) { return r.is_object(); });
    if (wide) {
      after += "<h4>" + EscapeHtml(Title(k)) + "</h4>\n" + Nested(k, v);
    } else {
      h += "<tr><th>" + EscapeHtml(Label(k)) + "</th><td>" + Cell(k, v) + "</td></tr>\n";
    }
  }
  return h + "</tbody></table>\n" + after;
}

void KeyValueTable(Page& page, const JsonValue& object) { page.Raw(KeyValueHtml(object)); }

// A signed entry as the trial report lists it (index, kind, time, organisation, key, checks
// and what the entry says): one row each, its own details as a nested label/value table.
bool IsEntryList(const JsonArray& rows) {
  return !rows.empty() && std::all_of(rows.begin(), rows.end(), [](const JsonValue& r) {
    return r.is_object() && r.find("index") && r.find("checks");
  });
}

std::string EntryTableHtml(const JsonArray& rows) {
  std::string h =
      "<table class=\"entries\"><thead><tr><th>#</th><th>time claimed / logged</th>"
      "<th>entry</th><th>signed by</th><th>checks</th></tr></thead><tbody>\n";
  for (const JsonValue& e : rows) {
    h += "<tr class=\"entry-row\"><td class=\"num\">" + EscapeHtml(Text(e, "index")) + "</td>";
    h += "<td class=\"time\">" + EscapeHtml(Str(e, "time"));
    if (!Str(e, "sequencedTime").empty())
      h += "<br><small>logged " + EscapeHtml(Str(e, "sequencedTime")) + "</small>";
    h += "</td><td>";
    if (!Str(e, "kind").empty()) h += "<strong>" + EscapeHtml(Str(e, "kind")) + "</strong>";
    auto details = JsonValue::Object();
    for (const auto& [k, v] : e.as_object()) {
      static const std::set<std::string> kShown = {
          "index", "time", "sequencedTime", "kind", "org", "orgName", "key", "checks", "signature"};
      if (!kShown.count(k)) details.set(k, v);
    }
    if (details.size() > 0) h += KeyValueHtml(details);
    h += "</td><td>";
    const std::string& org = Str(e, "org");
    h += EscapeHtml(Str(e, "orgName").empty() ? org : Str(e, "orgName"));
    if (!Str(e, "orgName").empty() && !org.empty()) h += "<br>" + Token(org);
    if (!Str(e, "key").empty()) h += "<br>key " + Token(Str(e, "key"), "hash");
    // The Part 11 signature manifestation belongs with the signer.
    if (const JsonValue* sig = e.find("signature"); sig && sig->is_object()) {
      h += "<br>" + EscapeHtml(Str(*sig, "name"));
      if (!Str(*sig, "meaning").empty()) h += " (" + EscapeHtml(Str(*sig, "meaning")) + ")";
      if (!Str(*sig, "time").empty())
        h += "<br><span class=\"time\">" + EscapeHtml(Str(*sig, "time")) + "</span>";
      for (const auto& [k, v] : sig->as_object()) {
        if (k != "name" && k != "meaning" && k != "time")
          h += "<br>" + EscapeHtml(Label(k)) + ": " + Cell(k, v);
      }
    }
    h += "</td><td class=\"checks\">" + CheckBadges(Arr(e, "checks")) + "</td></tr>\n";
  }
  return h + "</tbody></table>\n";
}

// An array of objects: signed entries as the entry table; a few scalar columns as a table;
// anything wider or deeper as one label/value block per element, so no table outgrows a
// printed page and no cell holds raw JSON.
std::string ArrayOfObjectsHtml(std::string_view key, const JsonArray& rows) {
  if (IsCheckList(rows)) return "<div class=\"checks\">" + CheckBadges(rows) + "</div>";
  if (IsEntryList(rows)) return EntryTableHtml(rows);
  const std::vector<Column> columns = ColumnsOf(rows);
  if (AllScalarObjects(rows) && columns.size() <= 5) {
    return ObjectTableHtml(rows, columns, "row");
  }
  std::string h;
  for (const JsonValue& row : rows) {
    h += "<div class=\"item\">";
    // A member naming the element ("domain": "DM") heads its block.
    for (const char* name : {"domain", "code", "id", "version"}) {
      if (!Str(row, name).empty()) {
        h += "<h3>" + EscapeHtml(Title(name)) + " " + EscapeHtml(Str(row, name)) + "</h3>";
        break;
      }
    }
    h += row.is_object() ? KeyValueHtml(row) : Cell(key, row);
    h += "</div>\n";
  }
  return h;
}

std::string Nested(std::string_view key, const JsonValue& value) {
  if (value.is_object()) return KeyValueHtml(value);
  if (value.is_array()) {
    const JsonArray& rows = value.as_array();
    if (rows.empty()) return "<span class=\"empty\">none</span>";
    if (std::all_of(rows.begin(), rows.end(), [](const JsonValue& r) { return r.is_object(); }))
      return ArrayOfObjectsHtml(key, rows);
    std::string h = "<ul>";
    for (const JsonValue& r : rows) h += "<li>" + Cell(key, r) + "</li>";
    return h + "</ul>\n";
  }
  return Cell(key, value);
}

// Anything: object -> label/value table, array of objects -> table or blocks, scalar -> text.
void Generic(Page& page, std::string_view key, const JsonValue& value) {
  if (IsScalar(value)) {
    page.Raw("<p>" + Cell(key, value) + "</p>\n");
  } else if (value.is_array() && value.size() == 0) {
    page.Empty("none");
  } else {
    page.Raw(Nested(key, value));
  }
}

void Figures(Page& page, const std::vector<std::pair<std::string, std::string>>& figures) {
  std::string h = "<div class=\"figures\">";
  for (const auto& [k, v] : figures) {
    h += "<div class=\"figure\"><div class=\"v\">" + EscapeHtml(v) + "</div><div class=\"k\">" +
         EscapeHtml(k) + "</div></div>";
  }
  page.Raw(h + "</div>\n");
}

std::string Truncate(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  // Cut on a UTF-8 boundary.
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\xE2\x80\xA6";
}

// The pack's path as a vertical timeline: one node per custody event with its time,
// kind, organisation, location and the status after it; events with an alert are red.
std::string Timeline(const JsonArray& events, const std::set<int64_t>& alert_indices,
                     const std::set<int64_t>& violation_indices) {
  constexpr int kRow = 64, kTop = 20, kWidth = 1000;
  const int height = kTop * 2 + static_cast<int>(events.size()) * kRow;
  std::string s = "<svg class=\"timeline\" viewBox=\"0 0 " + std::to_string(kWidth) + " " +
                  std::to_string(height) + "\" role=\"img\" aria-label=\"custody timeline\">\n";
  if (events.size() > 1) {
    s += "<line x1=\"190\" y1=\"" + std::to_string(kTop + kRow / 2) + "\" x2=\"190\" y2=\"" +
         std::to_string(kTop + (static_cast<int>(events.size()) - 1) * kRow + kRow / 2) +
         "\" stroke=\"#8a93a6\" stroke-width=\"3\"/>\n";
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const JsonValue& e = events[i];
    const int y = kTop + static_cast<int>(i) * kRow + kRow / 2;
    const JsonValue* index = e.find("index");
    const bool alert = index && index->is_int() && alert_indices.count(index->as_int()) > 0;
    bool failed = false,
         warned = index && index->is_int() && violation_indices.count(index->as_int());
    for (const JsonValue& c : Arr(e, "checks")) {
      failed |= Str(c, "result") == "fail";
      warned |= Str(c, "result") == "warn";
    }
    const char* colour = failed || alert ? "#b3261e" : warned ? "#9a6700" : "#1b7a3a";
    const std::string ys = std::to_string(y);
    // Time on the left of the line, the event on the right.
    s += "<text x=\"170\" y=\"" + std::to_string(y - 4) +
         "\" text-anchor=\"end\" font-size=\"13\" fill=\"#1d2330\">" +
         EscapeHtml(Str(e, "time").substr(0, 10)) + "</text>";
    s += "<text x=\"170\" y=\"" + std::to_string(y + 12) +
         "\" text-anchor=\"end\" font-size=\"12\" fill=\"#5b6476\">" +
         EscapeHtml(Str(e, "time").size() > 11 ? Str(e, "time").substr(11) : "") + "</text>";
    const bool marked = alert || failed || warned;
    s += "<circle cx=\"190\" cy=\"" + ys + "\" r=\"" + (marked ? "11" : "9") + "\" fill=\"" +
         (marked ? colour : "#fff") + "\" stroke=\"" + colour + "\" stroke-width=\"3\"/>";
    if (marked) {
      s += "<text x=\"190\" y=\"" + std::to_string(y + 5) +
           "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"800\" fill=\"#fff\">!</text>";
    }
    std::string org = Str(e, "orgName").empty() ? Str(e, "org") : Str(e, "orgName");
    std::string head = "#" + Text(e, "index") + "  " + Str(e, "kind") + "  \xC2\xB7  " + org;
    s += "<text x=\"214\" y=\"" + std::to_string(y - 4) +
         "\" font-size=\"14\" font-weight=\"600\" fill=\"#1d2330\">" +
         EscapeHtml(Truncate(head, 70)) + "</text>";
    std::string sub = Str(e, "summary");
    if (!Str(e, "location").empty())
      sub += (sub.empty() ? "at " : "  \xC2\xB7  at ") + Str(e, "location");
    s += "<text x=\"214\" y=\"" + std::to_string(y + 14) + "\" font-size=\"12\" fill=\"#5b6476\">" +
         EscapeHtml(Truncate(sub, 95)) + "</text>";
    // Status badge on the right.
    const std::string status = Str(e, "statusAfter");
    if (!status.empty()) {
      const int w = 14 + 7 * static_cast<int>(std::min<size_t>(status.size(), 22));
      s += "<rect x=\"" + std::to_string(kWidth - 10 - w) + "\" y=\"" + std::to_string(y - 12) +
           "\" width=\"" + std::to_string(w) +
           "\" height=\"22\" rx=\"11\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"1.5\"/>";
      s += "<text x=\"" + std::to_string(kWidth - 10 - w / 2) + "\" y=\"" + std::to_string(y + 4) +
           "\" text-anchor=\"middle\" font-size=\"12\" fill=\"" + colour + "\">" +
           EscapeHtml(Truncate(status, 22)) + "</text>";
    }
    if (alert || failed || warned) {
      const char* word = failed ? "FAILED CHECK" : alert ? "ALERT" : "RULE VIOLATION";
      s += "<text x=\"" + std::to_string(kWidth - 10) + "\" y=\"" + std::to_string(y + 26) +
           "\" text-anchor=\"end\" font-size=\"11\" font-weight=\"700\" fill=\"" + colour + "\">" +
           word + "</text>";
    }
    s += "\n";
  }
  return s + "</svg>\n";
}

// Five columns so that the table fits a portrait A4 page: the key fingerprint goes with the
// organisation that signed, the status after the event with the event.
void EventsTable(Page& page, const JsonArray& events, const std::set<int64_t>& alert_indices) {
  if (events.empty()) {
    page.Empty("no events");
    return;
  }
  std::string h =
      "<table class=\"entries\"><thead><tr><th>#</th><th>time claimed / logged</th>"
      "<th>event</th><th>organisation and key</th><th>checks</th></tr></thead><tbody>\n";
  for (const JsonValue& e : events) {
    const JsonValue* index = e.find("index");
    const bool alert = index && index->is_int() && alert_indices.count(index->as_int()) > 0;
    h += alert ? "<tr class=\"event-row alert\">" : "<tr class=\"event-row\">";
    h += "<td class=\"num\">" + EscapeHtml(Text(e, "index")) + "</td>";
    h += "<td class=\"time\">" + EscapeHtml(Str(e, "time"));
    // The log's sequencing time, which the rules judged by (absent for version 1 leaves).
    if (!Str(e, "sequencedTime").empty())
      h += "<br><small>logged " + EscapeHtml(Str(e, "sequencedTime")) + "</small>";
    h += "</td>";
    h += "<td><strong>" + EscapeHtml(Str(e, "kind")) + "</strong><br>" + Prose(Str(e, "summary"));
    if (!Str(e, "statusAfter").empty())
      h += "<br>status after " + StatusBadge(Str(e, "statusAfter"));
    if (!Str(e, "holderAfter").empty())
      h += "<br>holder after " + EscapeHtml(Str(e, "holderAfter"));
    h += "</td>";
    h += "<td>" + EscapeHtml(Str(e, "orgName").empty() ? Str(e, "org") : Str(e, "orgName"));
    if (!Str(e, "orgName").empty()) h += "<br>" + Token(Str(e, "org"));
    if (!Str(e, "location").empty()) h += "<br>at " + Token(Str(e, "location"));
    if (!Str(e, "key").empty()) h += "<br>key " + Token(Str(e, "key"), "hash");
    h += "</td><td class=\"checks\">" + CheckBadges(Arr(e, "checks")) + "</td></tr>\n";
  }
  page.Raw(h + "</tbody></table>\n");
}

void ChecksSection(Page& page, const JsonValue& report) {
  page.Section("Checks");
  ObjectTable(page, Arr(report, "checks"),
              {{"result", "result"},
               {"id", "check"},
               {"detail", "detail"},
               {"index", "index", true},
               {"expected", "expected"},
               {"actual", "actual"}},
              "check-row", "no checks");
}

void FailuresAndViolations(Page& page, const JsonValue& report) {
  if (!Arr(report, "failures").empty()) {
    page.Section("Failures (cryptographic evidence broken)");
    ObjectTable(page, Arr(report, "failures"),
                {{"code", "code"},
                 {"message", "message"},
                 {"index", "index", true},
                 {"expected", "expected"},
                 {"actual", "actual"}},
                "failure-row alert", "none");
  }
  if (!Arr(report, "violations").empty()) {
    page.Section("Rule violations");
    ObjectTable(page, Arr(report, "violations"),
                {{"code", "code"},
                 {"message", "message"},
                 {"index", "index", true},
                 {"time", "time"},
                 {"org", "organisation"},
                 {"location", "location"}},
                "violation-row alert", "none");
  }
}

// Alerts have ten members; five columns fit the page, the rest go with the alert they
// qualify (its message and reason with the code, its state and closing with its class).
void AlertsSection(Page& page, const JsonValue& report) {
  page.Section("Alerts");
  const JsonArray& alerts = Arr(report, "alerts");
  if (alerts.empty()) {
    page.Empty("no alerts");
    return;
  }
  std::string h =
      "<table><thead><tr><th>#</th><th>time</th><th>alert</th><th>organisation</th>"
      "<th>class and state</th></tr></thead><tbody>\n";
  for (const JsonValue& a : alerts) {
    h += "<tr class=\"alert-row alert\"><td class=\"num\">" + EscapeHtml(Text(a, "index")) +
         "</td><td class=\"time\">" + EscapeHtml(Str(a, "time")) + "</td><td><strong>" +
         EscapeHtml(Str(a, "code")) + "</strong><br>" + Prose(Str(a, "message"));
    if (!Str(a, "reason").empty()) h += "<br>reason: " + EscapeHtml(Str(a, "reason"));
    if (!Str(a, "pack").empty()) h += "<br>" + Token(Str(a, "pack"));
    h += "</td><td>" + EscapeHtml(Str(a, "org")) + "</td><td><span class=\"id\">" +
         EscapeHtml(Str(a, "class")) + "</span>";
    if (!Str(a, "state").empty()) h += "<br>" + StatusBadge(Str(a, "state"));
    if (!Str(a, "classification").empty())
      h += "<br>closed as " + EscapeHtml(Str(a, "classification"));
    if (!Str(a, "actor").empty()) h += "<br>by " + EscapeHtml(Str(a, "actor"));
    if (!Str(a, "changedAt").empty())
      h += "<br>at <span class=\"time\">" + EscapeHtml(Str(a, "changedAt")) + "</span>";
    if (const JsonValue* w = a.find("weighs"); w && w->is_bool())
      h += w->as_bool() ? "<br>weighs on the verdict" : "<br>does not weigh on the verdict";
    if (const JsonValue* s = a.find("suppressed"); s && s->is_bool() && s->as_bool())
      h += "<br>suppressed";
    h += "</td></tr>\n";
  }
  page.Raw(h + "</tbody></table>\n");
}

void LogSection(Page& page, const JsonValue& report) {
  const JsonValue* log = report.find("log");
  if (!log || !log->is_object()) return;
  page.Section("Log and checkpoint");
  std::string h = "<table class=\"kv\"><tbody>\n";
  for (const char* k : {"origin", "treeSize", "rootHash", "verifierKey"}) {
    if (!log->find(k)) continue;
    h += "<tr><th>" + EscapeHtml(Label(k)) + "</th><td class=\"mono wrap\">" +
         EscapeHtml(Text(*log, k)) + "</td></tr>\n";
  }
  const JsonArray& cosigs = Arr(*log, "cosignatures");
  h += "<tr><th>cosignatures</th><td>";
  if (cosigs.empty()) h += "<span class=\"empty\">none</span>";
  for (const JsonValue& c : cosigs)
    h += EscapeHtml(Str(c, "name")) + " at " + EscapeHtml(Text(c, "time")) + "<br>";
  h += "</td></tr>\n";
  if (!Str(*log, "checkpoint").empty()) {
    h += "<tr><th>checkpoint</th><td><pre>" + EscapeHtml(Str(*log, "checkpoint")) +
         "</pre></td></tr>\n";
  }
  page.Raw(h + "</tbody></table>\n");
}

void Pack(Page& page, const JsonValue& report, std::set<std::string>& shown) {
  std::set<int64_t> alert_indices, violation_indices;
  for (const JsonValue& a : Arr(report, "alerts")) {
    if (const JsonValue* i = a.find("index"); i && i->is_int()) alert_indices.insert(i->as_int());
  }
  for (const JsonValue& v : Arr(report, "violations")) {
    if (const JsonValue* i = v.find("index"); i && i->is_int())
      violation_indices.insert(i->as_int());
  }
  page.Section("Pack");
  if (const JsonValue* subject = report.find("subject")) KeyValueTable(page, *subject);
  page.Section("Path of custody");
  page.Raw(Timeline(Arr(report, "events"), alert_indices, violation_indices));
  page.Section("Events");
  EventsTable(page, Arr(report, "events"), alert_indices);
  AlertsSection(page, report);
  shown.insert({"subject", "events", "alerts"});
}

void Batch(Page& page, const JsonValue& report, std::set<std::string>& shown) {
  page.Section("Batch");
  if (const JsonValue* subject = report.find("subject")) KeyValueTable(page, *subject);
  page.Section("Packs per status");
  std::vector<std::pair<std::string, std::string>> figures;
  if (const JsonValue* counts = report.find("counts"); counts && counts->is_object()) {
    for (const auto& [k, v] : counts->as_object()) figures.emplace_back(k, Text(&v));
  }
  if (figures.empty()) {
    page.Empty("no packs commissioned");
  } else {
    Figures(page, figures);
  }
  page.Section("Recall reach: who holds the packs now");
  ObjectTable(page, Arr(report, "recallReach"),
              {{"holder", "holder"},
               {"inTransitTo", "in transit to"},
               {"status", "status"},
               {"packs", "packs", true}},
              "reach-row", "no packs");
  AlertsSection(page, report);
  page.Section("Temperature excursions");
  ObjectTable(page, Arr(report, "excursions"),
              {{"index", "index", true},
               {"despatchAdvice", "despatch advice"},
               {"from", "from"},
               {"to", "to"},
               {"min",
                "min \xC2\xB0"
                "C"},
               {"max",
                "max \xC2\xB0"
                "C"},
               {"packs", "packs of this batch", true}},
              "excursion-row alert", "no temperature excursions");
  shown.insert({"subject", "counts", "recallReach", "alerts", "excursions"});
}

void Audit(Page& page, const JsonValue& report, std::set<std::string>& shown) {
  page.Section("Audit");
  std::vector<std::pair<std::string, std::string>> figures;
  if (const JsonValue* audit = report.find("audit"); audit && audit->is_object()) {
    const std::pair<const char*, const char*> names[] = {
        {"entriesChecked", "entries recomputed"},
        {"signaturesChecked", "signatures verified"},
        {"checkpointsChecked", "checkpoints verified"},
        {"seconds", "seconds"}};
    for (const auto& [k, label] : names) {
      if (audit->find(k)) figures.emplace_back(label, Text(*audit, k));
    }
    for (const auto& [k, v] : audit->as_object()) {
      bool known = std::any_of(std::begin(names), std::end(names),
                               [&](const auto& n) { return k == n.first; });
      if (!known) figures.emplace_back(k, Text(&v));
    }
  }
  Figures(page, figures);
  for (const JsonValue& f : Arr(report, "failures")) {
    if (!f.find("index")) continue;
    page.Raw("<p><strong>First divergent index: " + EscapeHtml(Text(f, "index")) + "</strong> (" +
             EscapeHtml(Str(f, "code")) + ")</p>\n");
    break;
  }
  shown.insert("audit");
}

}  // namespace

std::string RenderHtml(const JsonValue& report) {
  const std::string kind = Str(report, "report");
  std::string verdict = Str(report, "verdict");
  const std::string banner_class =
      verdict == "VERIFIED" || verdict == "SUSPECT" || verdict == "FAILED" ? verdict : "UNKNOWN";
  if (verdict.empty()) verdict = "NO VERDICT";

  std::string title = kind.empty() ? "pedigree report" : "pedigree " + kind + " report";
  std::string subject_line;
  if (const JsonValue* subject = report.find("subject"); subject && subject->is_object()) {
    for (const char* k : {"pack", "container", "productName", "gtin", "lot", "trialId", "title"}) {
      if (!Str(*subject, k).empty())
        subject_line += (subject_line.empty() ? "" : " \xC2\xB7 ") + Str(*subject, k);
    }
  }

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + EscapeHtml(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n";
  html += "<body><main>\n<header><h1>" + EscapeHtml(title) + "</h1>";
  if (!subject_line.empty())
    html += "<div class=\"subject\">" + EscapeHtml(subject_line) + "</div>";
  html += "<div class=\"meta\">generated " + EscapeHtml(Str(report, "generatedAt")) + " \xC2\xB7 " +
          EscapeHtml(Str(report, "format")) + "</div></header>\n";
  html += "<div class=\"banner " + banner_class + "\"><div class=\"word\">" + EscapeHtml(verdict) +
          "</div><div class=\"summary\">" + Prose(Str(report, "summary")) + "</div></div>\n";

  Page page;
  std::set<std::string> shown = {"format", "report", "generatedAt", "verdict",   "summary",
                                 "log",    "checks", "failures",    "violations"};
  FailuresAndViolations(page, report);
  if (kind == "pack") {
    Pack(page, report, shown);
  } else if (kind == "batch") {
    Batch(page, report, shown);
  } else if (kind == "audit") {
    Audit(page, report, shown);
  } else if (kind == "trial") {
    // What a reader asks first, in that order; the registry entries come after the checks.
    for (const char* k :
         {"subject", "registration", "protocol", "outcomeCheck", "domains", "consent", "alerts"}) {
      const JsonValue* v = report.find(k);
      if (!v) continue;
      page.Section(std::string_view(k) == "subject" ? "Trial" : Title(k));
      Generic(page, k, *v);
      shown.insert(k);
    }
  }
  ChecksSection(page, report);
  // Members this renderer has no layout for (new report kinds such as "trial") still show.
  if (report.is_object()) {
    for (const auto& [k, v] : report.as_object()) {
      if (shown.count(k)) continue;
      page.Section(kind == "trial" && k == "subject" ? "Trial" : Title(k));
      Generic(page, k, v);
    }
  }
  LogSection(page, report);
  html += page.Finish();
  html += "</main></body></html>\n";
  return html;
}

namespace {

// A member as the text renderings show it: control characters escaped (docs/reports.md).
std::string Shown(const JsonValue* v) { return Printable(Text(v)); }
std::string Shown(const JsonValue& v, std::string_view key) { return Printable(Text(v, key)); }

void TextRows(std::string& out, const JsonArray& rows, const std::vector<std::string>& members) {
  for (const JsonValue& row : rows) {
    out += " ";
    for (const std::string& m : members) {
      std::string v = Shown(row, m);
      if (!v.empty()) out += " " + v;
    }
    out += "\n";
  }
}

}  // namespace

std::string RenderText(const JsonValue& report) {
  // Pack, trial and receipt reports have text layouts of their own.
  if (Shown(report, "report") == "pack") return RenderPackText(report);
  if (Shown(report, "report") == "trial") return RenderTrialText(report);
  if (Shown(report, "report") == "receipt") return RenderReceiptText(report);
  std::string out = Shown(report, "verdict").empty() ? "NO VERDICT" : Shown(report, "verdict");
  out +=
      "  " + Shown(report, "report") + " report, generated " + Shown(report, "generatedAt") + "\n";
  out += Shown(report, "summary") + "\n";
  std::set<std::string> shown = {"format", "report",   "generatedAt", "verdict", "summary",
                                 "checks", "failures", "violations",  "log"};
  auto section = [&](const std::string& title) { out += "\n" + title + ":\n"; };
  if (!Arr(report, "failures").empty()) {
    section("failures");
    TextRows(out, Arr(report, "failures"), {"code", "index", "message"});
  }
  if (!Arr(report, "violations").empty()) {
    section("violations");
    TextRows(out, Arr(report, "violations"), {"code", "index", "time", "org", "message"});
  }
  if (report.is_object()) {
    for (const auto& [k, v] : report.as_object()) {
      if (shown.count(k)) continue;
      section(Printable(k));
      if (v.is_object()) {
        for (const auto& [mk, mv] : v.as_object())
          out += "  " + Printable(mk) + ": " + Shown(&mv) + "\n";
      } else if (v.is_array()) {
        if (v.size() == 0) out += "  none\n";
        std::vector<std::string> members;
        for (const Column& c : ColumnsOf(v.as_array())) members.push_back(c.member);
        if (k == "events")
          members = {"index", "time", "sequencedTime", "kind", "org", "summary", "statusAfter"};
        TextRows(out, v.as_array(), members);
      } else {
        out += "  " + Shown(&v) + "\n";
      }
    }
  }
  section("checks");
  for (const JsonValue& c : Arr(report, "checks")) {
    std::string result = Shown(c, "result");
    for (char& ch : result) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    out += "  [" + result + "] " + Shown(c, "id") + ": " + Shown(c, "detail");
    if (c.find("index")) out += " (index " + Shown(c, "index") + ")";
    if (c.find("expected"))
      out += "\n         expected " + Shown(c, "expected") + ", calculated " + Shown(c, "actual");
    out += "\n";
  }
  if (const JsonValue* log = report.find("log"); log && log->is_object()) {
    section("log");
    for (const char* k : {"origin", "treeSize", "rootHash", "verifierKey"}) {
      if (log->find(k)) out += std::string("  ") + k + ": " + Shown(*log, k) + "\n";
    }
  }
  return out;
}

}  // namespace pedigree::reports
