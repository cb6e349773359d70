// The consent rules through the real ledger: consent forms, consents, withdrawals and the
// gate every trial.submit record passes once a trial has a consent form. Every refusal is
// a signed command the rules decline inside the commit transaction, so nothing is written.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "pedigree/base/time.h"
#include "pedigree/log/note.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/derived_audit.h"
#include "trial_chain.h"

using namespace pedigree;
using namespace pedigree::provenance;
using namespace pedigree::provenance::testing;

namespace {

using C = TrialChain;

// A log time after TrialChain's clock (2026-11-21T22:26:40Z).
constexpr const char* kLater = "2026-11-22T01:00:00Z";

std::string Subject(const std::string& n) { return HashOf("subject " + n); }

JsonValue Scopes(std::initializer_list<std::pair<std::string, std::vector<std::string>>> scopes) {
  auto o = JsonValue::Object();
  for (const auto& [name, domains] : scopes) {
    auto a = JsonValue::Array();
    for (const auto& d : domains) a.push_back(JsonValue(d));
    o.set(name, a);
  }
  return o;
}

JsonValue DefaultScopes() {
  return Scopes({{"core", {"DM", "AE"}}, {"substudy_pk", {"PK"}}, {"samples", {}}});
}

// Consent form `version` of T1 for DE/de, approved 2026-10-01, effective 2026-10-15.
Result<uint64_t> Form(C& c, const std::string& version, const Fields& extra = {},
                      const TrialOrg* org = nullptr, const std::string& time = C::kTime) {
  Fields f = {{"documentHash", HashOf("ICF " + version)},
              {"version", version},
              {"country", "DE"},
              {"language", "de"},
              {"ethicsRef", "EK-2026-117"},
              {"approved", "2026-10-01"},
              {"effective", "2026-10-15"},
              {"mandatory", JsonValue(false)},
              {"scopes", DefaultScopes()}};
  for (const auto& [k, v] : extra) {
    auto it = std::find_if(f.begin(), f.end(), [&](const auto& kv) { return kv.first == k; });
    if (it != f.end()) {
      it->second = v;
    } else {
      f.emplace_back(k, v);
    }
  }
  return c.Do(org ? *org : c.sponsor_, "trial.consent_form", f, time);
}

Fields ConsentFields(const std::string& subject, const std::string& version = "1.0") {
  return {{"subjectRef", Subject(subject)},
          {"icfVersion", version},
          {"consentTime", "2026-10-20T09:00:00Z"},
          {"scopesGranted", Strings({"core", "samples"})},
          {"scopesDeclined", Strings({"substudy_pk"})}};
}

Result<uint64_t> Consent(C& c, const TrialOrg& site, Fields fields,
                         const std::string& time = C::kTime) {
  return c.Do(site, "trial.consent", fields, time);
}

Fields With(Fields base, const Fields& extra) {
  for (const auto& [k, v] : extra) {
    auto it = std::find_if(base.begin(), base.end(), [&](const auto& kv) { return kv.first == k; });
    if (it != base.end()) {
      it->second = v;
    } else {
      base.emplace_back(k, v);
    }
  }
  return base;
}

// One record of `domain` for `subject` ("" leaves subjectRef out), signed by `site`.
Result<uint64_t> Record(C& c, const TrialOrg& site, const std::string& domain,
                        const std::string& leaf, const std::string& subject,
                        const std::string& time = C::kTime) {
  auto r = JsonValue::Object();
  r.set("leaf", JsonValue(HashOf(leaf)));
  if (!subject.empty()) r.set("subjectRef", JsonValue(Subject(subject)));
  auto records = JsonValue::Array();
  records.push_back(r);
  return c.Do(site, "trial.submit", {{"domain", domain}, {"records", records}}, time);
}

Result<uint64_t> Withdraw(C& c, const TrialOrg& site, const std::string& subject,
                          const std::string& choice = "retain") {
  return c.Do(site, "trial.withdraw",
              {{"subjectRef", Subject(subject)},
               {"withdrawalTime", "2026-11-20T16:00:00Z"},
               {"dataChoice", choice}});
}

// T1 with its protocol; subjects 1 and 2 enrolled by s1, subject 3 by s2.
void Enrolled(C& c) {
  C::Expect(c.Protocol());
  C::Expect(c.Enrol(c.site1_, "1"));
  C::Expect(c.Enrol(c.site1_, "2"));
  C::Expect(c.Enrol(c.site2_, "3"));
}

// As Enrolled, with form 1.0 and subject 1 consented (PK declined).
void Consented(C& c) {
  Enrolled(c);
  C::Expect(Form(c, "1.0"));
  C::Expect(Consent(c, c.site1_, ConsentFields("1")));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(consent_rules)

BOOST_AUTO_TEST_CASE(consent_form_refusals_carry_specific_codes_and_fields) {
  C c;
  C::Expect(c.Protocol());
  struct Case {
    Fields extra;
    const TrialOrg* org;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {{}, &c.site1_, "trial.forbidden_role", "org"},
      {{}, &c.sponsor2_, "trial.not_sponsor", "org"},
      {{{"scopes", Scopes({{"samples", {}}})}}, nullptr, "trial.bad_consent_form", "scopes.core"},
      {{{"scopes", Scopes({{"core", {}}})}}, nullptr, "trial.bad_consent_form", "scopes.core"},
      {{{"scopes", Scopes({{"core", {"DM"}}, {"Sub-Study", {"PK"}}})}},
       nullptr,
       "trial.bad_consent_form",
       "scopes"},
      {{{"scopes", Scopes({{"core", {"dm"}}})}}, nullptr, "trial.bad_domain", "scopes.core"},
      {{{"scopes", Scopes({{"core", {"DM", "DM"}}})}}, nullptr, "trial.malformed", "scopes.core"},
      {{{"effective", "2026-09-30"}}, nullptr, "trial.bad_consent_form", "effective"},
      {{{"approved", "2026-13-01"}}, nullptr, "trial.malformed", "approved"},
      {{{"documentHash", "ABC"}}, nullptr, "trial.malformed", "documentHash"},
      {{{"country", "Germany"}}, nullptr, "trial.malformed", "country"},
      {{{"language", "DE"}}, nullptr, "trial.malformed", "language"},
      {{{"mandatory", "yes"}}, nullptr, "trial.malformed", "mandatory"},
      {{{"ethicsRef", JsonValue()}}, nullptr, "trial.malformed", "ethicsRef"},
      {{{"trialId", "T9"}}, nullptr, "trial.unknown_trial", "trialId"},
  };
  for (const Case& k : cases) {
    auto r = Form(c, "1.0", k.extra, k.org);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  C::Expect(Form(c, "1.0"));
  BOOST_TEST(C::Code(Form(c, "1.0")) == "trial.duplicate_icf_version");
  auto forms = c.view_->ConsentForms("T1").value();
  BOOST_REQUIRE(forms.size() == 1u);
  BOOST_TEST(forms[0].version == "1.0");
  BOOST_TEST(forms[0].effective == "2026-10-15");
  BOOST_TEST(forms[0].scopes_json == R"({"core":["DM","AE"],"samples":[],"substudy_pk":["PK"]})");
}

BOOST_AUTO_TEST_CASE(consent_refusals_carry_specific_codes_and_write_nothing) {
  C c;
  Enrolled(c);
  C::Expect(Form(c, "1.0"));
  struct Case {
    const TrialOrg* site;
    Fields fields;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {&c.sponsor_, ConsentFields("1"), "trial.forbidden_role", "org"},
      {&c.site3_, ConsentFields("1"), "trial.not_site", "org"},
      {&c.site1_, ConsentFields("9"), "trial.unknown_subject", "subjectRef"},
      {&c.site1_, ConsentFields("3"), "trial.subject_not_at_site", "subjectRef"},
      {&c.site1_, ConsentFields("1", "9.9"), "trial.unknown_icf_version", "icfVersion"},
      {&c.site1_, With(ConsentFields("1"), {{"consentTime", "2026-10-14T23:59:59Z"}}),
       "trial.icf_not_effective", "consentTime"},
      {&c.site1_, With(ConsentFields("1"), {{"consentTime", "2026-11-22T00:00:00Z"}}),
       "trial.malformed", "consentTime"},
      {&c.site1_,
       With(ConsentFields("1"), {{"scopesGranted", Strings({"samples"})},
                                 {"scopesDeclined", Strings({"core", "substudy_pk"})}}),
       "trial.core_declined", "scopesGranted"},
      {&c.site1_,
       With(ConsentFields("1"), {{"scopesGranted", Strings({"samples", "substudy_pk"})},
                                 {"scopesDeclined", Strings({})}}),
       "trial.core_declined", "scopesGranted"},
      {&c.site1_,
       With(ConsentFields("1"), {{"scopesGranted", Strings({"core", "samples", "genomics"})}}),
       "trial.unknown_scope", "scopesGranted"},
      {&c.site1_, With(ConsentFields("1"), {{"scopesDeclined", Strings({})}}), "trial.malformed",
       "scopesDeclined"},
      {&c.site1_,
       With(ConsentFields("1"), {{"scopesDeclined", Strings({"substudy_pk", "samples"})}}),
       "trial.malformed", "scopesDeclined"},
      {&c.site1_, With(ConsentFields("1"), {{"witness", ""}}), "trial.malformed", "witness"},
      {&c.site1_, With(ConsentFields("1"), {{"signature", JsonValue()}}), "trial.bad_signature",
       "signature"},
  };
  for (const Case& k : cases) {
    auto r = Consent(c, *k.site, k.fields);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  BOOST_TEST(c.view_->Consents("T1").value().empty());
  C::Expect(Consent(c, c.site1_,
                    With(ConsentFields("1"), {{"witness", "Nurse Ben Example"},
                                              {"representative", "Maria Example (mother)"}})));
  auto consents = c.view_->Consents("T1").value();
  BOOST_REQUIRE(consents.size() == 1u);
  BOOST_TEST(consents[0].subject_ref == Subject("1"));
  BOOST_TEST(consents[0].version == "1.0");
  BOOST_TEST(consents[0].granted == (std::vector<std::string>{"core", "samples"}),
             boost::test_tools::per_element());
  BOOST_TEST(consents[0].declined == (std::vector<std::string>{"substudy_pk"}),
             boost::test_tools::per_element());
  BOOST_TEST(consents[0].site == "s1");
  BOOST_TEST(consents[0].signer_name == "Dr Ada Example");
  BOOST_TEST(consents[0].witness == "Nurse Ben Example");
  BOOST_TEST(consents[0].representative == "Maria Example (mother)");
}

BOOST_AUTO_TEST_CASE(trial_without_consent_forms_keeps_todays_submissions) {
  C c;
  Enrolled(c);
  BOOST_TEST(C::Code(Record(c, c.site1_, "AE", "r1", "")) == "ok");
  BOOST_TEST(C::Code(Record(c, c.site1_, "LB", "r2", "1")) == "ok");
  BOOST_TEST(C::Code(Record(c, c.site1_, "LB", "r3", "9")) == "trial.unknown_subject");
}

BOOST_AUTO_TEST_CASE(submission_refusals_once_the_trial_has_a_consent_form) {
  C c;
  Consented(c);
  struct Case {
    std::string domain;
    std::string subject;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {"AE", "", "trial.no_consent", "records[0].subjectRef"},
      {"AE", "2", "trial.no_consent", "records[0].subjectRef"},
      {"AE", "9", "trial.unknown_subject", "records[0].subjectRef"},
      {"PK", "1", "trial.scope_not_consented", "records[0].subjectRef"},
      {"LB", "1", "trial.scope_not_consented", "records[0].subjectRef"},
      {"AE", "1", "ok", ""},
      {"DM", "1", "ok", ""},
  };
  int n = 0;
  for (const Case& k : cases) {
    auto r = Record(c, c.site1_, k.domain, "leaf " + std::to_string(++n), k.subject);
    BOOST_TEST_CONTEXT(k.domain << " " << k.subject << " " << k.code) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  BOOST_TEST(c.view_->Leaves("T1", "AE").value().size() == 1u);
  BOOST_TEST(c.view_->Leaves("T1", "PK").value().empty());
  // Granting the sub-study in a later consent opens PK.
  C::Expect(Consent(c, c.site1_,
                    With(ConsentFields("1"), {{"scopesGranted", Strings({"core", "substudy_pk"})},
                                              {"scopesDeclined", Strings({"samples"})}})));
  BOOST_TEST(C::Code(Record(c, c.site1_, "PK", "pk 1", "1")) == "ok");
}

BOOST_AUTO_TEST_CASE(a_mandatory_version_needs_reconsent_from_its_effective_date) {
  C c;
  Consented(c);
  C::Expect(Form(
      c, "2.0",
      {{"mandatory", JsonValue(true)}, {"approved", "2026-11-01"}, {"effective", "2026-11-22"}}));
  // Before 2.0's effective date (by the log's time) 1.0 still covers the subject.
  BOOST_TEST(C::Code(Record(c, c.site1_, "AE", "before", "1")) == "ok");
  c.now_ = ParseUtcTime(kLater).value();
  auto r = Record(c, c.site1_, "AE", "after", "1", kLater);
  BOOST_TEST(C::Code(r) == "trial.reconsent_required");
  if (!r) BOOST_TEST(r.error().message().find("'2.0'") != std::string::npos);
  // A non-mandatory version, or one for another country, does not supersede.
  C::Expect(Form(c, "2.1", {{"mandatory", JsonValue(false)}}, nullptr, kLater));
  C::Expect(
      Form(c, "FR-3.0", {{"mandatory", JsonValue(true)}, {"country", "FR"}}, nullptr, kLater));
  C::Expect(Consent(c, c.site1_,
                    With(ConsentFields("1", "2.0"), {{"consentTime", "2026-11-22T00:30:00Z"}}),
                    kLater));
  BOOST_TEST(C::Code(Record(c, c.site1_, "AE", "after", "1", kLater)) == "ok");
}

BOOST_AUTO_TEST_CASE(first_consent_dated_after_the_subjects_first_record_is_refused) {
  C c;
  Enrolled(c);
  // Records named their subject before the trial had a consent form (old behaviour); the
  // log sequenced this one at 2026-11-21T22:26:40Z.
  C::Expect(Record(c, c.site1_, "AE", "early", "1"));
  C::Expect(Form(c, "1.0"));
  c.now_ = ParseUtcTime(kLater).value();
  auto late = Consent(c, c.site1_,
                      With(ConsentFields("1"), {{"consentTime", "2026-11-21T23:00:00Z"}}), kLater);
  BOOST_TEST(C::Code(late) == "trial.consent_after_record");
  if (!late) BOOST_TEST(late.error().field() == "consentTime");
  C::Expect(Consent(c, c.site1_, ConsentFields("1"), kLater));  // 2026-10-20, before the record
  // A re-consent later than the records is what re-consent is.
  C::Expect(Consent(c, c.site1_,
                    With(ConsentFields("1"), {{"consentTime", "2026-11-21T23:30:00Z"}}), kLater));
}

BOOST_AUTO_TEST_CASE(withdrawal_refuses_new_records_and_consents) {
  C c;
  Consented(c);
  C::Expect(Consent(c, c.site2_, ConsentFields("3")));
  BOOST_TEST(C::Code(Withdraw(c, c.site2_, "1")) == "trial.subject_not_at_site");
  BOOST_TEST(C::Code(Withdraw(c, c.sponsor_, "1")) == "trial.forbidden_role");
  BOOST_TEST(C::Code(Withdraw(c, c.site1_, "1", "delete")) == "trial.malformed");
  C::Expect(Record(c, c.site1_, "AE", "kept", "1"));
  C::Expect(Withdraw(c, c.site1_, "1", "redact"));
  BOOST_TEST(C::Code(Withdraw(c, c.site1_, "1")) == "trial.already_withdrawn");
  auto r = Record(c, c.site1_, "AE", "new", "1");
  BOOST_TEST(C::Code(r) == "trial.withdrawn");
  if (!r) BOOST_TEST(r.error().field() == "records[0].subjectRef");
  BOOST_TEST(C::Code(Consent(c, c.site1_, ConsentFields("1"))) == "trial.withdrawn");
  // The sponsor's records name the subject too and are refused alike.
  BOOST_TEST(C::Code(Record(c, c.sponsor_, "AE", "new", "1")) == "trial.withdrawn");
  // Others are unaffected.
  BOOST_TEST(C::Code(Record(c, c.site2_, "AE", "other", "3")) == "ok");
  auto w = c.view_->Withdrawals("T1").value();
  BOOST_REQUIRE(w.size() == 1u);
  BOOST_TEST(w[0].subject_ref == Subject("1"));
  BOOST_TEST(w[0].data_choice == "redact");
  BOOST_TEST(w[0].leaves.size() == 1u);
  BOOST_TEST(w[0].redacted == 0u);
  // The sponsor's redaction of the subject's leaf is what carries the choice out.
  C::Expect(c.Do(c.sponsor_, "trial.redact",
                 {{"domain", "AE"}, {"leaf", HashOf("kept")}, {"reason", "withdrawal"}}));
  w = c.view_->Withdrawals("T1").value();
  BOOST_TEST(w[0].redacted == 1u);
}

BOOST_AUTO_TEST_CASE(consent_tables_equal_a_replay_of_the_log) {
  C c;
  Consented(c);
  C::Expect(Record(c, c.site1_, "AE", "a", "1"));
  C::Expect(Form(c, "2.0", {{"mandatory", JsonValue(true)}}));
  C::Expect(Consent(c, c.site1_, ConsentFields("1", "2.0")));
  C::Expect(Withdraw(c, c.site1_, "1", "redact"));
  BOOST_TEST(C::Code(Record(c, c.site1_, "AE", "b", "1")) == "trial.withdrawn");
  const std::filesystem::path dir = c.tmp_ / "ledger";
  c.view_.reset();
  c.ledger_.reset();
  auto storage = log::OpenLedgerStorage(dir.string()).value();
  std::ifstream in(dir / log::kLogVerifierKeyFile);
  std::string line;
  std::getline(in, line);
  auto vkey = log::NoteVerifier::Parse(line).value();
  auto report = AuditDerivedState(*storage, (dir / log::kLedgerDbFile).string(), vkey.public_key());
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  BOOST_TEST(report->ok(), (report->problem ? report->problem->ToString() : ""));
  for (const char* table :
       {"trial_consent_forms", "trial_consents", "trial_withdrawals", "trial_subject_leaves"}) {
    BOOST_TEST_CONTEXT(table) {
      const auto& t = report->tables_compared;
      BOOST_TEST((std::find(t.begin(), t.end(), table) != t.end()));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
