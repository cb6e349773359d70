// The trial.* rules through the real ledger: each command is a signed entry, the rules
// decide inside the sequencer's transaction, and TrialView reads what they derived.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "trial_chain.h"

using namespace pedigree;
using namespace pedigree::provenance;
using namespace pedigree::provenance::testing;

namespace {

using C = TrialChain;

// Records {leaf seed, replaced seed} submitted to T1/AE by site s1.
void SubmitAll(C& c, std::initializer_list<std::pair<std::string, std::string>> leaves,
               const std::string& reason = "") {
  C::Expect(c.Submit(c.site1_, C::Records(leaves), reason));
}

std::vector<std::string> CurrentLeaves(C& c) {
  std::vector<std::string> out;
  auto leaves = c.view_->Leaves(C::kTrial, "AE").value();
  for (const auto& l : leaves) out.push_back(l.leaf);
  return out;
}

JsonValue Arms(std::initializer_list<std::string> codes) {
  auto arms = JsonValue::Array();
  for (const auto& code : codes) {
    auto arm = JsonValue::Object();
    arm.set("code", JsonValue(code));
    arm.set("name", JsonValue("arm " + code));
    arms.push_back(arm);
  }
  return arms;
}

// A trial with a protocol, data in AE (leaves "r1", "r2") and AE hard-locked.
void LockedDataset(C& c) {
  C::Expect(c.Protocol());
  SubmitAll(c, {{"r1", ""}, {"r2", ""}});
  C::Expect(c.LockDomain("hard_lock"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trial_rules)

BOOST_AUTO_TEST_CASE(registered_trial_is_read_back_with_sites_and_arms) {
  C c;
  auto t = c.view_->Trial("T1").value();
  BOOST_REQUIRE(t.has_value());
  BOOST_TEST(t->registry_id == "2026-500123-45-00");
  BOOST_TEST(t->sponsor == "sp");
  BOOST_TEST(t->title == "A trial of examplamab");
  BOOST_TEST(t->sites == (std::vector<std::string>{"s1", "s2"}), boost::test_tools::per_element());
  BOOST_REQUIRE(t->arms.size() == 2u);
  BOOST_TEST(t->arms[1].code == "B");
  BOOST_TEST(t->arms[1].name == "Placebo");
  BOOST_TEST(!c.view_->Trial("T2").value().has_value());
}

BOOST_AUTO_TEST_CASE(registration_refusals_carry_specific_codes_and_fields) {
  C c(false);
  struct Case {
    const TrialOrg* org;
    Fields extra;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {&c.site1_, {}, "trial.forbidden_role", "org"},
      {&c.manufacturer_, {}, "trial.forbidden_role", "org"},
      {&c.sponsor_, {{"registryId", "2026-400123-45-00"}}, "trial.bad_registry_id", "registryId"},
      {&c.sponsor_, {{"registryId", "NCT1234567"}}, "trial.bad_registry_id", "registryId"},
      {&c.sponsor_, {{"trialId", "T 1"}}, "trial.bad_trial_id", "trialId"},
      {&c.sponsor_, {{"sites", Strings({"s1", "mfg"})}}, "trial.bad_site", "sites"},
      {&c.sponsor_, {{"sites", Strings({"nobody"})}}, "trial.bad_site", "sites"},
      {&c.sponsor_, {{"sites", Strings({"s1", "s1"})}}, "trial.bad_site", "sites"},
      {&c.sponsor_, {{"arms", Arms({"A", "A"})}}, "trial.duplicate_arm", "arms"},
      {&c.sponsor_, {{"arms", Arms({})}}, "trial.malformed", "arms"},
      {&c.sponsor_, {{"title", ""}}, "trial.malformed", "title"},
      {&c.sponsor_,
       {{"signature", Signature("Dr A", "approved")}},
       "trial.bad_signature",
       "signature.meaning"},
  };
  for (const Case& k : cases) {
    auto r = c.RegisterTrial(k.org, k.extra);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  // None of the refusals left a trial behind, so the good registration is the first.
  BOOST_TEST(!c.view_->Trial("T1").value().has_value());
  C::Expect(c.RegisterTrial(nullptr, {{"registryId", "NCT01234567"}}));
  BOOST_TEST(c.view_->Trial("T1").value()->registry_id == "NCT01234567");
  BOOST_TEST(C::Code(c.RegisterTrial()) == "trial.already_registered");
}

BOOST_AUTO_TEST_CASE(protocol_needs_the_sponsor_of_this_trial) {
  C c;
  auto protocol = [&](const TrialOrg& org, const std::string& trial) {
    return c.Do(org, "trial.protocol",
                {{"trialId", trial},
                 {"protocolHash", HashOf("p")},
                 {"version", "1"},
                 {"outcomes", C::Outcomes({"death"}, {})}});
  };
  BOOST_TEST(C::Code(protocol(c.site1_, "T1")) == "trial.forbidden_role");
  BOOST_TEST(C::Code(protocol(c.sponsor2_, "T1")) == "trial.not_sponsor");
  BOOST_TEST(C::Code(protocol(c.sponsor_, "T9")) == "trial.unknown_trial");
  BOOST_TEST(c.view_->Protocols("T1").value().empty());
  C::Expect(protocol(c.sponsor_, "T1"));
}

BOOST_AUTO_TEST_CASE(protocol_outcomes_are_checked) {
  C c;
  std::string long_text(513, 'x');
  struct Case {
    JsonValue outcomes;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {C::Outcomes({"death", "stroke"}, {"death"}), "trial.duplicate_outcome",
       "outcomes.secondary"},
      {C::Outcomes({}, {"death"}), "trial.malformed", "outcomes.primary"},
      {C::Outcomes({long_text}, {}), "trial.malformed", "outcomes.primary"},
      {C::Outcomes({""}, {}), "trial.malformed", "outcomes.primary"},
      {JsonValue("death"), "trial.malformed", "outcomes"},
  };
  for (const Case& k : cases) {
    auto r = c.Do(c.sponsor_, "trial.protocol",
                  {{"protocolHash", HashOf("p")}, {"version", "1"}, {"outcomes", k.outcomes}});
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  auto bad_hash =
      c.Do(c.sponsor_, "trial.protocol",
           {{"protocolHash", "ABC"}, {"version", "1"}, {"outcomes", C::Outcomes({"a"}, {})}});
  BOOST_TEST(C::Code(bad_hash) == "trial.malformed");
  BOOST_TEST(bad_hash.error().field() == "protocolHash");
  std::string at_limit(512, 'y');
  C::Expect(c.Do(c.sponsor_, "trial.protocol",
                 {{"protocolHash", HashOf("p")},
                  {"version", "1"},
                  {"outcomes", C::Outcomes({at_limit}, {})}}));
}

BOOST_AUTO_TEST_CASE(enrolment_before_protocol_is_refused_with_alert_and_writes_nothing) {
  C c;
  uint64_t before = c.ledger_->size();
  auto r = c.Enrol(c.site1_, "001");
  BOOST_TEST(C::Code(r) == "alert.enrolment_before_protocol");
  BOOST_TEST(c.ledger_->size() == before);
  BOOST_TEST(c.view_->Enrolments("T1").value().count == 0);
  C::Expect(c.Protocol());
  C::Expect(c.Enrol(c.site1_, "001"));
}

BOOST_AUTO_TEST_CASE(enrolment_needs_a_site_of_this_trial) {
  C c;
  C::Expect(c.Protocol());
  BOOST_TEST(C::Code(c.Enrol(c.site3_, "001")) == "trial.not_site");
  BOOST_TEST(C::Code(c.Enrol(c.sponsor_, "001")) == "trial.forbidden_role");
  BOOST_TEST(C::Code(c.Do(c.site1_, "trial.enrol",
                          {{"subjectRef", HashOf("subject 001")}, {"arm", "C"}})) ==
             "trial.unknown_arm");
  BOOST_TEST(C::Code(c.Do(c.site1_, "trial.enrol", {{"subjectRef", "USUBJID-001"}})) ==
             "trial.malformed");
  C::Expect(c.Enrol(c.site1_, "001"));
  BOOST_TEST(C::Code(c.Enrol(c.site2_, "001")) == "trial.duplicate_subject");
}

BOOST_AUTO_TEST_CASE(protocol_seal_and_first_enrolment_are_read_back) {
  C c;
  uint64_t sealed = c.Protocol().value();
  uint64_t first =
      c.Do(c.site1_, "trial.enrol", {{"subjectRef", HashOf("subject 1")}}, "2026-11-21T11:00:00Z")
          .value();
  C::Expect(c.Enrol(c.site2_, "2"));
  uint64_t amended = c.Do(c.sponsor_, "trial.protocol",
                          {{"protocolHash", HashOf("protocol v2")},
                           {"version", "2.0"},
                           {"outcomes", C::Outcomes({"Weight change at week 26"}, {})}})
                         .value();
  auto protocols = c.view_->Protocols("T1").value();
  BOOST_REQUIRE(protocols.size() == 2u);
  BOOST_TEST(protocols[0].index == sealed);
  BOOST_TEST(protocols[0].is_seal);
  BOOST_TEST(!protocols[0].after_first_enrolment);
  BOOST_TEST(protocols[0].primary == (std::vector<std::string>{"HbA1c change at week 26"}),
             boost::test_tools::per_element());
  BOOST_TEST(protocols[0].secondary == (std::vector<std::string>{"Weight change at week 26"}),
             boost::test_tools::per_element());
  BOOST_TEST(protocols[0].outcomes_json ==
             R"({"primary":["HbA1c change at week 26"],"secondary":["Weight change at week 26"]})");
  BOOST_TEST(protocols[0].signer_org == "sp");
  BOOST_TEST(protocols[0].signer_name == "Dr Ada Example");
  BOOST_TEST(protocols[0].meaning == "authorship");
  // The rules record the log's sequencing time (the chain's clock), not the claimed one.
  BOOST_TEST(protocols[0].time == c.now_);
  BOOST_TEST(protocols[1].index == amended);
  BOOST_TEST(!protocols[1].is_seal);
  BOOST_TEST(protocols[1].after_first_enrolment);
  auto enrolled = c.view_->Enrolments("T1").value();
  BOOST_TEST(enrolled.count == 2);
  BOOST_TEST(enrolled.first_index.value() == first);
  BOOST_TEST(enrolled.first_time == c.now_);
}

BOOST_AUTO_TEST_CASE(sites_and_sponsor_submit_and_leaves_read_back_in_ledger_order) {
  C c;
  C::Expect(c.Protocol());
  uint64_t first = c.Submit(c.site1_, C::Records({{"r1", ""}, {"r2", ""}})).value();
  uint64_t second = c.Submit(c.sponsor_, C::Records({{"r3", ""}})).value();
  BOOST_TEST(C::Code(c.Submit(c.site3_, C::Records({{"r4", ""}}))) == "trial.not_site");
  BOOST_TEST(C::Code(c.Submit(c.sponsor2_, C::Records({{"r4", ""}}))) == "trial.not_sponsor");
  BOOST_TEST(C::Code(c.Submit(c.manufacturer_, C::Records({{"r4", ""}}))) ==
             "trial.forbidden_role");
  auto leaves = c.view_->Leaves("T1", "AE").value();
  BOOST_REQUIRE(leaves.size() == 3u);
  BOOST_TEST(leaves[0].leaf == HashOf("r1"));
  BOOST_TEST(leaves[1].leaf == HashOf("r2"));
  BOOST_TEST(leaves[0].index == first);
  BOOST_TEST(leaves[0].signer_org == "s1");
  BOOST_TEST(leaves[0].signer_name == "Dr Ada Example");
  BOOST_TEST(leaves[0].meaning == "authorship");
  BOOST_TEST(leaves[2].index == second);
  BOOST_TEST(leaves[2].signer_org == "sp");
  BOOST_TEST(c.view_->Leaves("T1", "DM").value().empty());
}

BOOST_AUTO_TEST_CASE(submission_refusals_carry_specific_codes) {
  C c;
  C::Expect(c.Protocol());
  SubmitAll(c, {{"r1", ""}});
  auto too_many = JsonValue::Array();
  for (int i = 0; i < 10001; ++i) {
    auto r = JsonValue::Object();
    r.set("leaf", JsonValue(HashOf("bulk" + std::to_string(i))));
    too_many.push_back(r);
  }
  struct Case {
    Fields fields;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"domain", "AE"}, {"records", C::Records({{"r1", ""}})}},
       "trial.duplicate_leaf",
       "records[0].leaf"},
      {{{"domain", "AE"}, {"records", C::Records({{"r5", ""}, {"r5", ""}})}},
       "trial.duplicate_leaf",
       "records[1].leaf"},
      {{{"domain", "AE"}, {"records", C::Records({{"r2", "r1"}})}},
       "trial.reason_required",
       "reason"},
      {{{"domain", "AE"}, {"records", C::Records({{"r2", "nope"}})}, {"reason", "typo"}},
       "trial.unknown_leaf",
       "records[0].replaces"},
      {{{"domain", "ae"}, {"records", C::Records({{"r2", ""}})}}, "trial.bad_domain", "domain"},
      {{{"domain", "AE"}, {"records", JsonValue::Array()}}, "trial.bad_record_count", "records"},
      {{{"domain", "AE"}, {"records", too_many}}, "trial.bad_record_count", "records"},
      {{{"domain", "AE"}, {"records", Strings({HashOf("r9")})}}, "trial.malformed", "records[0]"},
  };
  for (const Case& k : cases) {
    auto r = c.Do(c.site1_, "trial.submit", k.fields);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  // The second case's first record (r5) was not kept: a refused event writes nothing.
  BOOST_TEST(CurrentLeaves(c) == (std::vector<std::string>{HashOf("r1")}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(replacement_supersedes_the_leaf_and_keeps_the_reason) {
  C c;
  C::Expect(c.Protocol());
  SubmitAll(c, {{"r1", ""}, {"r2", ""}});
  uint64_t fix = c.Submit(c.site2_, C::Records({{"r1b", "r1"}}), "transcription error").value();
  auto leaves = c.view_->Leaves("T1", "AE").value();
  BOOST_REQUIRE(leaves.size() == 2u);
  BOOST_TEST(leaves[0].leaf == HashOf("r2"));
  BOOST_TEST(leaves[1].leaf == HashOf("r1b"));
  BOOST_TEST(leaves[1].replaces == HashOf("r1"));
  BOOST_TEST(leaves[1].reason == "transcription error");
  BOOST_TEST(leaves[1].index == fix);
  BOOST_TEST(leaves[1].signer_org == "s2");
  // The replaced leaf can neither come back nor be replaced a second time.
  BOOST_TEST(C::Code(c.Submit(c.site1_, C::Records({{"r1", ""}}))) == "trial.duplicate_leaf");
  BOOST_TEST(C::Code(c.Submit(c.site1_, C::Records({{"r1c", "r1"}}), "again")) ==
             "trial.leaf_not_current");
}

BOOST_AUTO_TEST_CASE(hard_lock_refuses_submissions_and_soft_lock_allows_only_replacements) {
  C c;
  C::Expect(c.Protocol());
  SubmitAll(c, {{"r1", ""}, {"r2", ""}});
  C::Expect(c.LockDomain("soft_lock"));
  BOOST_TEST(c.view_->LockState("T1", "AE").value() == "soft_lock");
  auto r = c.Submit(c.site1_, C::Records({{"r3", ""}}));
  BOOST_TEST(C::Code(r) == "trial.soft_locked");
  BOOST_TEST(r.error().field() == "records[0].replaces");
  C::Expect(c.Submit(c.site1_, C::Records({{"r2b", "r2"}}), "query resolution"));
  C::Expect(c.LockDomain("hard_lock"));
  BOOST_TEST(C::Code(c.Submit(c.site1_, C::Records({{"r2c", "r2b"}}), "late fix")) ==
             "trial.locked");
  BOOST_TEST(C::Code(c.Submit(c.site1_, C::Records({{"r4", ""}}))) == "trial.locked");
  // Other domains stay open.
  C::Expect(
      c.Do(c.site1_, "trial.submit", {{"domain", "DM"}, {"records", C::Records({{"d1", ""}})}}));
  BOOST_TEST(CurrentLeaves(c) == (std::vector<std::string>{HashOf("r1"), HashOf("r2b")}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(lock_transitions_follow_the_table) {
  // Each row: the actions before, the action tried, accepted or not.
  struct Case {
    std::vector<std::string> before;
    std::string action;
    bool accepted;
  };
  std::vector<Case> cases = {
      {{}, "soft_lock", true},
      {{}, "hard_lock", true},
      {{}, "unlock", false},
      {{"soft_lock"}, "hard_lock", true},
      {{"soft_lock"}, "soft_lock", false},
      {{"soft_lock"}, "unlock", true},
      {{"hard_lock"}, "soft_lock", false},
      {{"hard_lock"}, "hard_lock", false},
      {{"hard_lock"}, "unlock", true},
      {{"hard_lock", "unlock"}, "unlock", false},
      {{"hard_lock", "unlock"}, "soft_lock", true},
  };
  C c;
  Fields unlock_fields = {{"reason", "query"}, {"approver", "Dr Bo Second"}};
  int domain = 0;
  for (const Case& k : cases) {
    std::string d = "X" + std::to_string(domain++);
    for (const auto& a : k.before) {
      Fields f = unlock_fields;
      f.push_back({"domain", JsonValue(d)});
      C::Expect(c.LockDomain(a, f));
    }
    Fields f = unlock_fields;
    f.push_back({"domain", JsonValue(d)});
    auto r = c.LockDomain(k.action, f);
    BOOST_TEST_CONTEXT(d << ": " << k.action) {
      BOOST_TEST(C::Code(r) == (k.accepted ? "ok" : "trial.bad_lock_transition"));
    }
  }
  BOOST_TEST(C::Code(c.LockDomain("freeze")) == "trial.malformed");
}

BOOST_AUTO_TEST_CASE(unlock_needs_a_reason_and_a_second_person) {
  C c;
  C::Expect(c.LockDomain("hard_lock"));
  auto no_reason = c.LockDomain("unlock", {{"approver", "Dr Bo Second"}});
  BOOST_TEST(C::Code(no_reason) == "trial.reason_required");
  BOOST_TEST(no_reason.error().field() == "reason");
  auto no_approver = c.LockDomain("unlock", {{"reason", "query"}});
  BOOST_TEST(C::Code(no_approver) == "trial.approver_required");
  BOOST_TEST(no_approver.error().field() == "approver");
  BOOST_TEST(
      C::Code(c.LockDomain("unlock", {{"reason", "query"}, {"approver", "Dr Ada Example"}})) ==
      "trial.approver_required");
  BOOST_TEST(c.view_->LockState("T1", "AE").value() == "hard_lock");
  uint64_t unlocked =
      c.LockDomain("unlock", {{"reason", "query"}, {"approver", "Dr Bo Second"}}).value();
  auto history = c.view_->LockHistory("T1", "AE").value();
  BOOST_REQUIRE(history.size() == 2u);
  BOOST_TEST(history[0].action == "hard_lock");
  BOOST_TEST(history[0].reason.empty());
  BOOST_TEST(history[1].action == "unlock");
  BOOST_TEST(history[1].index == unlocked);
  BOOST_TEST(history[1].signer_name == "Dr Ada Example");
  BOOST_TEST(history[1].meaning == "approval");
  BOOST_TEST(history[1].reason == "query");
  BOOST_TEST(history[1].approver == "Dr Bo Second");
  BOOST_TEST(history[1].time == c.now_);
  BOOST_TEST(c.view_->LockState("T1", "AE").value() == "open");
  BOOST_TEST(C::Code(c.Do(c.sponsor2_, "trial.lock",
                          {{"domain", "AE"}, {"action", "hard_lock"}})) == "trial.not_sponsor");
  BOOST_TEST(C::Code(c.Do(c.site1_, "trial.lock", {{"domain", "AE"}, {"action", "hard_lock"}})) ==
             "trial.forbidden_role");
}

BOOST_AUTO_TEST_CASE(seal_needs_a_hard_locked_domain_with_that_many_current_records) {
  C c;
  C::Expect(c.Protocol());
  SubmitAll(c, {{"r1", ""}, {"r2", ""}});
  BOOST_TEST(C::Code(c.Seal(2)) == "trial.not_locked");
  C::Expect(c.LockDomain("soft_lock"));
  BOOST_TEST(C::Code(c.Seal(2)) == "trial.not_locked");
  C::Expect(c.Submit(c.site1_, C::Records({{"r2b", "r2"}}), "correction"));
  C::Expect(c.LockDomain("hard_lock"));
  auto mismatch = c.Seal(3);  // three leaves were submitted, two are current
  BOOST_TEST(C::Code(mismatch) == "trial.count_mismatch");
  BOOST_TEST(mismatch.error().field() == "recordCount");
  BOOST_TEST(mismatch.error().message().find("2 current") != std::string::npos);
  BOOST_TEST(C::Code(c.Seal(0)) == "trial.empty_dataset");
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "trial.seal",
                          {{"domain", "AE"},
                           {"root", HashOf("root")},
                           {"recordCount", 2},
                           {"schemaHash", HashOf("schema")},
                           {"algorithm", "sha256-merkle"}})) == "trial.bad_algorithm");
  BOOST_TEST(c.view_->Seals("T1", "AE").value().empty());
  uint64_t sealed = c.Seal(2).value();
  auto seals = c.view_->Seals("T1", "AE").value();
  BOOST_REQUIRE(seals.size() == 1u);
  BOOST_TEST(seals[0].index == sealed);
  BOOST_TEST(seals[0].time == c.now_);
  BOOST_TEST(seals[0].root == HashOf("root"));
  BOOST_TEST(seals[0].record_count == 2);
  BOOST_TEST(seals[0].schema_hash == HashOf("schema"));
  BOOST_TEST(seals[0].algorithm == "pedigree-trial-seal/v1");
  BOOST_TEST(seals[0].signer_name == "Dr Ada Example");
}

BOOST_AUTO_TEST_CASE(empty_domain_cannot_be_sealed) {
  C c;
  C::Expect(c.LockDomain("hard_lock"));
  BOOST_TEST(C::Code(c.Seal(0)) == "trial.empty_dataset");
  BOOST_TEST(C::Code(c.Seal(1)) == "trial.count_mismatch");
}

BOOST_AUTO_TEST_CASE(seal_twice_is_refused_until_unlock_and_relock) {
  C c;
  LockedDataset(c);
  C::Expect(c.Seal(2));
  BOOST_TEST(C::Code(c.Seal(2)) == "trial.already_sealed");
  C::Expect(c.LockDomain("unlock", {{"reason", "late AE"}, {"approver", "Dr Bo Second"}}));
  SubmitAll(c, {{"r3", ""}});
  C::Expect(c.LockDomain("hard_lock"));
  C::Expect(c.Seal(3, "root2"));
  auto seals = c.view_->Seals("T1", "AE").value();
  BOOST_REQUIRE(seals.size() == 2u);
  BOOST_TEST(seals[1].root == HashOf("root2"));
  BOOST_TEST(seals[1].record_count == 3);
  BOOST_TEST(seals[0].index < seals[1].index);
}

BOOST_AUTO_TEST_CASE(seal_needs_the_sponsor_of_this_trial) {
  C c;
  LockedDataset(c);
  BOOST_TEST(C::Code(c.Do(c.sponsor2_, "trial.seal",
                          {{"domain", "AE"},
                           {"root", HashOf("root")},
                           {"recordCount", 2},
                           {"schemaHash", HashOf("schema")},
                           {"algorithm", "pedigree-trial-seal/v1"}})) == "trial.not_sponsor");
}

BOOST_AUTO_TEST_CASE(redaction_keeps_the_leaf_and_records_the_reason) {
  C c;
  LockedDataset(c);
  auto redact = [&](const std::string& leaf_seed, const std::string& reason) {
    Fields f = {{"domain", "AE"}, {"leaf", HashOf(leaf_seed)}};
    if (!reason.empty()) f.push_back({"reason", JsonValue(reason)});
    return c.Do(c.sponsor_, "trial.redact", f);
  };
  auto unknown = redact("nope", "PII entered by mistake");
  BOOST_TEST(C::Code(unknown) == "trial.unknown_leaf");
  BOOST_TEST(unknown.error().field() == "leaf");
  BOOST_TEST(C::Code(redact("r1", "")) == "trial.reason_required");
  BOOST_TEST(c.view_->Redactions("T1", "AE").value().empty());
  uint64_t at = redact("r1", "PII entered by mistake").value();
  BOOST_TEST(C::Code(redact("r1", "again")) == "trial.already_redacted");
  auto redactions = c.view_->Redactions("T1", "AE").value();
  BOOST_REQUIRE(redactions.size() == 1u);
  BOOST_TEST(redactions[0].leaf == HashOf("r1"));
  BOOST_TEST(redactions[0].index == at);
  BOOST_TEST(redactions[0].reason == "PII entered by mistake");
  auto leaves = c.view_->Leaves("T1", "AE").value();
  BOOST_REQUIRE(leaves.size() == 2u);  // the leaf stays and still counts for the seal
  BOOST_TEST(leaves[0].redacted);
  BOOST_TEST(!leaves[1].redacted);
  C::Expect(c.Seal(2));
  BOOST_TEST(C::Code(c.Do(c.site1_, "trial.redact",
                          {{"domain", "AE"}, {"leaf", HashOf("r2")}, {"reason", "PII"}})) ==
             "trial.forbidden_role");
}

BOOST_AUTO_TEST_CASE(submissions_and_leaf_counts_are_read_without_the_leaf_rows) {
  C c;
  C::Expect(c.Protocol());
  uint64_t first = c.Submit(c.site1_, C::Records({{"r1", ""}, {"r2", ""}})).value();
  uint64_t second = c.Submit(c.site2_, C::Records({{"r1b", "r1"}}), "transcription error").value();
  auto redact = [&](const std::string& leaf_seed) {
    return c.Do(c.sponsor_, "trial.redact",
                {{"domain", "AE"}, {"leaf", HashOf(leaf_seed)}, {"reason", "PII"}});
  };
  C::Expect(redact("r2"));  // current
  C::Expect(redact("r1"));  // replaced by r1b
  BOOST_TEST(c.view_->Submissions("T1", "AE").value() == (std::vector<uint64_t>{first, second}),
             boost::test_tools::per_element());
  const LeafCounts counts = c.view_->CountLeaves("T1", "AE").value();
  BOOST_TEST(counts.current == 2u);   // r2 and r1b
  BOOST_TEST(counts.redacted == 1u);  // r2: the redacted r1 is no longer current
  BOOST_TEST(counts.current == c.view_->Leaves("T1", "AE").value().size());
  BOOST_TEST(c.view_->Submissions("T1", "DM").value().empty());
  const LeafCounts none = c.view_->CountLeaves("T1", "DM").value();
  BOOST_TEST(none.current == 0u);
  BOOST_TEST(none.redacted == 0u);
}

BOOST_AUTO_TEST_CASE(enrolment_refusals_are_the_node_alerts_that_name_the_trial) {
  C c;
  // What the node appends when the rules refuse an enrolment (SupplyNode::RecordAlert).
  int n = 0;
  auto alert = [&](const std::string& code, const std::string& message) {
    auto p = JsonValue::Object();
    p.set("v", JsonValue(int64_t{1}));
    p.set("kind", JsonValue("alert"));
    p.set("org", JsonValue("node"));
    p.set("clientId", JsonValue("alert/s1/" + std::to_string(++n)));
    p.set("time", JsonValue(C::kTime));
    p.set("code", JsonValue(code));
    p.set("subjectOrg", JsonValue("s1"));
    p.set("message", JsonValue(message));
    return c.ledger_->Append(c.ledger_->SignAsNode(p).value(), "", true);
  };
  const std::string refused = " has no protocol seal; subject 5f0c… cannot be enrolled";
  uint64_t t1 = alert("enrolment_before_protocol", "trial 'T1'" + refused).value();
  uint64_t t10 = alert("enrolment_before_protocol", "trial 'T10'" + refused).value();
  C::Expect(alert("kit_not_received", "trial 'T1' kit K1 was not received"));
  uint64_t again = alert("enrolment_before_protocol", "trial 'T1'" + refused).value();
  BOOST_TEST(c.view_->EnrolmentRefusals("T1").value() == (std::vector<uint64_t>{t1, again}),
             boost::test_tools::per_element());
  BOOST_TEST(c.view_->EnrolmentRefusals("T10").value() == (std::vector<uint64_t>{t10}),
             boost::test_tools::per_element());
  BOOST_TEST(c.view_->EnrolmentRefusals("T2").value().empty());
}

BOOST_AUTO_TEST_CASE(signature_manifestation_is_required) {
  C c;
  C::Expect(c.Protocol());
  struct Case {
    JsonValue signature;
    std::string field;
  };
  auto no_meaning = JsonValue::Object();
  no_meaning.set("name", JsonValue("Dr A"));
  std::vector<Case> cases = {
      {JsonValue(), "signature"},
      {JsonValue("Dr A"), "signature"},
      {no_meaning, "signature.meaning"},
      {Signature("Dr A", "approved"), "signature.meaning"},
      {Signature("", "review"), "signature.name"},
      {Signature(std::string(129, 'n'), "review"), "signature.name"},
  };
  for (const Case& k : cases) {
    auto r =
        c.Do(c.site1_, "trial.submit",
             {{"domain", "AE"}, {"records", C::Records({{"r1", ""}})}, {"signature", k.signature}});
    BOOST_TEST_CONTEXT(k.field) {
      BOOST_TEST(C::Code(r) == "trial.bad_signature");
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  for (const char* meaning : {"authorship", "review", "approval", "responsibility"}) {
    C::Expect(c.Do(c.site1_, "trial.submit",
                   {{"domain", "AE"},
                    {"records", C::Records({{meaning, ""}})},
                    {"signature", Signature("Dr A", meaning)}}));
  }
}

BOOST_AUTO_TEST_CASE(key_revoked_before_the_event_time_is_refused) {
  C c;
  C::Expect(c.Protocol());
  auto revoke = JsonValue::Object();
  revoke.set("id", JsonValue("s1"));
  revoke.set("key", JsonValue(ToBase64(c.site1_.key.public_key().raw())));
  revoke.set("revokedAt", JsonValue("2026-11-22T12:00:00Z"));
  // Judged by the log's time: the key signs until the log's clock reaches the revocation,
  // whatever time the site writes.
  c.now_ = ParseUtcTime("2026-11-22T11:59:59Z").value();
  C::Expect(c.Append(TrialOrg{"authority"}, "org.key_revoke", revoke, &c.authority_));
  C::Expect(c.Do(c.site1_, "trial.submit",
                 {{"domain", "AE"}, {"records", C::Records({{"r1", ""}})}},
                 "2026-11-22T11:59:59Z"));
  c.now_ = ParseUtcTime("2026-11-22T12:00:00Z").value();
  BOOST_TEST(C::Code(c.Do(c.site1_, "trial.submit",
                          {{"domain", "AE"}, {"records", C::Records({{"r2", ""}})}},
                          "2026-11-22T11:00:00Z")) == "event.key_revoked");
}

BOOST_AUTO_TEST_CASE(future_timestamp_is_refused) {
  C c;
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "trial.protocol",
                          {{"protocolHash", HashOf("p")},
                           {"version", "1"},
                           {"outcomes", C::Outcomes({"death"}, {})}},
                          "2026-11-23T00:00:00Z")) == "event.time_skew");
  BOOST_TEST(c.view_->Protocols("T1").value().empty());
}

BOOST_AUTO_TEST_CASE(unknown_trial_kind_is_refused) {
  C c;
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "trial.unblind", {})) == "event.unknown_kind");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(outcome_check)

BOOST_AUTO_TEST_CASE(identical_outcomes_up_to_whitespace_have_no_discrepancy) {
  auto d = OutcomeCheck({"HbA1c change  at week 26"}, {"Weight\tchange"},
                        {"  HbA1c change at\nweek 26 "}, {"Weight change"});
  BOOST_TEST(d.empty());
}

BOOST_AUTO_TEST_CASE(added_omitted_and_moved_outcomes_are_reported) {
  // Sealed: primary P1, P2; secondary S1, S2. Reported: P1 primary, S1 promoted to
  // primary, P2 demoted to secondary, S2 dropped, N added. Case and wording count.
  auto d = OutcomeCheck({"P1", "P2"}, {"S1", "S2"}, {"P1", "S1", "N"}, {"P2", "s2"});
  BOOST_TEST(d.reported_not_sealed == (std::vector<std::string>{"N", "s2"}),
             boost::test_tools::per_element());
  BOOST_TEST(d.sealed_not_reported == (std::vector<std::string>{"S2"}),
             boost::test_tools::per_element());
  BOOST_TEST(d.moved == (std::vector<std::string>{"P2", "S1"}), boost::test_tools::per_element());
  BOOST_TEST(!d.empty());
}

BOOST_AUTO_TEST_CASE(nothing_reported_means_every_sealed_outcome_is_omitted) {
  auto d = OutcomeCheck({"P1"}, {"S1"}, {}, {});
  BOOST_TEST(d.sealed_not_reported == (std::vector<std::string>{"P1", "S1"}),
             boost::test_tools::per_element());
  BOOST_TEST(d.reported_not_sealed.empty());
  BOOST_TEST(d.moved.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(docs_events_md_lists_every_trial_and_kit_kind) {
  std::ifstream doc(std::string(PEDIGREE_SOURCE_DIR) + "/docs/events.md");
  BOOST_REQUIRE(doc);
  std::stringstream text;
  text << doc.rdbuf();
  for (const char* kind : {"trial.register", "trial.protocol", "trial.enrol",  "trial.submit",
                           "trial.lock",     "trial.seal",     "trial.redact", "trial.consent_form",
                           "trial.consent",  "trial.withdraw", "trial.grant",  "trial.revoke_grant",
                           "trial.access",   "kit.register",   "kit.ship",     "kit.receive",
                           "kit.assign",     "kit.dispense",   "kit.return",   "kit.excursion",
                           "kit.decision"}) {
    BOOST_TEST_CONTEXT(kind) {
      BOOST_TEST(text.str().find("`" + std::string(kind) + "`") != std::string::npos);
    }
  }
}
