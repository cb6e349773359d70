// RenderHtml over hand-written report JSON that follows REPORT_SPEC: the verdict
// banner, one row per event and per check, escaping of every report string, and no
// reference to an outside resource.
#include "pedigree/reports/html.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

using pedigree::JsonValue;
using pedigree::reports::EscapeHtml;
using pedigree::reports::RenderHtml;

namespace {

pedigree::JsonValue SamplePackReport() {
  std::ifstream in(std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/reports/pack-report.json");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = pedigree::ParseJson(text.str());
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), "sample_data/reports/pack-report.json must parse");
  return *parsed;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// Nothing on the page may make a browser fetch: no src/href attributes, no CSS url() or
// @import, no <link>, <script>, <iframe>, <object> or <img>.
void RequireSelfContained(const std::string& html) {
  for (const char* forbidden : {"src=", "href=", "url(", "@import", "<link", "<script", "<iframe",
                                "<object", "<img", "<embed"}) {
    BOOST_TEST_INFO("forbidden: " << forbidden);
    BOOST_TEST(html.find(forbidden) == std::string::npos);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(html_report)

BOOST_AUTO_TEST_CASE(escape_replaces_the_five_html_specials) {
  const std::pair<const char*, const char*> table[] = {
      {"plain", "plain"},
      {"<script>", "&lt;script&gt;"},
      {"a & b", "a &amp; b"},
      {"\"quoted\"", "&quot;quoted&quot;"},
      {"it's", "it&#39;s"},
      {"Apotheke am Markt \xC3\xBC", "Apotheke am Markt \xC3\xBC"},  // UTF-8 passes through
  };
  for (const auto& [in, out] : table) BOOST_TEST(EscapeHtml(in) == out);
}

BOOST_AUTO_TEST_CASE(pack_report_shows_verdict_banner_events_and_checks) {
  const pedigree::JsonValue report = SamplePackReport();
  const std::string html = RenderHtml(report);
  BOOST_TEST(html.find("<div class=\"banner SUSPECT\"><div class=\"word\">SUSPECT</div>") !=
             std::string::npos);
  BOOST_TEST(Count(html, "<tr class=\"event-row") == report.find("events")->size());
  BOOST_TEST(Count(html, "<tr class=\"check-row\">") == report.find("checks")->size());
  // One timeline node per event.
  BOOST_TEST(Count(html, "<circle ") == report.find("events")->size());
  // The event with an alert is highlighted in the table and in the timeline.
  BOOST_TEST(Count(html, "<tr class=\"event-row alert\">") == 1u);
  BOOST_TEST(html.find(">ALERT</text>") != std::string::npos);
  BOOST_TEST(html.find("<span class=\"badge warn\">warn</span>") != std::string::npos);
  BOOST_TEST(html.find("<span class=\"badge pass\">pass</span>") != std::string::npos);
  BOOST_TEST(html.find("Klinikum Nord Apotheke") != std::string::npos);
  BOOST_TEST(html.find("@media print") != std::string::npos);
  // The pack id is shown as text; it never becomes a link or a fetch.
  BOOST_TEST(html.find("https://id.gs1.org/01/09506002000123/21/7K3QX9T2MB4P") !=
             std::string::npos);
  RequireSelfContained(html);
}

BOOST_AUTO_TEST_CASE(failed_verdict_is_a_failed_banner_with_the_failure_index) {
  auto report = pedigree::JsonValue::Object()
                    .set("format", "pedigree-report/v1")
                    .set("report", "audit")
                    .set("verdict", "FAILED")
                    .set("summary", "entry 17 was changed after it was logged")
                    .set("audit", pedigree::JsonValue::Object()
                                      .set("entriesChecked", 40)
                                      .set("signaturesChecked", 40)
                                      .set("checkpointsChecked", 1)
                                      .set("seconds", "0.01"));
  auto failure = pedigree::JsonValue::Object()
                     .set("code", "audit.leaf_mismatch")
                     .set("message", "stored leaf hash differs")
                     .set("index", 17)
                     .set("expected", "aa")
                     .set("actual", "bb");
  report.set("failures", pedigree::JsonValue::Array().push_back(failure));
  report.set("checks", pedigree::JsonValue::Array());
  const std::string html = RenderHtml(report);
  BOOST_TEST(html.find("<div class=\"banner FAILED\">") != std::string::npos);
  BOOST_TEST(html.find("First divergent index: 17") != std::string::npos);
  BOOST_TEST(html.find("signatures verified") != std::string::npos);
  RequireSelfContained(html);
}

BOOST_AUTO_TEST_CASE(script_and_quotes_in_org_names_come_out_escaped) {
  pedigree::JsonValue report = SamplePackReport();
  const std::string evil = "<script>alert(\"x\")</script>' onmouseover='x";
  for (pedigree::JsonValue& e : report.find("events")->as_array()) {
    e.set("orgName", evil);
    e.set("org", evil);
    e.set("summary", evil);
    for (pedigree::JsonValue& c : e.find("checks")->as_array()) c.set("detail", evil);
  }
  report.find("subject")->set("holder", evil);
  report.set("summary", evil);
  const std::string html = RenderHtml(report);
  BOOST_TEST(html.find("<script") == std::string::npos);
  BOOST_TEST(html.find("' onmouseover='") == std::string::npos);
  BOOST_TEST(html.find("alert(\"x\")") == std::string::npos);
  BOOST_TEST(
      html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(unknown_report_kind_and_members_are_shown_generically) {
  auto report = pedigree::JsonValue::Object()
                    .set("format", "pedigree-report/v1")
                    .set("report", "trial")
                    .set("verdict", "VERIFIED")
                    .set("summary", "protocol sealed before the first enrolment");
  report.set("seals",
             pedigree::JsonValue::Array().push_back(
                 pedigree::JsonValue::Object().set("dataset", "<ADSL>").set("records", 1200)));
  const std::string html = RenderHtml(report);
  BOOST_TEST(html.find("<div class=\"banner VERIFIED\">") != std::string::npos);
  BOOST_TEST(html.find("<h2>Seals</h2>") != std::string::npos);
  BOOST_TEST(html.find("&lt;ADSL&gt;") != std::string::npos);
  BOOST_TEST(html.find(">1200<") != std::string::npos);
  RequireSelfContained(html);
}

// A trial report as TrialReport writes it (nested objects, arrays of signed entries, hashes):
// printed with human labels, every nested value as a table, no JSON text anywhere, each
// hash whole, times unbreakable.
BOOST_AUTO_TEST_CASE(trial_report_has_labels_and_tables_instead_of_json) {
  const std::string root(64, 'a'), leaf = "0f" + std::string(62, 'e');
  auto checks =
      pedigree::JsonValue::Array()
          .push_back(pedigree::JsonValue::Object().set("id", "signature").set("result", "pass"))
          .push_back(pedigree::JsonValue::Object()
                         .set("id", "inclusion")
                         .set("result", "fail")
                         .set("detail", "root differs"));
  auto seal =
      pedigree::JsonValue::Object()
          .set("index", 12)
          .set("kind", "trial.seal")
          .set("time", "2026-11-21T07:49:59Z")
          .set("sequencedTime", "2026-11-21T07:50:01Z")
          .set("org", "sp")
          .set("orgName", "Sponsor")
          .set("key", "78ecd7f4d775597f")
          .set("root", root)
          .set("recordCount", 505)
          .set("signature",
               pedigree::JsonValue::Object().set("name", "Dr Sponsor").set("meaning", "approval"))
          .set("checks", checks);
  auto domain =
      pedigree::JsonValue::Object()
          .set("domain", "DM")
          .set("lockState", "hard_lock")
          .set("currentLeaves", 505)
          .set("seals", pedigree::JsonValue::Array().push_back(seal))
          .set("redactions", pedigree::JsonValue::Array().push_back(pedigree::JsonValue::Object()
                                                                        .set("index", 14)
                                                                        .set("leaf", leaf)
                                                                        .set("reason", "withdrawn")
                                                                        .set("checks", checks)));
  auto report =
      pedigree::JsonValue::Object()
          .set("format", "pedigree-report/v1")
          .set("report", "trial")
          .set("verdict", "FAILED")
          .set("summary", "inclusion of entry 12 fails")
          .set(
              "subject",
              pedigree::JsonValue::Object()
                  .set("trialId", "PDG-CT-2026-01")
                  .set(
                      "arms",
                      pedigree::JsonValue::Array().push_back(
                          pedigree::JsonValue::Object().set("code", "PBO").set("name", "Placebo"))))
          .set("protocol",
               pedigree::JsonValue::Object()
                   .set("sealedBeforeFirstEnrolment", true)
                   .set("seal", pedigree::JsonValue::Object().set(
                                    "outcomes", pedigree::JsonValue::Object().set(
                                                    "primary", pedigree::JsonValue::Strings(
                                                                   {"HbA1c at week 24"})))))
          .set("domains", pedigree::JsonValue::Array().push_back(domain));
  const std::string html = RenderHtml(report);
  BOOST_TEST_INFO(html);
  // No JSON text: no object or array literal, no quoted member name.
  for (const char* json : {"{&quot;", "[&quot;", "&quot;:", "{\"", "[{"}) {
    BOOST_TEST_INFO("JSON text: " << json);
    BOOST_TEST(html.find(json) == std::string::npos);
  }
  // Human labels, not member names.
  for (const char* label :
       {"<h2>Trial</h2>", "<h2>Datasets by domain</h2>", "<th>trial</th>", "<th>lock state</th>",
        "<th>record count</th>", "<th>protocol sealed before the first enrolment</th>",
        "<h4>Seals</h4>", "<h3>Domain DM</h3>", "<th>Merkle root</th>"}) {
    BOOST_TEST_INFO("label: " << label);
    BOOST_TEST(html.find(label) != std::string::npos);
  }
  for (const char* camel : {"lockState", "recordCount", "sealedBeforeFirstEnrolment", "trialId"}) {
    BOOST_TEST_INFO("member name shown: " << camel);
    BOOST_TEST(html.find(camel) == std::string::npos);
  }
  // Every fact is there: hashes whole and breakable, times unbreakable, the failed check.
  BOOST_TEST(html.find("<code class=\"hash\">" + root + "</code>") != std::string::npos);
  BOOST_TEST(html.find("<code class=\"hash\">" + leaf + "</code>") != std::string::npos);
  BOOST_TEST(html.find("<td class=\"time\">2026-11-21T07:49:59Z<br><small>logged "
                       "2026-11-21T07:50:01Z</small>") != std::string::npos);
  BOOST_TEST(Count(html, "<tr class=\"entry-row\">") == 2u);
  BOOST_TEST(html.find(">inclusion fail</span><small>root differs</small>") != std::string::npos);
  BOOST_TEST(html.find("HbA1c at week 24") != std::string::npos);
  BOOST_TEST(html.find("Dr Sponsor") != std::string::npos);
  BOOST_TEST(html.find(">Placebo<") != std::string::npos);
  BOOST_TEST(html.find("@page{size:A4 portrait;margin:15mm}") != std::string::npos);
  RequireSelfContained(html);
}

// Long tokens break where a reader expects: a pack id after a "/", a record key at its "|";
// dates, times and hyphenated ids never; and the text itself is unchanged (escaped whole).
BOOST_AUTO_TEST_CASE(long_tokens_break_only_between_their_parts) {
  const std::string pack = "https://id.gs1.org/01/09506000134352/21/\xC3\x84<b>";
  auto report = pedigree::JsonValue::Object()
                    .set("format", "pedigree-report/v1")
                    .set("report", "batch")
                    .set("verdict", "SUSPECT")
                    .set("summary", "advice DA-10001 of 2026-11-21 names " + pack)
                    .set("subject", pedigree::JsonValue::Object().set("pack", pack));
  report.set("violations",
             pedigree::JsonValue::Array().push_back(
                 pedigree::JsonValue::Object()
                     .set("code", "dataset.changed")
                     .set("message", "first changed record STUDY-01|STUDY-01-701-0001 column AGE")
                     .set("time", "2026-11-21T07:49:59Z")));
  const std::string html = RenderHtml(report);
  const std::string broken =
      "https://<wbr>id.gs1.org/<wbr>01/<wbr>09506000134352/<wbr>21/<wbr>\xC3\x84&lt;b&gt;";
  BOOST_TEST(html.find("<code class=\"token\">" + broken + "</code>") != std::string::npos);
  BOOST_TEST(html.find("names " + broken + "</div>") != std::string::npos);
  BOOST_TEST(html.find("advice <span class=\"id\">DA-10001</span> of <span "
                       "class=\"id\">2026-11-21</span>") != std::string::npos);
  BOOST_TEST(html.find("<span class=\"id\">STUDY-01|</span><wbr><span "
                       "class=\"id\">STUDY-01-701-0001</span>") != std::string::npos);
  BOOST_TEST(html.find("<span class=\"time\">2026-11-21T07:49:59Z</span>") != std::string::npos);
  BOOST_TEST(html.find("<b>") == std::string::npos);
  RequireSelfContained(html);
}

BOOST_AUTO_TEST_SUITE_END()
