// The trial report over a ledger built through a SupplyNode: a clean trial is VERIFIED with its
// whole lock history, outcome switching and a changed candidate dataset are SUSPECT naming the
// outcomes, keys and columns, and an edit to a trial event in the SQLite file is FAILED at its
// index.
#include "pedigree/reports/trial_report.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/base/time.h"
#include "pedigree/scanner/trial_data.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonArray;
using pedigree::JsonValue;
using pedigree::reports::testing::Strings;
using pedigree::reports::testing::TamperSql;

namespace {

constexpr const char* kTrial = "T1";

// Adverse events of three subjects; the second and third later get corrected.
constexpr std::string_view kAe1 =
    "STUDYID,USUBJID,AESEQ,AETERM,AESEV\n"
    "T1,T1-001,1,Headache,MILD\n"
    "T1,T1-001,2,Nausea,MILD\n"
    "T1,T1-002,1,Rash,MODERATE\n";
// AESEQ 2 of T1-001 corrected during the soft lock.
constexpr std::string_view kAe2 =
    "STUDYID,USUBJID,AESEQ,AETERM,AESEV\n"
    "T1,T1-001,1,Headache,MILD\n"
    "T1,T1-001,2,Nausea,MODERATE\n"
    "T1,T1-002,1,Rash,MODERATE\n";
// T1-002's rash corrected after the unlock.
constexpr std::string_view kAe3 =
    "STUDYID,USUBJID,AESEQ,AETERM,AESEV\n"
    "T1,T1-001,1,Headache,MILD\n"
    "T1,T1-001,2,Nausea,MODERATE\n"
    "T1,T1-002,1,Rash,SEVERE\n";

scanner::Dataset Parse(std::string_view csv) {
  scanner::TrialParseOptions options;
  options.domain = "AE";
  auto ds = scanner::ParseCsv(csv, options);
  BOOST_REQUIRE_MESSAGE(ds.has_value(), pedigree::testing::Why(ds));
  return std::move(*ds);
}

provenance::Salt SaltOf(uint8_t first) {
  provenance::Salt s;
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(first + i);
  return s;
}

// Salts per source row: rows keep their salt until they are corrected.
provenance::DatasetSeal SealOf(std::string_view csv, std::initializer_list<uint8_t> salts) {
  std::vector<provenance::Salt> s;
  for (uint8_t f : salts) s.push_back(SaltOf(f));
  auto seal = provenance::SealDataset(Parse(csv), s);
  BOOST_REQUIRE_MESSAGE(seal.has_value(), pedigree::testing::Why(seal));
  return std::move(*seal);
}

std::string LeafOf(const provenance::DatasetSeal& seal, const std::string& key) {
  for (const provenance::SealedRecord& r : seal.records) {
    if (r.key == key) return ToHex(r.leaf);
  }
  BOOST_FAIL("no record " + key);
  return "";
}

const std::string kKey1 = "T1|T1-001|1";
const std::string kKey2 = "T1|T1-001|2";
const std::string kKey3 = "T1|T1-002|1";

JsonValue Signature(const std::string& name, const std::string& meaning) {
  return JsonValue::Object().set("name", name).set("meaning", meaning);
}

// Sponsor "sp" runs trial T1 at site "s1": register, protocol, enrol, submit, soft lock,
// correction, hard lock, seal, unlock, correction, relock, seal again, redaction.
class TrialScenario {
 public:
  TrialScenario() {
    node_ = services::SupplyNode::Create(dir(), "example.org/trial-report", authority_.public_key())
                .value();
    node_->SetClock([this] { return now_; });
    Register("sp", "sponsor");
    Register("s1", "site");
  }

  std::string dir() const { return tmp_ / "ledger"; }
  services::SupplyNode& node() { return *node_; }
  int64_t now() const { return now_; }

  void Register(const std::string& id, const std::string& role) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id + " Ltd", {role}, {}, {}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  uint64_t Do(const std::string& org, const std::string& kind, JsonValue p,
              const std::string& signer = "Dr Ada Example",
              const std::string& meaning = "authorship") {
    now_ += 60;
    p.set("kind", kind).set("trialId", kTrial);
    if (!p.find("signature")) p.set("signature", Signature(signer, meaning));
    auto index = node_->SubmitAs(org, std::move(p));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    return *index;
  }

  uint64_t Lock(const std::string& action, const std::string& reason = "",
                const std::string& approver = "") {
    auto p = JsonValue::Object().set("domain", "AE").set("action", action);
    if (!reason.empty()) p.set("reason", reason);
    if (!approver.empty()) p.set("approver", approver);
    return Do("sp", "trial.lock", std::move(p), "Dr Ada Example", "approval");
  }

  uint64_t Seal(const provenance::SealSummary& s) {
    return Do("sp", "trial.seal",
              JsonValue::Object()
                  .set("domain", "AE")
                  .set("root", ToHex(s.root))
                  .set("recordCount", s.record_count)
                  .set("schemaHash", s.schema_hash)
                  .set("algorithm", s.algorithm),
              "Dr Ada Example", "responsibility");
  }

  uint64_t Correct(const std::string& leaf, const std::string& replaces,
                   const std::string& reason) {
    auto records = JsonValue::Array();
    records.push_back(JsonValue::Object().set("leaf", leaf).set("replaces", replaces));
    return Do("s1", "trial.submit",
              JsonValue::Object().set("domain", "AE").set("records", records).set("reason", reason),
              "Dr Site Investigator");
  }

  void Run() {
    auto arms = JsonValue::Array();
    arms.push_back(JsonValue::Object().set("code", "A").set("name", "Examplamab 10 mg"));
    arms.push_back(JsonValue::Object().set("code", "B").set("name", "Placebo"));
    register_ = Do("sp", "trial.register",
                   JsonValue::Object()
                       .set("registryId", "2026-500123-45-00")
                       .set("title", "A trial of examplamab")
                       .set("sites", Strings({"s1"}))
                       .set("arms", arms),
                   "Dr Ada Example", "responsibility");
    if (early_enrolment_) {
      now_ += 60;
      auto refused = node_->SubmitAs(
          "s1", JsonValue::Object()
                    .set("kind", "trial.enrol")
                    .set("trialId", kTrial)
                    .set("signature", Signature("Dr Site Investigator", "authorship"))
                    .set("subjectRef", ToHex(Sha256("subject 0"))));
      BOOST_REQUIRE(!refused.has_value());
      BOOST_TEST(refused.error().code() == "alert.enrolment_before_protocol");
    }
    protocol_ =
        Do("sp", "trial.protocol",
           JsonValue::Object()
               .set("protocolHash", ToHex(Sha256("protocol v1")))
               .set("version", "1.0")
               .set("outcomes", JsonValue::Object()
                                    .set("primary", Strings({"HbA1c change at week 26"}))
                                    .set("secondary", Strings({"Weight change at week 26"}))),
           "Dr Ada Example", "approval");
    enrol_ = Do("s1", "trial.enrol",
                JsonValue::Object().set("subjectRef", ToHex(Sha256("subject 1"))).set("arm", "A"),
                "Dr Site Investigator");
    auto records = JsonValue::Array();
    for (const provenance::SealedRecord& r : first_.records) {
      records.push_back(JsonValue::Object().set("leaf", ToHex(r.leaf)));
    }
    submit_ =
        Do("s1", "trial.submit", JsonValue::Object().set("domain", "AE").set("records", records),
           "Dr Site Investigator");
    soft_ = Lock("soft_lock");
    correction_ =
        Correct(LeafOf(seal1_, kKey2), LeafOf(first_, kKey2), "query AE-17: severity per source");
    Lock("hard_lock");
    seal1_index_ = Seal(seal1_.summary);
    unlock_ = Lock("unlock", "late source data verification finding", "Dr Bea Reviewer");
    Correct(LeafOf(seal2_, kKey3), LeafOf(seal1_, kKey3), "SDV finding: severity");
    Lock("hard_lock");
    seal2_index_ = Seal(seal2_.summary);
    redact_ = Do("sp", "trial.redact",
                 JsonValue::Object()
                     .set("domain", "AE")
                     .set("leaf", LeafOf(first_, kKey1))
                     .set("reason", "subject initials entered in AETERM by mistake"),
                 "Dr Ada Example", "approval");
    BOOST_REQUIRE(node_->ledger().SignCheckpoint().has_value());
  }

  // Signs a final checkpoint and closes the node, so that the file can be edited.
  void Close() {
    BOOST_REQUIRE(node_->ledger().SignCheckpoint().has_value());
    node_.reset();
  }

  const provenance::DatasetSeal first_ = SealOf(kAe1, {0x00, 0x10, 0x20});
  const provenance::DatasetSeal seal1_ = SealOf(kAe2, {0x00, 0x30, 0x20});
  const provenance::DatasetSeal seal2_ = SealOf(kAe3, {0x00, 0x30, 0x40});
  bool early_enrolment_ = false;
  uint64_t register_ = 0, protocol_ = 0, enrol_ = 0, submit_ = 0, soft_ = 0, correction_ = 0,
           seal1_index_ = 0, unlock_ = 0, seal2_index_ = 0, redact_ = 0;

 private:
  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = 1'795'300'000;
  std::unique_ptr<services::SupplyNode> node_;
};

JsonValue ReportOf(log::Ledger& ledger, const TrialReportInputs& inputs = {}) {
  auto r = TrialReport(ledger, kTrial, inputs);
  BOOST_REQUIRE_MESSAGE(r.has_value(), pedigree::testing::Why(r));
  return std::move(*r);
}

std::string Verdict(const JsonValue& r) { return r.find("verdict")->as_string(); }

const JsonValue* FindCode(const JsonValue& r, const char* array, const std::string& code) {
  for (const JsonValue& v : r.find(array)->as_array()) {
    if (v.find("code")->as_string() == code) return &v;
  }
  return nullptr;
}

std::string CheckResult(const JsonValue& r, const std::string& id) {
  for (const JsonValue& c : r.find("checks")->as_array()) {
    if (c.find("id")->as_string() == id) return c.find("result")->as_string();
  }
  return "absent";
}

const JsonValue& Domain(const JsonValue& r) { return r.find("domains")->as_array().front(); }

// Every entry check of every event in `events` passed.
void ExpectAllPass(const JsonArray& events) {
  for (const JsonValue& e : events) {
    BOOST_TEST_INFO("entry " << e.find("index")->as_int());
    BOOST_REQUIRE(e.find("checks"));
    BOOST_TEST(e.find("checks")->size() == 3u);
    for (const JsonValue& c : e.find("checks")->as_array()) {
      BOOST_TEST(c.find("result")->as_string() == "pass");
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trial_report)

BOOST_AUTO_TEST_CASE(full_trial_history_is_verified_with_every_event_and_signer) {
  TrialScenario s;
  s.Run();
  JsonValue r = ReportOf(s.node().ledger(), {.generated_at = s.now()});
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(r.find("report")->as_string() == "trial");
  BOOST_TEST(r.find("failures")->size() == 0u);
  BOOST_TEST(r.find("violations")->size() == 0u);
  BOOST_TEST(CheckResult(r, "protocol.before_first_enrolment") == "pass");
  BOOST_TEST(CheckResult(r, "checkpoint.signature") == "pass");

  const JsonValue& subject = *r.find("subject");
  BOOST_TEST(subject.find("registryId")->as_string() == "2026-500123-45-00");
  BOOST_TEST(subject.find("sponsor")->as_string() == "sp");
  BOOST_TEST(subject.find("arms")->size() == 2u);

  const JsonValue& protocol = *r.find("protocol");
  const JsonValue& seal = *protocol.find("seal");
  BOOST_TEST(seal.find("index")->as_int() == static_cast<int64_t>(s.protocol_));
  BOOST_TEST(seal.find("signature")->find("meaning")->as_string() == "approval");
  BOOST_TEST(seal.find("outcomes")->find("primary")->as_array()[0].as_string() ==
             "HbA1c change at week 26");
  BOOST_TEST(protocol.find("sealedBeforeFirstEnrolment")->as_bool());
  BOOST_TEST(protocol.find("enrolments")->find("count")->as_int() == 1);

  const JsonValue& d = Domain(r);
  BOOST_TEST(d.find("domain")->as_string() == "AE");
  BOOST_TEST(d.find("lockState")->as_string() == "hard_lock");
  BOOST_TEST(d.find("currentLeaves")->as_int() == 3);
  BOOST_TEST(d.find("redactedLeaves")->as_int() == 1);
  const JsonArray& locks = d.find("locks")->as_array();
  BOOST_REQUIRE(locks.size() == 4u);
  std::vector<std::string> actions;
  for (const JsonValue& l : locks) actions.push_back(l.find("action")->as_string());
  BOOST_TEST(
      (actions == std::vector<std::string>{"soft_lock", "hard_lock", "unlock", "hard_lock"}));
  const JsonValue& unlock = locks[2];
  BOOST_TEST(unlock.find("index")->as_int() == static_cast<int64_t>(s.unlock_));
  BOOST_TEST(unlock.find("reason")->as_string() == "late source data verification finding");
  BOOST_TEST(unlock.find("approver")->as_string() == "Dr Bea Reviewer");
  BOOST_TEST(unlock.find("signature")->find("name")->as_string() == "Dr Ada Example");
  BOOST_TEST(
      unlock.find("manifestation")->as_string().find("signed by Dr Ada Example (approval)") !=
      std::string::npos);
  const JsonArray& seals = d.find("seals")->as_array();
  BOOST_REQUIRE(seals.size() == 2u);
  BOOST_TEST(!seals[0].find("current")->as_bool());
  BOOST_TEST(seals[1].find("current")->as_bool());
  BOOST_TEST(seals[1].find("root")->as_string() == ToHex(s.seal2_.summary.root));
  BOOST_TEST(seals[1].find("recordCount")->as_int() == 3);
  const JsonArray& redactions = d.find("redactions")->as_array();
  BOOST_REQUIRE(redactions.size() == 1u);
  BOOST_TEST(redactions[0].find("reason")->as_string() ==
             "subject initials entered in AETERM by mistake");
  const JsonArray& submissions = d.find("submissions")->as_array();
  BOOST_REQUIRE(submissions.size() == 3u);
  BOOST_TEST(submissions[1].find("reason")->as_string() == "query AE-17: severity per source");
  BOOST_TEST(submissions[1].find("replacements")->as_int() == 1);
  BOOST_TEST(d.find("submittedRecords")->as_int() == 5);

  ExpectAllPass(locks);
  ExpectAllPass(seals);
  ExpectAllPass(redactions);
  ExpectAllPass(submissions);
  ExpectAllPass({*r.find("registration"), seal, *protocol.find("enrolments")->find("first")});
  BOOST_TEST(r.find("alerts")->size() == 0u);
  BOOST_TEST(r.find("registry")->size() == 2u);  // org.register of sp and s1

  // Each event shows the time its signer claims and the log's sequencing time.
  BOOST_TEST(!seal.find("time")->as_string().empty());
  const std::string logged = seal.find("sequencedTime")->as_string();
  BOOST_TEST(ParseUtcTime(logged).has_value());
  BOOST_TEST(ParseUtcTime(logged).value() <= s.now());

  std::string text = RenderTrialText(r);
  BOOST_TEST(text.rfind("VERIFIED: ", 0) == 0u);
  BOOST_TEST(text.find("(logged " + logged + ")") != std::string::npos);
  BOOST_TEST(text.find("unlock") != std::string::npos);
  BOOST_TEST(text.find("approver: Dr Bea Reviewer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reported_outcomes_as_sealed_are_verified_despite_whitespace) {
  TrialScenario s;
  s.Run();
  ReportedOutcomes reported{{"  HbA1c change\tat week 26 "}, {"Weight change at week 26"}};
  JsonValue r = ReportOf(s.node().ledger(), {.reported_outcomes = reported});
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(CheckResult(r, "outcomes.match") == "pass");
  BOOST_TEST(!r.find("outcomeCheck")->find("switched")->as_bool());
}

BOOST_AUTO_TEST_CASE(outcome_switching_is_suspect_naming_the_outcomes) {
  TrialScenario s;
  s.Run();
  ReportedOutcomes reported{{"Weight change at week 26", "Quality of life at week 52"}, {}};
  JsonValue r = ReportOf(s.node().ledger(), {.reported_outcomes = reported});
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(CheckResult(r, "outcomes.match") == "fail");
  const JsonValue* v = FindCode(r, "violations", "outcomes.switched");
  BOOST_REQUIRE(v);
  const std::string& message = v->find("message")->as_string();
  BOOST_TEST(message.find("\"Quality of life at week 52\"") != std::string::npos);
  BOOST_TEST(message.find("sealed but not reported: \"HbA1c change at week 26\"") !=
             std::string::npos);
  BOOST_TEST(message.find("moved between primary and secondary: \"Weight change at week 26\"") !=
             std::string::npos);
  BOOST_TEST(v->find("index")->as_int() == static_cast<int64_t>(s.protocol_));
  const JsonValue& oc = *r.find("outcomeCheck");
  BOOST_TEST(oc.find("reportedNotSealed")->size() == 1u);
  BOOST_TEST(oc.find("sealedNotReported")->size() == 1u);
  BOOST_TEST(oc.find("moved")->size() == 1u);
}

BOOST_AUTO_TEST_CASE(enrolment_attempt_before_the_protocol_is_suspect_with_its_alert) {
  TrialScenario s;
  s.early_enrolment_ = true;
  s.Run();
  JsonValue r = ReportOf(s.node().ledger());
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "SUSPECT");
  const JsonValue* v = FindCode(r, "violations", "alert.enrolment_before_protocol");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->find("org")->as_string() == "s1");
  const JsonArray& alerts = r.find("alerts")->as_array();
  BOOST_REQUIRE(alerts.size() == 1u);
  BOOST_TEST(alerts[0].find("refusedKind")->as_string() == "trial.enrol");
  BOOST_TEST(alerts[0].find("index")->as_int() < static_cast<int64_t>(s.protocol_));
  for (const JsonValue& c : alerts[0].find("checks")->as_array()) {
    BOOST_TEST(c.find("result")->as_string() == "pass");
  }
  // The refused enrolment is not an enrolment: the protocol still precedes the first one.
  BOOST_TEST(CheckResult(r, "protocol.before_first_enrolment") == "pass");
}

BOOST_AUTO_TEST_CASE(candidate_equal_to_the_latest_seal_is_verified) {
  TrialScenario s;
  s.Run();
  auto diff = provenance::CompareDataset(s.seal2_, Parse(kAe3));
  BOOST_REQUIRE(diff.has_value());
  JsonValue r =
      ReportOf(s.node().ledger(), {.comparisons = {{"AE", *diff, s.seal2_.summary, "ae.csv"}}});
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(CheckResult(r, "seal.matches_ledger") == "pass");
  BOOST_TEST(CheckResult(r, "dataset.unchanged") == "pass");
  const JsonValue& c = Domain(r).find("comparisons")->as_array().front();
  BOOST_TEST(c.find("result")->find("identical")->as_bool());
}

BOOST_AUTO_TEST_CASE(candidate_with_one_changed_cell_is_suspect_naming_key_and_column) {
  TrialScenario s;
  s.Run();
  std::string changed(kAe3);
  changed.replace(changed.find("Headache"), 8, "Migraine");
  auto diff = provenance::CompareDataset(s.seal2_, Parse(changed));
  BOOST_REQUIRE(diff.has_value());
  JsonValue r =
      ReportOf(s.node().ledger(), {.comparisons = {{"AE", *diff, s.seal2_.summary, "ae.csv"}}});
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(r.find("failures")->size() == 0u);
  BOOST_TEST(CheckResult(r, "seal.matches_ledger") == "pass");
  BOOST_TEST(CheckResult(r, "dataset.unchanged") == "fail");
  const JsonValue* v = FindCode(r, "violations", "dataset.changed");
  BOOST_REQUIRE(v);
  const std::string& message = v->find("message")->as_string();
  BOOST_TEST(message.find("1 changed, 0 added, 0 deleted") != std::string::npos);
  BOOST_TEST(message.find("T1|T1-001|1 column AETERM: sealed 'Headache', candidate 'Migraine'") !=
             std::string::npos);
  const JsonValue& result = *Domain(r).find("comparisons")->as_array().front().find("result");
  const JsonValue& record = result.find("changed")->as_array().front();
  BOOST_TEST(record.find("key")->as_string() == "T1|T1-001|1");
  const JsonValue& cell = record.find("cells")->as_array().front();
  BOOST_TEST(cell.find("column")->as_string() == "AETERM");
  BOOST_TEST(cell.find("sealed")->as_string() == "Headache");
  BOOST_TEST(cell.find("candidate")->as_string() == "Migraine");
  BOOST_TEST(RenderTrialText(r).find("AETERM: 'Headache' -> 'Migraine'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(comparison_against_a_seal_the_ledger_does_not_hold_fails_the_check) {
  TrialScenario s;
  s.Run();
  provenance::SealSummary forged = s.seal2_.summary;
  forged.root[0] ^= 1;
  auto diff = provenance::CompareDataset(s.seal2_, Parse(kAe3));
  BOOST_REQUIRE(diff.has_value());
  JsonValue r = ReportOf(s.node().ledger(), {.comparisons = {{"AE", *diff, forged, "ae.csv"}}});
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(CheckResult(r, "seal.matches_ledger") == "fail");
  const JsonValue* v = FindCode(r, "violations", "seal.not_on_ledger");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->find("index")->as_int() == static_cast<int64_t>(s.seal2_index_));
  BOOST_TEST(v->find("message")->as_string().find("root") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(comparison_against_a_superseded_seal_names_both_seals) {
  TrialScenario s;
  s.Run();
  auto diff = provenance::CompareDataset(s.seal1_, Parse(kAe2));
  BOOST_REQUIRE(diff.has_value());
  JsonValue r =
      ReportOf(s.node().ledger(), {.comparisons = {{"AE", *diff, s.seal1_.summary, "old.csv"}}});
  BOOST_TEST(Verdict(r) == "SUSPECT");
  const JsonValue* v = FindCode(r, "violations", "seal.not_latest");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->find("message")->as_string().find("entry " + std::to_string(s.seal1_index_)) !=
             std::string::npos);
  BOOST_TEST(CheckResult(r, "dataset.unchanged") == "pass");
}

BOOST_AUTO_TEST_CASE(edited_unlock_reason_in_the_file_fails_at_its_index) {
  TrialScenario s;
  s.Run();
  uint64_t unlock = s.unlock_;
  s.Close();
  TamperSql(s.dir(),
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'late source data', "
            "'routine') AS BLOB) WHERE idx = " +
                std::to_string(unlock));
  auto l = log::Ledger::Open(s.dir());
  BOOST_REQUIRE_MESSAGE(l.has_value(), pedigree::testing::Why(l));
  JsonValue r = ReportOf(**l);
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "FAILED");
  const JsonValue& first = r.find("failures")->as_array().front();
  BOOST_TEST(first.find("index")->as_int() == static_cast<int64_t>(unlock));
  BOOST_TEST(FindCode(r, "failures", "entry.bad_signature"));
  BOOST_TEST(FindCode(r, "failures", "merkle.root_mismatch"));
  BOOST_TEST(r.find("summary")->as_string().find("at entry " + std::to_string(unlock)) !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(trial_table_pointing_at_another_entry_fails_as_entry_mismatch) {
  TrialScenario s;
  s.Run();
  uint64_t unlock = s.unlock_, submit = s.submit_;
  s.Close();
  // The derived lock history edited to present a submission as the unlock.
  TamperSql(s.dir(), "UPDATE trial_locks SET idx = " + std::to_string(submit) +
                         " WHERE idx = " + std::to_string(unlock));
  auto l = log::Ledger::Open(s.dir());
  BOOST_REQUIRE_MESSAGE(l.has_value(), pedigree::testing::Why(l));
  JsonValue r = ReportOf(**l);
  BOOST_TEST(Verdict(r) == "FAILED");
  const JsonValue* f = FindCode(r, "failures", "trial.entry_mismatch");
  BOOST_REQUIRE(f);
  BOOST_TEST(f->find("index")->as_int() == static_cast<int64_t>(submit));
  BOOST_TEST(f->find("actual")->as_string() == "trial.submit of T1/AE");
}

// The consent section recounts from the verified consent payloads, not the derived
// tables: a consent row widened in the database lets a declined sub-study's record in, and
// the report names that record.
BOOST_AUTO_TEST_CASE(record_let_in_by_an_edited_consent_row_is_suspect_in_the_consent_section) {
  TrialScenario s;
  const std::string subject = ToHex(Sha256("subject 1"));
  s.Do("sp", "trial.register",
       JsonValue::Object()
           .set("registryId", "2026-500123-45-00")
           .set("title", "A trial of examplamab")
           .set("sites", Strings({"s1"}))
           .set("arms", JsonValue::Array().push_back(
                            JsonValue::Object().set("code", "A").set("name", "Examplamab"))),
       "Dr Ada Example", "responsibility");
  s.Do("sp", "trial.protocol",
       JsonValue::Object()
           .set("protocolHash", ToHex(Sha256("protocol v1")))
           .set("version", "1.0")
           .set("outcomes", JsonValue::Object()
                                .set("primary", Strings({"HbA1c change at week 26"}))
                                .set("secondary", Strings({}))),
       "Dr Ada Example", "approval");
  s.Do("s1", "trial.enrol", JsonValue::Object().set("subjectRef", subject), "Dr Site");
  s.Do(
      "sp", "trial.consent_form",
      JsonValue::Object()
          .set("documentHash", ToHex(Sha256("ICF 1.0")))
          .set("version", "1.0")
          .set("country", "DE")
          .set("language", "de")
          .set("ethicsRef", "EK-117")
          .set("approved", "2026-10-01")
          .set("effective", "2026-10-15")
          .set(
              "scopes",
              JsonValue::Object().set("core", Strings({"AE"})).set("substudy_pk", Strings({"PK"}))),
      "Dr Ada Example", "approval");
  s.Do("s1", "trial.consent",
       JsonValue::Object()
           .set("subjectRef", subject)
           .set("icfVersion", "1.0")
           .set("consentTime", "2026-10-20T09:00:00Z")
           .set("scopesGranted", Strings({"core"}))
           .set("scopesDeclined", Strings({"substudy_pk"})),
       "Dr Site");
  auto record = [&](const std::string& domain, const std::string& leaf) {
    auto records = JsonValue::Array();
    records.push_back(
        JsonValue::Object().set("leaf", ToHex(Sha256(leaf))).set("subjectRef", subject));
    return JsonValue::Object().set("domain", domain).set("records", records);
  };
  s.Do("s1", "trial.submit", record("AE", "ae 1"), "Dr Site");
  JsonValue clean = ReportOf(s.node().ledger());
  BOOST_TEST(Verdict(clean) == "VERIFIED");
  BOOST_TEST(CheckResult(clean, "consent.records_consented") == "pass");
  BOOST_TEST(clean.find("consent")->find("subjectsConsented")->as_int() == 1);

  TamperSql(s.dir(), "UPDATE trial_consents SET granted = '[\"core\",\"substudy_pk\"]'");
  uint64_t pk = s.Do("s1", "trial.submit", record("PK", "pk 1"), "Dr Site");
  JsonValue r = ReportOf(s.node().ledger());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(CheckResult(r, "consent.records_consented") == "fail");
  BOOST_TEST(r.find("consent")->find("recordsWithoutConsent")->as_int() == 1);
  const JsonValue* v = FindCode(r, "violations", "consent.record_without_consent");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->find("index")->as_int() == static_cast<int64_t>(pk));
}

// The access section recounts from the verified grant, revocation and access payloads: a
// grant row whose grantee was edited in the database lets another organisation's read be
// recorded, and the report names it as an access outside its grant.
BOOST_AUTO_TEST_CASE(access_let_in_by_an_edited_grant_row_is_suspect) {
  TrialScenario s;
  s.Register("mon", "site");
  s.Do("sp", "trial.register",
       JsonValue::Object()
           .set("registryId", "2026-500123-45-00")
           .set("title", "A trial of examplamab")
           .set("sites", Strings({"s1"}))
           .set("arms", JsonValue::Array().push_back(
                            JsonValue::Object().set("code", "A").set("name", "Examplamab"))),
       "Dr Ada Example", "responsibility");
  auto records = JsonValue::Array();
  records.push_back(JsonValue::Object().set("leaf", ToHex(Sha256("ae 1"))));
  s.Do("s1", "trial.submit", JsonValue::Object().set("domain", "AE").set("records", records),
       "Dr Site");
  s.Do("sp", "trial.grant",
       JsonValue::Object()
           .set("grantId", "MON-1")
           .set("grantee", "mon")
           .set("purpose", "monitor")
           .set("domains", Strings({"AE"}))
           .set("start", "2020-01-01T00:00:00Z")
           .set("expiry", "2040-01-01T00:00:00Z"),
       "Dr Ada Example", "approval");
  auto access = JsonValue::Object()
                    .set("reader", "mon")
                    .set("grantId", "MON-1")
                    .set("purpose", "monitor")
                    .set("domain", "AE")
                    .set("outcome", "granted")
                    .set("leaves", Strings({ToHex(Sha256("ae 1"))}));
  s.Do("sp", "trial.access", access, "pedigree sponsor store (access record)", "responsibility");
  s.Do("sp", "trial.access",
       JsonValue::Object()
           .set("reader", "s1")
           .set("domain", "AE")
           .set("outcome", "refused")
           .set("refusal", "trial.no_grant")
           .set("leaves", JsonValue::Array()),
       "pedigree sponsor store (access record)", "responsibility");
  JsonValue clean = ReportOf(s.node().ledger());
  BOOST_TEST(Verdict(clean) == "VERIFIED");
  BOOST_TEST(CheckResult(clean, "consent.accesses_within_grants") == "pass");
  const JsonValue& section = *clean.find("consent")->find("access");
  BOOST_TEST(section.find("grants")->size() == 1u);
  BOOST_TEST(section.find("accessesGranted")->as_int() == 1);
  BOOST_TEST(section.find("accessesRefused")->as_int() == 1);
  BOOST_TEST(section.find("accessesOutsideGrants")->as_int() == 0);

  TamperSql(s.dir(), "UPDATE trial_grants SET grantee = 's1'");
  access.set("reader", "s1");
  uint64_t late = s.Do("sp", "trial.access", access, "pedigree sponsor store (access record)",
                       "responsibility");
  JsonValue r = ReportOf(s.node().ledger());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(CheckResult(r, "consent.accesses_within_grants") == "fail");
  BOOST_TEST(r.find("consent")->find("access")->find("accessesOutsideGrants")->as_int() == 1);
  const JsonValue* v = FindCode(r, "violations", "consent.access_outside_grant");
  BOOST_REQUIRE(v);
  BOOST_TEST(v->find("index")->as_int() == static_cast<int64_t>(late));
}

BOOST_AUTO_TEST_CASE(unknown_trial_is_no_such_trial_and_unknown_domain_is_refused) {
  TrialScenario s;
  s.Run();
  auto r = TrialReport(s.node().ledger(), "T9", {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "report.no_such_trial");
  BOOST_TEST(r.error().message().find("'T9'") != std::string::npos);
  auto diff = provenance::CompareDataset(s.seal2_, Parse(kAe3)).value();
  auto d = TrialReport(s.node().ledger(), kTrial,
                       {.comparisons = {{"DM", diff, s.seal2_.summary, "dm.csv"}}});
  BOOST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "report.unknown_domain");
}

BOOST_AUTO_TEST_SUITE_END()
