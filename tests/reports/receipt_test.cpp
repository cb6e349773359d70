// Participant receipts over a ledger built through a SupplyNode: a receipt holds the subject's
// enrolment, consent, withdrawal and the accesses to its records and nothing of another
// subject, verifies offline with the log key, and each tampering fails with its own code.
#include "pedigree/reports/receipt.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/base/time.h"
#include "pedigree/log/note.h"
#include "pedigree/log/policy.h"
#include "pedigree/log/storage.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonValue;
using pedigree::reports::testing::Strings;

namespace {

constexpr const char* kTrial = "T1";
// The reference secrets the site handed to two participants.
const std::string kSecret1 = "3f9c2a7e41d85b06c1e4f7a29d3b8e50";
const std::string kSecret2 = "a81d5e0c7b3f4a92e6d1c8b5f07a3e19";

// Sponsor "sp" runs T1 at site "s1"; two subjects consent, AE records of both are read together
// by a monitor, one record of subject 2 alone, and subject 1 withdraws.
class ReceiptScenario {
 public:
  ReceiptScenario() {
    node_ = services::SupplyNode::Create(dir(), "example.org/receipts", authority_.public_key())
                .value();
    node_->SetClock([this] { return now_; });
    Register("sp", "sponsor");
    Register("s1", "site");
    Register("mon", "site");
    Run();
  }

  std::string dir() const { return tmp_ / "ledger"; }
  log::Ledger& ledger() { return node_->ledger(); }
  const std::string ref1 = SubjectRefFromSecret(kSecret1);
  const std::string ref2 = SubjectRefFromSecret(kSecret2);
  const std::string leaf1 = ToHex(Sha256("ae of subject 1"));
  const std::string leaf2 = ToHex(Sha256("ae of subject 2"));
  uint64_t enrol1 = 0, consent1 = 0, consent2 = 0, both = 0, only2 = 0, withdraw1 = 0;

  uint64_t Do(const std::string& org, const std::string& kind, JsonValue p,
              const std::string& signer = "Dr Site", const std::string& meaning = "authorship") {
    now_ += 60;
    p.set("kind", kind).set("trialId", kTrial);
    p.set("signature", JsonValue::Object().set("name", signer).set("meaning", meaning));
    auto index = node_->SubmitAs(org, std::move(p));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    return *index;
  }

  uint64_t Access(const std::vector<std::string>& leaves) {
    return Do("sp", "trial.access",
              JsonValue::Object()
                  .set("reader", "mon")
                  .set("grantId", "MON-1")
                  .set("purpose", "monitor")
                  .set("domain", "AE")
                  .set("outcome", "granted")
                  .set("leaves", JsonValue::Strings(leaves)),
              "pedigree sponsor store (access record)", "responsibility");
  }

 private:
  void Register(const std::string& id, const std::string& role) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id + " Ltd", {role}, {}, {}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  void Run() {
    Do("sp", "trial.register",
       JsonValue::Object()
           .set("registryId", "2026-500123-45-00")
           .set("title", "A trial of examplamab")
           .set("sites", Strings({"s1"}))
           .set("arms", JsonValue::Array().push_back(
                            JsonValue::Object().set("code", "A").set("name", "Examplamab"))),
       "Dr Ada Example", "responsibility");
    Do("sp", "trial.protocol",
       JsonValue::Object()
           .set("protocolHash", ToHex(Sha256("protocol v1")))
           .set("version", "1.0")
           .set("outcomes", JsonValue::Object()
                                .set("primary", Strings({"HbA1c change at week 26"}))
                                .set("secondary", Strings({}))),
       "Dr Ada Example", "approval");
    Do("sp", "trial.consent_form",
       JsonValue::Object()
           .set("documentHash", ToHex(Sha256("ICF 1.0")))
           .set("version", "1.0")
           .set("country", "DE")
           .set("language", "de")
           .set("ethicsRef", "EK-117")
           .set("approved", "2026-10-01")
           .set("effective", "2026-10-15")
           .set("scopes", JsonValue::Object()
                              .set("core", Strings({"AE"}))
                              .set("substudy_pk", Strings({"PK"}))),
       "Dr Ada Example", "approval");
    enrol1 = Do("s1", "trial.enrol", JsonValue::Object().set("subjectRef", ref1).set("arm", "A"));
    Do("s1", "trial.enrol", JsonValue::Object().set("subjectRef", ref2).set("arm", "A"));
    auto consent = [&](const std::string& ref) {
      return Do("s1", "trial.consent",
                JsonValue::Object()
                    .set("subjectRef", ref)
                    .set("icfVersion", "1.0")
                    .set("consentTime", "2026-10-20T09:00:00Z")
                    .set("scopesGranted", Strings({"core"}))
                    .set("scopesDeclined", Strings({"substudy_pk"})));
    };
    consent1 = consent(ref1);
    consent2 = consent(ref2);
    auto records = JsonValue::Array();
    records.push_back(JsonValue::Object().set("leaf", leaf1).set("subjectRef", ref1));
    records.push_back(JsonValue::Object().set("leaf", leaf2).set("subjectRef", ref2));
    Do("s1", "trial.submit", JsonValue::Object().set("domain", "AE").set("records", records));
    Do("sp", "trial.grant",
       JsonValue::Object()
           .set("grantId", "MON-1")
           .set("grantee", "mon")
           .set("purpose", "monitor")
           .set("domains", Strings({"AE"}))
           .set("start", "2020-01-01T00:00:00Z")
           .set("expiry", "2040-01-01T00:00:00Z"),
       "Dr Ada Example", "approval");
    both = Access({leaf1, leaf2});
    only2 = Access({leaf2});
    withdraw1 = Do("s1", "trial.withdraw",
                   JsonValue::Object()
                       .set("subjectRef", ref1)
                       .set("withdrawalTime", FormatUtcTime(now_))
                       .set("dataChoice", "retain"));
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = 1'795'300'000;
  std::unique_ptr<services::SupplyNode> node_;
};

Receipt Gather(log::Ledger& ledger, const std::string& secret) {
  auto r = GatherReceipt(ledger, kTrial, secret);
  BOOST_REQUIRE_MESSAGE(r.has_value(), pedigree::testing::Why(r));
  return std::move(*r);
}

TrustAnchors Anchors(log::Ledger& ledger) {
  auto a = LedgerTrustAnchors(ledger);
  BOOST_REQUIRE(a.has_value());
  return *a;
}

// The receipt as the participant holds it: written to its file and read back.
Receipt RoundTrip(const Receipt& r) {
  auto back = ReadReceipt(WriteReceipt(r));
  BOOST_REQUIRE_MESSAGE(back.has_value(), pedigree::testing::Why(back));
  return std::move(*back);
}

std::string Verdict(const JsonValue& r) { return r.find("verdict")->as_string(); }

std::vector<std::string> FailureCodes(const JsonValue& r) {
  std::vector<std::string> codes;
  for (const JsonValue& f : r.find("failures")->as_array()) {
    codes.push_back(f.find("code")->as_string());
  }
  return codes;
}

std::string FirstFailure(const JsonValue& r) {
  auto codes = FailureCodes(r);
  return codes.empty() ? "none" : codes.front();
}

// Replaces the first occurrence of `from` in `text`.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(receipt)

BOOST_AUTO_TEST_CASE(receipt_holds_the_subjects_consent_withdrawal_and_accesses_and_verifies) {
  ReceiptScenario s;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  BOOST_TEST(r.subject_ref == s.ref1);
  BOOST_REQUIRE(r.leaves.size() == 1u);
  BOOST_TEST(r.leaves[0].leaf == s.leaf1);
  JsonValue report = VerifyReceipt(r, Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST_INFO(Canonicalize(report));
  BOOST_TEST(Verdict(report) == "VERIFIED");
  BOOST_TEST(report.find("log")->find("evidenceIndex")->as_string() == "signed");
  std::vector<uint64_t> shown;
  for (const JsonValue& e : report.find("events")->as_array()) {
    shown.push_back(static_cast<uint64_t>(e.find("index")->as_int()));
  }
  // The access to subject 2's record alone is not the participant's business.
  std::vector<uint64_t> expected{s.enrol1, s.consent1, s.both, s.withdraw1};
  BOOST_TEST(shown == expected, boost::test_tools::per_element());
  const JsonValue& access = report.find("events")->as_array()[2];
  BOOST_TEST(access.find("reader")->as_string() == "mon");
  BOOST_TEST(access.find("grantId")->as_string() == "MON-1");
  BOOST_TEST(access.find("subjectRecords")->as_int() == 1);
  BOOST_TEST(access.find("otherRecords")->as_int() == 1);
}

BOOST_AUTO_TEST_CASE(receipt_names_no_other_subject_reference) {
  ReceiptScenario s;
  std::string file = WriteReceipt(Gather(s.ledger(), kSecret1));
  BOOST_TEST(file.find(s.ref2) == std::string::npos);
  BOOST_TEST(file.find(s.ref1) != std::string::npos);
  BOOST_TEST(file.find(kSecret1) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_secret_is_receipt_subject_unknown_and_empty_secret_is_refused) {
  ReceiptScenario s;
  auto wrong = GatherReceipt(s.ledger(), kTrial, kSecret1 + "\n");
  BOOST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error().code() == "trial.receipt_subject_unknown");
  BOOST_TEST(wrong.error().field() == "subjectSecret");
  BOOST_TEST(wrong.error().message().find(kSecret1) == std::string::npos);
  auto empty = GatherReceipt(s.ledger(), kTrial, "");
  BOOST_REQUIRE(!empty.has_value());
  BOOST_TEST(empty.error().code() == "trial.bad_subject_secret");
  auto unknown = GatherReceipt(s.ledger(), "T9", kSecret1);
  BOOST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().code() == "trial.not_found");
}

BOOST_AUTO_TEST_CASE(edited_entry_fails_with_bad_signature_at_its_index) {
  ReceiptScenario s;
  std::string file = WriteReceipt(Gather(s.ledger(), kSecret1));
  // The consent's declined sub-study, turned into a granted one.
  file = Replace(file, R"(\"scopesDeclined\":[\"substudy_pk\"])", R"(\"scopesDeclined\":[])");
  auto edited = ReadReceipt(file);
  BOOST_REQUIRE_MESSAGE(edited.has_value(), pedigree::testing::Why(edited));
  JsonValue report = VerifyReceipt(*edited, Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FirstFailure(report) == "entry.bad_signature");
  BOOST_TEST(report.find("failures")->as_array()[0].find("index")->as_int() ==
             static_cast<int64_t>(s.consent1));
}

BOOST_AUTO_TEST_CASE(dropped_proof_hash_fails_with_wrong_proof_size) {
  ReceiptScenario s;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  for (EvidenceEntry& e : r.evidence.entries) {
    if (e.index == s.both) e.proof.pop_back();
  }
  JsonValue report = VerifyReceipt(RoundTrip(r), Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FailureCodes(report) == std::vector<std::string>{"merkle.wrong_proof_size"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checkpoint_from_another_log_fails_its_signature) {
  ReceiptScenario s, other;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  Receipt foreign = Gather(other.ledger(), kSecret1);
  r.evidence.checkpoint = foreign.evidence.checkpoint;
  JsonValue report = VerifyReceipt(RoundTrip(r), Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FirstFailure(report) == "note.no_verified_signature");
}

BOOST_AUTO_TEST_CASE(receipt_of_another_subject_fails_as_wrong_subject) {
  ReceiptScenario s;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret2));
  JsonValue report = VerifyReceipt(r, Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FailureCodes(report) == std::vector<std::string>{"receipt.wrong_subject"},
             boost::test_tools::per_element());
  // Subject 2's own receipt, with its own secret, holds both accesses to its record.
  JsonValue own = VerifyReceipt(r, Anchors(s.ledger()), kSecret2, 1'795'400'000);
  BOOST_TEST(Verdict(own) == "VERIFIED");
  BOOST_TEST(own.find("events")->size() == 4u);  // enrol, consent, two accesses
}

BOOST_AUTO_TEST_CASE(entry_of_another_subject_slipped_in_fails_as_not_about_subject) {
  ReceiptScenario s;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  Receipt r2 = Gather(s.ledger(), kSecret2);
  // Subject 2's consent, genuinely signed and in the log, passed off as subject 1's.
  const EvidenceEntry* theirs = nullptr;
  for (const EvidenceEntry& e : r2.evidence.entries) {
    if (e.index == s.consent2) theirs = &e;
  }
  BOOST_REQUIRE(theirs);
  auto& entries = r.evidence.entries;
  auto at = std::find_if(entries.begin(), entries.end(),
                         [&](const EvidenceEntry& e) { return e.index > theirs->index; });
  entries.insert(at, *theirs);
  JsonValue report = VerifyReceipt(RoundTrip(r), Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FailureCodes(report) ==
                 (std::vector<std::string>{"bundle.unlisted_entry", "receipt.not_about_subject"}),
             boost::test_tools::per_element());
}

// The log signs which entries the receipt holds: an access left out is caught offline.
BOOST_AUTO_TEST_CASE(access_left_out_of_the_receipt_fails_as_incomplete) {
  ReceiptScenario s;
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  BOOST_REQUIRE(!r.evidence.evidence_index.empty());
  auto& entries = r.evidence.entries;
  entries.erase(std::find_if(entries.begin(), entries.end(),
                             [&](const EvidenceEntry& e) { return e.index == s.both; }));
  JsonValue report = VerifyReceipt(RoundTrip(r), Anchors(s.ledger()), kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "FAILED");
  BOOST_TEST(FailureCodes(report) == std::vector<std::string>{"bundle.incomplete"},
             boost::test_tools::per_element());
  BOOST_TEST(report.find("failures")->as_array()[0].find("index")->as_int() ==
             static_cast<int64_t>(s.both));
}

// The node stores the cosignatures its witnesses returned beside the checkpoint; the receipt's
// checkpoint carries them, and a witness policy's quorum is checked on it.
BOOST_AUTO_TEST_CASE(receipt_checkpoint_carries_witness_cosignatures_and_meets_the_quorum) {
  ReceiptScenario s;
  log::NoteSigner a{"a.example/witness", log::PrivateKey::Generate(),
                    log::NoteKeyType::kCosignatureV1};
  log::NoteSigner b{"b.example/witness", log::PrivateKey::Generate(),
                    log::NoteKeyType::kCosignatureV1};
  auto checkpoint = s.ledger().SignCheckpoint();
  BOOST_REQUIRE(checkpoint.has_value());
  std::string cosigned = checkpoint->note;
  for (const auto* w : {&a, &b}) cosigned = log::Cosign(cosigned, *w, 1'795'400'000).value();
  BOOST_REQUIRE(log::MergeCosignatures(s.ledger().storage(), checkpoint->size,
                                       cosigned.substr(checkpoint->note.size()))
                    .has_value());
  TrustAnchors anchors = Anchors(s.ledger());
  anchors.policy =
      log::ParsePolicy("log " + anchors.log.ToString() + "\nwitness a " + a.VerifierKey() +
                       "\nwitness b " + b.VerifierKey() + "\ngroup q 2 a b\nquorum q\n")
          .value();
  Receipt r = RoundTrip(Gather(s.ledger(), kSecret1));
  BOOST_TEST(r.evidence.checkpoint == cosigned);
  JsonValue report = VerifyReceipt(r, anchors, kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(report) == "VERIFIED", Canonicalize(report));
  BOOST_TEST(report.find("log")->find("quorum")->find("met")->as_bool());

  // The same receipt with the witnesses' lines dropped misses the quorum.
  r.evidence.checkpoint = checkpoint->note;
  JsonValue bare = VerifyReceipt(RoundTrip(r), anchors, kSecret1, 1'795'400'000);
  BOOST_TEST(Verdict(bare) == "FAILED");
  BOOST_TEST(FailureCodes(bare) == std::vector<std::string>{"checkpoint.quorum"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(malformed_receipt_files_are_refused_naming_the_member) {
  ReceiptScenario s;
  std::string file = WriteReceipt(Gather(s.ledger(), kSecret1));
  auto code = [](const std::string& text) {
    auto r = ReadReceipt(text);
    BOOST_REQUIRE(!r.has_value());
    return r.error().code() + " " + r.error().field();
  };
  BOOST_TEST(code("{") == "receipt.json ");
  BOOST_TEST(code(Replace(file, "pedigree-receipt/v1", "pedigree-bundle/v2")) ==
             "receipt.format format");
  BOOST_TEST(code(Replace(file, "\"subjectRef\":\"" + s.ref1, "\"subjectRef\":\"XY")) ==
             "receipt.bad_field subjectRef");
  BOOST_TEST(code(Replace(file, "\"trialId\"", "\"trial\"")) == "receipt.missing_field trialId");
}

BOOST_AUTO_TEST_SUITE_END()
