// The access rules through the real ledger: trial.grant, trial.revoke_grant and
// trial.access. Every refusal is a signed command the rules decline inside the commit
// transaction, so nothing is written; a recorded access is re-checked against the grant
// valid at its time.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "pedigree/log/note.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/derived_audit.h"
#include "trial_chain.h"

using namespace pedigree;
using namespace pedigree::provenance;
using namespace pedigree::provenance::testing;

namespace {

using C = TrialChain;

std::string Subject(const std::string& n) { return HashOf("subject " + n); }

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

// Grant G1 of T1 to the regulator `reg` for AE, 2026-11-01 to 2026-11-25 (the log's clock
// reads 2026-11-21T22:26:40Z).
Fields GrantFields(const std::string& id = "G1") {
  return {{"grantId", id},
          {"grantee", "reg"},
          {"purpose", "regulator"},
          {"domains", Strings({"AE"})},
          {"start", "2026-11-01T00:00:00Z"},
          {"expiry", "2026-11-25T00:00:00Z"}};
}

Fields AccessFields(std::initializer_list<std::string> leaf_seeds,
                    const std::string& grant = "G1") {
  auto leaves = JsonValue::Array();
  for (const auto& s : leaf_seeds) leaves.push_back(JsonValue(HashOf(s)));
  return {{"reader", "reg"}, {"grantId", grant},     {"purpose", "regulator"},
          {"domain", "AE"},  {"outcome", "granted"}, {"leaves", leaves}};
}

// One AE record per (leaf seed, subject) signed by s1.
Result<uint64_t> Records(C& c, std::initializer_list<std::pair<std::string, std::string>> rows) {
  auto records = JsonValue::Array();
  for (const auto& [leaf, subject] : rows) {
    auto r = JsonValue::Object();
    r.set("leaf", JsonValue(HashOf(leaf)));
    if (!subject.empty()) r.set("subjectRef", JsonValue(Subject(subject)));
    records.push_back(r);
  }
  return c.Do(c.site1_, "trial.submit", {{"domain", "AE"}, {"records", records}});
}

// T1 with its protocol, subjects 1 and 2 at s1 and 3 at s2, AE records a (1), b (2) and
// c (3, submitted by s2), and the regulator reg and the CRO cro registered.
struct Granted {
  C c;
  TrialOrg reg{"reg"}, cro{"cro"};
  Granted() {
    c.Register(reg, "regulator");
    c.Register(cro, "site");
    C::Expect(c.Protocol());
    C::Expect(c.Enrol(c.site1_, "1"));
    C::Expect(c.Enrol(c.site1_, "2"));
    C::Expect(c.Enrol(c.site2_, "3"));
    C::Expect(Records(c, {{"a", "1"}, {"b", "2"}}));
    auto r = JsonValue::Object();
    r.set("leaf", JsonValue(HashOf("c")));
    r.set("subjectRef", JsonValue(Subject("3")));
    auto records = JsonValue::Array();
    records.push_back(r);
    C::Expect(c.Do(c.site2_, "trial.submit", {{"domain", "AE"}, {"records", records}}));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(grant_rules)

BOOST_FIXTURE_TEST_CASE(grant_refusals_carry_specific_codes_and_write_nothing, Granted) {
  struct Case {
    const TrialOrg* org;
    Fields fields;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {&c.site1_, GrantFields(), "trial.forbidden_role", "org"},
      {&c.sponsor2_, GrantFields(), "trial.not_sponsor", "org"},
      {&c.sponsor_, With(GrantFields(), {{"grantee", "nobody"}}), "trial.unknown_grantee",
       "grantee"},
      {&c.sponsor_, With(GrantFields(), {{"grantee", "sp"}}), "trial.malformed", "grantee"},
      {&c.sponsor_, With(GrantFields(), {{"expiry", "2026-10-31T23:59:59Z"}}), "trial.bad_grant",
       "expiry"},
      {&c.sponsor_, With(GrantFields(), {{"expiry", "2026-11-01T00:00:00Z"}}), "trial.bad_grant",
       "expiry"},
      {&c.sponsor_, With(GrantFields(), {{"start", "2026-11-01"}}), "trial.malformed", "start"},
      {&c.sponsor_, With(GrantFields(), {{"purpose", "sales"}}), "trial.malformed", "purpose"},
      {&c.sponsor_, With(GrantFields(), {{"domains", Strings({})}}), "trial.malformed", "domains"},
      {&c.sponsor_, With(GrantFields(), {{"domains", Strings({"ae"})}}), "trial.bad_domain",
       "domains"},
      {&c.sponsor_, With(GrantFields(), {{"sites", Strings({"s3"})}}), "trial.bad_site", "sites"},
      {&c.sponsor_, With(GrantFields(), {{"subjects", Strings({Subject("9")})}}),
       "trial.unknown_subject", "subjects"},
      {&c.sponsor_, With(GrantFields(), {{"grantId", "G 1"}}), "trial.malformed", "grantId"},
      {&c.sponsor_, With(GrantFields(), {{"signature", JsonValue()}}), "trial.bad_signature",
       "signature"},
      {&c.sponsor_, With(GrantFields(), {{"trialId", "T9"}}), "trial.unknown_trial", "trialId"},
  };
  for (const Case& k : cases) {
    auto r = c.Do(*k.org, "trial.grant", k.fields);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  BOOST_TEST(c.view_->Grants("T1").value().empty());
  C::Expect(c.Do(
      c.sponsor_, "trial.grant",
      With(GrantFields(), {{"sites", Strings({"s1"})}, {"subjects", Strings({Subject("1")})}})));
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "trial.grant", GrantFields())) == "trial.duplicate_grant");
  auto grants = c.view_->Grants("T1").value();
  BOOST_REQUIRE(grants.size() == 1u);
  BOOST_TEST(grants[0].grantee == "reg");
  BOOST_TEST(grants[0].purpose == "regulator");
  BOOST_TEST(grants[0].domains == (std::vector<std::string>{"AE"}),
             boost::test_tools::per_element());
  BOOST_TEST(grants[0].sites == (std::vector<std::string>{"s1"}), boost::test_tools::per_element());
  BOOST_TEST(grants[0].subjects.size() == 1u);
  BOOST_TEST(!grants[0].revoked_index.has_value());
}

BOOST_FIXTURE_TEST_CASE(revoking_an_unknown_or_revoked_grant_is_refused, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "trial.revoke_grant", {{"grantId", "G9"}})) ==
             "trial.unknown_grant");
  BOOST_TEST(C::Code(c.Do(c.sponsor2_, "trial.revoke_grant", {{"grantId", "G1"}})) ==
             "trial.not_sponsor");
  C::Expect(c.Do(c.sponsor_, "trial.revoke_grant",
                 {{"grantId", "G1"}, {"reason", "monitoring visit over"}}));
  auto again = c.Do(c.sponsor_, "trial.revoke_grant", {{"grantId", "G1"}});
  BOOST_TEST(C::Code(again) == "trial.grant_revoked");
  auto grants = c.view_->Grants("T1").value();
  BOOST_REQUIRE(grants.size() == 1u);
  BOOST_REQUIRE(grants[0].revoked_index.has_value());
  BOOST_TEST(grants[0].revoke_reason == "monitoring visit over");
  BOOST_TEST(!grants[0].valid_at(grants[0].revoked_time));
}

BOOST_FIXTURE_TEST_CASE(an_access_inside_its_grant_is_recorded_with_its_leaves, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  C::Expect(c.Do(c.sponsor_, "trial.access", AccessFields({"a", "b"})));
  auto accesses = c.view_->Accesses("T1").value();
  BOOST_REQUIRE(accesses.size() == 1u);
  BOOST_TEST(accesses[0].reader == "reg");
  BOOST_TEST(accesses[0].grant_id == "G1");
  BOOST_TEST(accesses[0].outcome == "granted");
  BOOST_TEST(accesses[0].leaves == (std::vector<std::string>{HashOf("a"), HashOf("b")}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(access_refusals_carry_specific_codes_and_write_nothing, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  C::Expect(c.Do(c.sponsor_, "trial.grant",
                 With(GrantFields("G2"), {{"subjects", Strings({Subject("1")})},
                                          {"expiry", "2026-12-01T00:00:00Z"}})));
  C::Expect(c.Do(
      c.sponsor_, "trial.grant",
      With(GrantFields("G3"), {{"sites", Strings({"s1"})}, {"expiry", "2026-12-01T00:00:00Z"}})));
  C::Expect(c.Do(c.sponsor_, "trial.grant",
                 With(GrantFields("G4"), {{"start", "2026-11-23T00:00:00Z"}})));
  struct Case {
    const TrialOrg* org;
    Fields fields;
    std::string time;
    std::string code;
    std::string field;
  };
  const std::string t = C::kTime;
  std::vector<Case> cases = {
      {&c.site1_, AccessFields({"a"}), t, "trial.forbidden_role", "org"},
      {&c.sponsor_, AccessFields({"a", "zz"}), t, "trial.unknown_leaf", "leaves[1]"},
      {&c.sponsor_, AccessFields({"a"}, "G9"), t, "trial.unknown_grant", "grantId"},
      {&c.sponsor_, With(AccessFields({"a"}), {{"reader", "cro"}}), t, "trial.access_outside_grant",
       "reader"},
      {&c.sponsor_, With(AccessFields({"a"}), {{"reader", "nobody"}}), t, "trial.unknown_grantee",
       "reader"},
      {&c.sponsor_, With(AccessFields({}), {{"domain", "DM"}}), t, "trial.access_outside_grant",
       "domain"},
      {&c.sponsor_, With(AccessFields({"a"}), {{"purpose", "auditor"}}), t,
       "trial.access_outside_grant", "purpose"},
      {&c.sponsor_, AccessFields({"a"}, "G4"), t, "trial.access_outside_grant", "grantId"},
      {&c.sponsor_, AccessFields({"a", "b"}, "G2"), t, "trial.access_outside_grant", "leaves[1]"},
      {&c.sponsor_, AccessFields({"a", "c"}, "G3"), t, "trial.access_outside_grant", "leaves[1]"},
      {&c.sponsor_, With(AccessFields({"a"}), {{"outcome", "refused"}, {"refusal", "x"}}), t,
       "trial.malformed", "leaves"},
      {&c.sponsor_, With(AccessFields({"a"}), {{"outcome", "maybe"}}), t, "trial.malformed",
       "outcome"},
  };
  for (const Case& k : cases) {
    auto r = c.Do(*k.org, "trial.access", k.fields, k.time);
    BOOST_TEST_CONTEXT(k.code << " " << k.field) {
      BOOST_TEST(C::Code(r) == k.code);
      if (!r) BOOST_TEST(r.error().field() == k.field);
    }
  }
  BOOST_TEST(c.view_->Accesses("T1").value().empty());
  // Inside the restricted grants, the same reads are recorded.
  C::Expect(c.Do(c.sponsor_, "trial.access", AccessFields({"a"}, "G2")));
  C::Expect(c.Do(c.sponsor_, "trial.access", AccessFields({"a", "b"}, "G3")));
  BOOST_TEST(c.view_->Accesses("T1").value().size() == 2u);
  // After its expiry, G1 covers nothing.
  c.now_ = 1'795'568'400;  // 2026-11-25T01:00:00Z
  auto expired = c.Do(c.sponsor_, "trial.access", AccessFields({"a"}), "2026-11-25T00:30:00Z");
  BOOST_TEST(C::Code(expired) == "trial.access_outside_grant");
  BOOST_TEST(c.view_->Accesses("T1").value().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(after_revocation_only_a_refusal_can_be_recorded, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  C::Expect(c.Do(c.sponsor_, "trial.revoke_grant", {{"grantId", "G1"}}));
  auto r = c.Do(c.sponsor_, "trial.access", AccessFields({"a"}));
  BOOST_TEST(C::Code(r) == "trial.access_outside_grant");
  C::Expect(c.Do(c.sponsor_, "trial.access",
                 With(AccessFields({}), {{"outcome", "refused"}, {"refusal", "trial.no_grant"}})));
  auto accesses = c.view_->Accesses("T1").value();
  BOOST_REQUIRE(accesses.size() == 1u);
  BOOST_TEST(accesses[0].outcome == "refused");
  BOOST_TEST(accesses[0].refusal == "trial.no_grant");
  BOOST_TEST(accesses[0].leaves.empty());
}

BOOST_FIXTURE_TEST_CASE(grant_tables_equal_a_replay_of_the_log, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  C::Expect(c.Do(c.sponsor_, "trial.access", AccessFields({"a", "c"})));
  C::Expect(c.Do(c.sponsor_, "trial.revoke_grant", {{"grantId", "G1"}}));
  C::Expect(c.Do(c.sponsor_, "trial.access",
                 With(AccessFields({}), {{"outcome", "refused"}, {"refusal", "trial.no_grant"}})));
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
  for (const char* table : {"trial_grants", "trial_accesses", "trial_access_leaves"}) {
    BOOST_TEST_CONTEXT(table) {
      const auto& t = report->tables_compared;
      BOOST_TEST((std::find(t.begin(), t.end(), table) != t.end()));
    }
  }
}

// What a participant's receipt is made of: one subject's entries, each access with only that
// subject's leaves among those it read.
BOOST_FIXTURE_TEST_CASE(subject_history_lists_only_the_accesses_to_its_own_leaves, Granted) {
  C::Expect(c.Do(c.sponsor_, "trial.grant", GrantFields()));
  auto both = c.Do(c.sponsor_, "trial.access", AccessFields({"a", "b"}));
  auto only_b = c.Do(c.sponsor_, "trial.access", AccessFields({"b"}));
  auto only_a = c.Do(c.sponsor_, "trial.access", AccessFields({"a"}));
  C::Expect(both);
  C::Expect(only_b);
  C::Expect(only_a);
  SubjectHistory h = c.view_->Subject("T1", Subject("1")).value();
  BOOST_REQUIRE(h.enrolment.has_value());
  BOOST_TEST(h.consents.empty());
  BOOST_TEST(!h.withdrawal.has_value());
  BOOST_REQUIRE(h.leaves.size() == 1u);
  BOOST_TEST(h.leaves[0].leaf == HashOf("a"));
  BOOST_TEST(h.leaves[0].domain == "AE");
  BOOST_REQUIRE(h.accesses.size() == 2u);
  BOOST_TEST(h.accesses[0].index == *both);
  BOOST_TEST(h.accesses[1].index == *only_a);
  for (const SubjectAccess& a : h.accesses) {
    BOOST_REQUIRE(a.leaves.size() == 1u);
    BOOST_TEST(a.leaves[0].leaf == HashOf("a"));
  }
  SubjectHistory two = c.view_->Subject("T1", Subject("2")).value();
  BOOST_REQUIRE(two.accesses.size() == 2u);
  BOOST_TEST(two.accesses[1].index == *only_b);
  // Not enrolled in this trial: nothing at all.
  SubjectHistory none = c.view_->Subject("T1", Subject("9")).value();
  BOOST_TEST(!none.enrolment.has_value());
  BOOST_TEST(none.accesses.empty());
  BOOST_TEST(!c.view_->Subject("T2", Subject("1")).value().enrolment.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
