// The offline bundle: it round-trips the evidence, verifies to the same report as the ledger,
// and one flipped bit anywhere in its cryptographic content fails with that bit's reason.
#include "pedigree/reports/bundle.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/log/envelope.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonValue;
using pedigree::reports::testing::SupplyScenario;

namespace {

struct Bundled {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  PackEvidence evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1")).value();
  TrustAnchors anchors = LedgerTrustAnchors(s.node().ledger()).value();

  // Writes the bundle, lets `edit` change its evidence, and verifies what a reader reads back.
  JsonValue VerifyEdited(const std::function<void(PackEvidence&)>& edit) {
    PackEvidence read = ReadBundle(WriteBundle(evidence)).value();
    edit(read);
    auto reread = ReadBundle(WriteBundle(read));
    BOOST_REQUIRE_MESSAGE(reread.has_value(), pedigree::testing::Why(reread));
    return VerifyPack(*reread, anchors, s.now());
  }
  size_t Position(uint64_t index) const {
    for (size_t i = 0; i < evidence.entries.size(); ++i) {
      if (evidence.entries[i].index == index) return i;
    }
    BOOST_FAIL("no such entry");
    return 0;
  }
};

const JsonValue& FirstFailure(const JsonValue& r) { return r.find("failures")->as_array().front(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(bundle)

BOOST_AUTO_TEST_CASE(bundle_and_ledger_give_the_same_report) {
  Bundled b;
  std::string text = WriteBundle(b.evidence);
  auto read = ReadBundle(text);
  BOOST_REQUIRE_MESSAGE(read.has_value(), pedigree::testing::Why(read));
  BOOST_TEST(WriteBundle(*read) == text);
  JsonValue from_ledger = VerifyPack(b.evidence, b.anchors, b.s.now());
  JsonValue from_bundle = VerifyPack(*read, b.anchors, b.s.now());
  BOOST_TEST(from_bundle.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(pedigree::Canonicalize(from_bundle) == pedigree::Canonicalize(from_ledger));
}

BOOST_AUTO_TEST_CASE(tlog_proof_text_round_trips_and_bad_forms_are_rejected) {
  Hash h{};
  h[0] = 0xab;
  TlogProof p{{1, 2, 3}, 17, {h, h}, "example.org/log\n1\nAAAA\n\n— example.org/log sig\n"};
  std::string text = FormatTlogProof(p);
  BOOST_TEST(text.rfind("c2sp.org/tlog-proof@v1\nextra AQID\nindex 17\n", 0) == 0u);
  auto back = ParseTlogProof(text);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->index == 17u);
  BOOST_TEST(back->path.size() == 2u);
  BOOST_TEST(back->checkpoint == p.checkpoint);
  struct Bad {
    std::string text;
    std::string field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"c2sp.org/tlog-proof@v2\nindex 1\n\ncp\n", "header"},
           {"c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n", "index"},
           {"c2sp.org/tlog-proof@v1\nindex x\n\ncp\n", "index"},
           {"c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\ncp\n", "extra"},
           {"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\ncp\n", "path"},
           {"c2sp.org/tlog-proof@v1\nindex 1\n", "path"},
           {"c2sp.org/tlog-proof@v1\nindex 1\n\n", "checkpoint"},
       }) {
    auto r = ParseTlogProof(bad.text);
    BOOST_TEST_INFO(bad.text);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code() == "bundle.bad_proof");
    BOOST_TEST(r.error().field() == bad.field);
  }
}

BOOST_AUTO_TEST_CASE(structural_errors_name_the_field) {
  Bundled b;
  std::string good = WriteBundle(b.evidence);
  auto parsed = pedigree::ParseJson(good).value();
  auto edited = [&](const std::function<void(JsonValue&)>& f) {
    JsonValue copy = parsed;
    f(copy);
    return ReadBundle(pedigree::Canonicalize(copy));
  };
  BOOST_TEST(ReadBundle("{").error().code() == "bundle.json");
  BOOST_TEST(edited([](JsonValue& v) { v.set("format", "pedigree-bundle/v0"); }).error().code() ==
             "bundle.format");
  auto missing = edited([](JsonValue& v) {
    auto& e = v.find("entries")->as_array()[2].as_object();
    e.erase(e.begin());  // "entry"
  });
  BOOST_TEST(missing.error().code() == "bundle.missing_field");
  BOOST_TEST(missing.error().field() == "entries[2].entry");
  auto wrong_index = edited([](JsonValue& v) { v.find("entries")->as_array()[1].set("index", 0); });
  BOOST_TEST(wrong_index.error().code() == "bundle.proof_index");
  auto swapped = edited([](JsonValue& v) {
    auto& a = v.find("entries")->as_array();
    std::swap(a[1], a[2]);
  });
  BOOST_TEST(swapped.error().code() == "bundle.order");
  auto other_cp = edited([](JsonValue& v) { v.set("checkpoint", "example.org/other\n"); });
  BOOST_TEST(other_cp.error().code() == "bundle.proof_checkpoint");
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_a_proof_hash_fails_inclusion_at_that_index) {
  Bundled b;
  size_t at = b.Position(b.dispense);
  JsonValue r = b.VerifyEdited([&](PackEvidence& e) { e.entries[at].proof[0][5] ^= 0x10; });
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "merkle.root_mismatch");
  BOOST_TEST(FirstFailure(r).find("index")->as_int() == static_cast<int64_t>(b.dispense));
  BOOST_TEST(FirstFailure(r).find("expected")->as_string() !=
             FirstFailure(r).find("actual")->as_string());
  BOOST_TEST(r.find("failures")->size() == 1u);  // the signature still holds
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_an_entry_signature_fails_the_signature) {
  Bundled b;
  size_t at = b.Position(b.dispense);
  JsonValue r = b.VerifyEdited([&](PackEvidence& e) {
    JsonValue env = pedigree::ParseJson(e.entries[at].envelope).value();
    Bytes sig = FromBase64(env.find("sig")->as_string()).value();
    sig[10] ^= 0x01;
    env.set("sig", ToBase64(sig));
    e.entries[at].envelope = pedigree::Canonicalize(env);
  });
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "entry.bad_signature");
  BOOST_TEST(FirstFailure(r).find("index")->as_int() == static_cast<int64_t>(b.dispense));
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_an_entry_payload_fails_signature_and_inclusion) {
  Bundled b;
  size_t at = b.Position(b.dispense);
  JsonValue r = b.VerifyEdited([&](PackEvidence& e) {
    std::string& env = e.entries[at].envelope;
    size_t pos = env.find("supplied");
    BOOST_REQUIRE(pos != std::string::npos);
    env[pos] ^= 0x01;  // 's' -> 'r'
  });
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "entry.bad_signature");
  BOOST_TEST(r.find("failures")->as_array()[1].find("code")->as_string() == "merkle.root_mismatch");
}

BOOST_AUTO_TEST_CASE(flipped_bit_in_the_checkpoint_signature_fails_the_checkpoint) {
  Bundled b;
  JsonValue r = b.VerifyEdited([&](PackEvidence& e) {
    size_t dash = e.checkpoint.rfind(' ');
    std::string sig = e.checkpoint.substr(dash + 1, e.checkpoint.size() - dash - 2);
    Bytes raw = FromBase64(sig).value();
    raw[20] ^= 0x80;
    e.checkpoint = e.checkpoint.substr(0, dash + 1) + ToBase64(raw) + "\n";
    for (auto& entry : e.entries) (void)entry;
  });
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "note.bad_signature");
  BOOST_TEST(r.find("checks")->as_array()[0].find("id")->as_string() == "checkpoint.signature");
}

BOOST_AUTO_TEST_CASE(bundle_that_omits_a_receipt_is_suspect_by_the_custody_replay) {
  Bundled b;
  uint64_t receive = 0;
  JsonValue r = b.VerifyEdited([&](PackEvidence& e) {
    for (auto it = e.entries.begin(); it != e.entries.end(); ++it) {
      if (it->envelope.find("\"kind\":\"receive\"") != std::string::npos) {
        receive = it->index;
        e.entries.erase(it);
        return;
      }
    }
  });
  BOOST_REQUIRE(receive != 0u);
  // Every remaining entry is authentic, so the verdict is not FAILED, but the story no
  // longer holds: the wholesaler unpacks a case still in transit to it.
  BOOST_TEST(r.find("verdict")->as_string() == "SUSPECT");
  const JsonValue& v = r.find("violations")->as_array().front();
  BOOST_TEST(v.find("code")->as_string() == "rules.not_in_custody");
  BOOST_TEST(v.find("org")->as_string() == "wh");
  BOOST_TEST(v.find("index")->as_int() > static_cast<int64_t>(receive));
}

BOOST_AUTO_TEST_CASE(authentic_entry_about_another_pack_is_an_unrelated_event) {
  SupplyScenario s;
  s.RunChain();
  uint64_t other = s.Decommission("ph1", "S2", "destroyed", s.ph1_gln);
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());
  // Both packs' evidence is proved against the same, newest checkpoint.
  PackEvidence s2 = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S2")).value();
  PackEvidence s1 = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1")).value();
  for (const auto& e : s2.entries) {
    if (e.index == other) s1.entries.push_back(e);
  }
  auto anchors = LedgerTrustAnchors(s.node().ledger()).value();
  JsonValue r = VerifyPack(ReadBundle(WriteBundle(s1)).value(), anchors, s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(*r.find("failures")));
  BOOST_TEST(r.find("verdict")->as_string() == "SUSPECT");
  BOOST_TEST(r.find("violations")->as_array().front().find("code")->as_string() ==
             "rules.unrelated_event");
  BOOST_TEST(r.find("subject")->find("status")->as_string() == "supplied");
}

BOOST_AUTO_TEST_CASE(untrusted_authority_key_fails_the_registry) {
  Bundled b;
  TrustAnchors other = b.anchors;
  other.authority = log::PrivateKey::Generate().public_key();
  JsonValue r = VerifyPack(ReadBundle(WriteBundle(b.evidence)).value(), other, b.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "registry.authority_mismatch");
  // Without a pinned authority the evidence's key is used, with a warning.
  other.authority.reset();
  r = VerifyPack(b.evidence, other, b.s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "VERIFIED");
}

BOOST_AUTO_TEST_SUITE_END()
