// Reports under a witness policy: VERIFIED needs the policy's quorum of cosignatures on the
// checkpoint the evidence carries (check checkpoint.quorum); without a policy nothing changes.
#include <boost/test/unit_test.hpp>

#include "pedigree/log/note.h"
#include "pedigree/log/policy.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/quorum_check.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonValue;
using pedigree::reports::testing::SupplyScenario;

namespace {

struct Witnessed {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  PackEvidence evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1")).value();
  TrustAnchors anchors = LedgerTrustAnchors(s.node().ledger()).value();
  log::NoteSigner a{"a.example/witness", log::PrivateKey::Generate(),
                    log::NoteKeyType::kCosignatureV1};
  log::NoteSigner b{"b.example/witness", log::PrivateKey::Generate(),
                    log::NoteKeyType::kCosignatureV1};
  log::NoteSigner c{"c.example/witness", log::PrivateKey::Generate(),
                    log::NoteKeyType::kCosignatureV1};

  log::Policy TwoOfThree() const {
    return log::ParsePolicy("log " + anchors.log.ToString() + "\nwitness a " + a.VerifierKey() +
                            "\nwitness b " + b.VerifierKey() + "\nwitness c " + c.VerifierKey() +
                            "\ngroup q 2 a b c\nquorum q\n")
        .value();
  }
  std::string CosignedBy(std::initializer_list<const log::NoteSigner*> signers) const {
    std::string note = evidence.checkpoint;
    for (const auto* w : signers) note = log::Cosign(note, *w, 1'700'000'000).value();
    return note;
  }
};

const JsonValue* FindCheck(const JsonValue& report, std::string_view id) {
  for (const auto& c : report.find("checks")->as_array()) {
    if (c.find("id")->as_string() == id) return &c;
  }
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(quorum_report)

BOOST_AUTO_TEST_CASE(pack_report_is_failed_until_the_policy_quorum_has_cosigned) {
  Witnessed w;
  TrustAnchors with_policy = w.anchors;
  with_policy.policy = w.TwoOfThree();

  // Not cosigned at all.
  JsonValue r = VerifyPack(w.evidence, with_policy, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  const JsonValue* check = FindCheck(r, "checkpoint.quorum");
  BOOST_REQUIRE(check);
  BOOST_TEST(check->find("result")->as_string() == "fail");
  BOOST_TEST(check->find("detail")->as_string() ==
             "cosigned by no policy witness; the policy needs 2 of {a, b, c}");
  BOOST_TEST(r.find("failures")->as_array().front().find("code")->as_string() ==
             "checkpoint.quorum");

  // One of the two needed.
  PackEvidence one = w.evidence;
  one.checkpoint = w.CosignedBy({&w.b});
  r = VerifyPack(one, with_policy, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FindCheck(r, "checkpoint.quorum")->find("detail")->as_string() ==
             "cosigned by b; the policy needs 2 of {a, b, c}");

  // Two: VERIFIED, and the cosigned checkpoint survives the bundle.
  PackEvidence two = w.evidence;
  two.checkpoint = w.CosignedBy({&w.c, &w.a});
  PackEvidence read = ReadBundle(WriteBundle(two)).value();
  BOOST_TEST(read.checkpoint == two.checkpoint);
  r = VerifyPack(read, with_policy, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(FindCheck(r, "checkpoint.quorum")->find("result")->as_string() == "pass");
  BOOST_TEST(FindCheck(r, "checkpoint.cosignatures")->find("detail")->as_string() ==
             "2 witness cosignature(s) verified");
  BOOST_TEST(r.find("log")->find("quorum")->find("met")->as_bool());

  // Without a policy the report is as before: the quorum is not asked for.
  r = VerifyPack(w.evidence, w.anchors, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(!FindCheck(r, "checkpoint.quorum"));
}

BOOST_AUTO_TEST_CASE(a_forged_cosignature_of_a_policy_witness_fails_the_quorum_check) {
  Witnessed w;
  TrustAnchors with_policy = w.anchors;
  with_policy.policy = w.TwoOfThree();
  PackEvidence forged = w.evidence;
  forged.checkpoint = w.CosignedBy({&w.a, &w.b});
  // Flip one character of b's signature (the last line's base64, before its newline).
  size_t at = forged.checkpoint.size() - 10;
  forged.checkpoint[at] = forged.checkpoint[at] == 'A' ? 'B' : 'A';
  JsonValue r = VerifyPack(forged, with_policy, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  const JsonValue* check = FindCheck(r, "checkpoint.quorum");
  BOOST_REQUIRE(check);
  BOOST_TEST(check->find("result")->as_string() == "fail");
  BOOST_TEST(check->find("detail")->as_string().find("note.bad_signature") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(quorum_none_passes_and_names_none) {
  Witnessed w;
  TrustAnchors with_policy = w.anchors;
  with_policy.policy =
      log::ParsePolicy("witness a " + w.a.VerifierKey() + "\nquorum none\n").value();
  JsonValue r = VerifyPack(w.evidence, with_policy, w.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(FindCheck(r, "checkpoint.quorum")->find("detail")->as_string() ==
             "cosigned by no policy witness; the policy needs none");
}

BOOST_AUTO_TEST_CASE(batch_and_audit_reports_get_the_quorum_of_their_newest_checkpoint) {
  Witnessed w;
  log::Policy policy = w.TwoOfThree();
  auto report = [&](const std::string& note) {
    return JsonValue::Object()
        .set("verdict", "VERIFIED")
        .set("summary", "fine")
        .set("log", JsonValue::Object().set("checkpoint", note))
        .set("checks", JsonValue::Array())
        .set("failures", JsonValue::Array());
  };
  JsonValue unwitnessed = report(w.evidence.checkpoint);
  AddQuorumCheck(unwitnessed, policy);
  BOOST_TEST(unwitnessed.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(unwitnessed.find("failures")->as_array().front().find("code")->as_string() ==
             "checkpoint.quorum");
  BOOST_TEST(unwitnessed.find("summary")->as_string().find("2 of {a, b, c}") != std::string::npos);

  JsonValue witnessed = report(w.CosignedBy({&w.a, &w.b, &w.c}));
  AddQuorumCheck(witnessed, policy);
  BOOST_TEST(witnessed.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(FindCheck(witnessed, "checkpoint.quorum")->find("detail")->as_string() ==
             "cosigned by a, b, c; the policy needs 2 of {a, b, c}");

  JsonValue none = JsonValue::Object()
                       .set("verdict", "VERIFIED")
                       .set("checks", JsonValue::Array())
                       .set("failures", JsonValue::Array());
  AddQuorumCheck(none, policy);
  BOOST_TEST(none.find("verdict")->as_string() == "FAILED");
}

BOOST_AUTO_TEST_SUITE_END()
