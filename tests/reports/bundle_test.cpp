// The offline bundle: it round-trips the evidence, verifies to the same report as the ledger,
// and one flipped bit anywhere in its cryptographic content fails with that bit's reason.
#include "pedigree/reports/bundle.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/log/envelope.h"
#include "pedigree/reports/evidence_index.h"
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

BOOST_AUTO_TEST_CASE(bundle_that_omits_a_receipt_is_incomplete_and_breaks_the_custody_replay) {
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
  // The log's signed evidence index lists the receipt: the omission itself is the failure.
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "bundle.incomplete");
  BOOST_TEST(FirstFailure(r).find("index")->as_int() == static_cast<int64_t>(receive));
  BOOST_TEST(r.find("failures")->size() == 1u);
  // And the story no longer holds: the wholesaler unpacks a case still in transit to it.
  const JsonValue& v = r.find("violations")->as_array().front();
  BOOST_TEST(v.find("code")->as_string() == "rules.not_in_custody");
  BOOST_TEST(v.find("org")->as_string() == "wh");
  BOOST_TEST(v.find("index")->as_int() > static_cast<int64_t>(receive));
}

BOOST_AUTO_TEST_CASE(authentic_entry_about_another_pack_is_unlisted_and_an_unrelated_event) {
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
  BOOST_TEST(r.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "bundle.unlisted_entry");
  BOOST_TEST(FirstFailure(r).find("index")->as_int() == static_cast<int64_t>(other));
  BOOST_TEST(r.find("failures")->size() == 1u);
  BOOST_TEST(r.find("violations")->as_array().front().find("code")->as_string() ==
             "rules.unrelated_event");
  BOOST_TEST(r.find("subject")->find("status")->as_string() == "supplied");
  // Without the index (v1) the replay alone still flags it.
  s1.evidence_index.clear();
  s1.evidence_index_signature.clear();
  r = VerifyPack(ReadBundle(WriteBundle(s1)).value(), anchors, s.now());
  BOOST_TEST(r.find("verdict")->as_string() == "SUSPECT");
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

namespace {

// A chain with a recall and a revoked registry key: the wholesaler is given a second key, which
// the authority then revokes. Every omission below is of an entry the pack's evidence needs.
struct Recalled {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  uint64_t key_add = 0, revoke = 0, recall = 0;
  PackEvidence evidence;
  TrustAnchors anchors = LedgerTrustAnchors(s.node().ledger()).value();

  Recalled() {
    std::string key = ToBase64(log::PrivateKey::Generate().public_key().raw());
    key_add = s.node()
                  .SubmitAsAuthority(s.authority(), "org.key_add", "add-wh-2",
                                     JsonValue::Object()
                                         .set("id", "wh")
                                         .set("key", key)
                                         .set("validFrom", FormatUtcTime(s.now())))
                  .value();
    revoke = s.node()
                 .SubmitAsAuthority(s.authority(), "org.key_revoke", "revoke-wh-2",
                                    JsonValue::Object()
                                        .set("id", "wh")
                                        .set("key", key)
                                        .set("revokedAt", FormatUtcTime(s.now())))
                 .value();
    s.Recall();
    recall = s.node().ledger().size() - 1;
    evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1")).value();
  }
  // The bundle without the entries `dropped`, verified as a reader would.
  JsonValue Without(std::initializer_list<uint64_t> dropped) const {
    PackEvidence e = ReadBundle(WriteBundle(evidence)).value();
    std::erase_if(e.entries, [&](const EvidenceEntry& x) {
      return std::find(dropped.begin(), dropped.end(), x.index) != dropped.end();
    });
    return VerifyPack(ReadBundle(WriteBundle(e)).value(), anchors, s.now());
  }
  static std::vector<uint64_t> Missing(const JsonValue& r) {
    std::vector<uint64_t> out;
    for (const JsonValue& f : r.find("failures")->as_array()) {
      if (f.find("code")->as_string() == "bundle.incomplete") {
        out.push_back(static_cast<uint64_t>(f.find("index")->as_int()));
      }
    }
    return out;
  }
};

const JsonValue* CheckNamed(const JsonValue& r, const std::string& id) {
  for (const JsonValue& c : r.find("checks")->as_array()) {
    if (c.find("id")->as_string() == id) return &c;
  }
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(evidence_index)

BOOST_AUTO_TEST_CASE(whole_bundle_proves_its_completeness) {
  Recalled r;
  auto index = ParseEvidenceIndex(r.evidence.evidence_index);
  BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  BOOST_TEST(index->subject == SupplyScenario::Pack("S1"));
  BOOST_TEST(index->origin == r.s.node().ledger().origin());
  BOOST_TEST(index->entries.size() == r.evidence.entries.size());
  for (uint64_t i : {r.dispense, r.key_add, r.revoke, r.recall}) {
    BOOST_TEST(std::count(index->entries.begin(), index->entries.end(), i) == 1);
  }
  JsonValue report = r.Without({});
  BOOST_TEST(report.find("verdict")->as_string() == "SUSPECT");  // recalled, and supplied
  BOOST_TEST(report.find("failures")->size() == 0u);
  BOOST_TEST(CheckNamed(report, "evidence.complete")->find("result")->as_string() == "pass");
  BOOST_TEST(report.find("log")->find("evidenceIndex")->as_string() == "signed");
}

BOOST_AUTO_TEST_CASE(bundle_without_the_recall_and_the_dispense_is_incomplete_naming_both) {
  Recalled r;
  JsonValue report = r.Without({r.recall, r.dispense});
  // What the attack wanted: an active, genuine pack. What it gets: FAILED, naming the entries.
  BOOST_TEST(report.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(report.find("subject")->find("status")->as_string() == "active");
  BOOST_TEST((Recalled::Missing(report) == std::vector<uint64_t>{r.dispense, r.recall}));
  BOOST_TEST(FirstFailure(report).find("code")->as_string() == "bundle.incomplete");
  BOOST_TEST(CheckNamed(report, "evidence.complete")->find("result")->as_string() == "fail");
}

BOOST_AUTO_TEST_CASE(bundle_without_the_recall_alone_is_incomplete) {
  Recalled r;
  JsonValue report = r.Without({r.recall});
  BOOST_TEST(report.find("verdict")->as_string() == "FAILED");
  BOOST_TEST((Recalled::Missing(report) == std::vector<uint64_t>{r.recall}));
}

BOOST_AUTO_TEST_CASE(bundle_without_a_registry_revocation_is_incomplete) {
  Recalled r;
  JsonValue report = r.Without({r.revoke});
  BOOST_TEST(report.find("verdict")->as_string() == "FAILED");
  BOOST_TEST((Recalled::Missing(report) == std::vector<uint64_t>{r.revoke}));
}

BOOST_AUTO_TEST_CASE(tampered_index_or_signature_fails_the_signature) {
  Recalled r;
  auto verify = [&](const std::function<void(PackEvidence&)>& edit) {
    PackEvidence e = ReadBundle(WriteBundle(r.evidence)).value();
    edit(e);
    return VerifyPack(ReadBundle(WriteBundle(e)).value(), r.anchors, r.s.now());
  };
  JsonValue flipped = verify([](PackEvidence& e) {
    Bytes sig = FromBase64(e.evidence_index_signature).value();
    sig[7] ^= 0x04;
    e.evidence_index_signature = ToBase64(sig);
  });
  BOOST_TEST(flipped.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(flipped).find("code")->as_string() == "bundle.index_signature");
  // Dropping the recall from the bundle and from its index: the signature no longer holds.
  JsonValue rewritten = verify([&](PackEvidence& e) {
    EvidenceIndex index = ParseEvidenceIndex(e.evidence_index).value();
    std::erase(index.entries, r.recall);
    e.evidence_index = FormatEvidenceIndex(index);
    std::erase_if(e.entries, [&](const EvidenceEntry& x) { return x.index == r.recall; });
  });
  BOOST_TEST(rewritten.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(rewritten).find("code")->as_string() == "bundle.index_signature");
  // An index signed by another key (a forger's own log key).
  JsonValue forged = verify([&](PackEvidence& e) {
    log::PrivateKey other = log::PrivateKey::Generate();
    e.evidence_index_signature =
        ToBase64(other.Sign(std::string(kEvidenceIndexPrefix) + e.evidence_index));
  });
  BOOST_TEST(FirstFailure(forged).find("code")->as_string() == "bundle.index_signature");
}

BOOST_AUTO_TEST_CASE(index_signed_for_another_pack_is_a_mismatch) {
  Recalled r;
  PackEvidence s2 = GatherPackEvidence(r.s.node().ledger(), SupplyScenario::Pack("S2")).value();
  PackEvidence e = r.evidence;
  e.evidence_index = s2.evidence_index;
  e.evidence_index_signature = s2.evidence_index_signature;
  JsonValue report = VerifyPack(e, r.anchors, r.s.now());
  BOOST_TEST(report.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(FirstFailure(report).find("code")->as_string() == "bundle.index_mismatch");
}

BOOST_AUTO_TEST_CASE(v1_bundle_verifies_with_a_warning_that_completeness_is_not_proven) {
  Bundled b;
  PackEvidence v1 = b.evidence;
  v1.evidence_index.clear();
  v1.evidence_index_signature.clear();
  std::string text = WriteBundle(v1);
  BOOST_TEST(text.find("\"format\":\"pedigree-bundle/v1\"") != std::string::npos);
  JsonValue report = VerifyPack(ReadBundle(text).value(), b.anchors, b.s.now());
  BOOST_TEST(report.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(CheckNamed(report, "evidence.complete")->find("result")->as_string() == "warn");
  BOOST_TEST(report.find("log")->find("evidenceIndex")->as_string() == "absent");
  BOOST_TEST(report.find("summary")->as_string().find("Completeness is not proven") !=
             std::string::npos);
  // A v1 label on a bundle that carries an index is refused rather than read without it.
  auto relabelled = pedigree::ParseJson(WriteBundle(b.evidence)).value();
  relabelled.set("format", "pedigree-bundle/v1");
  BOOST_TEST(ReadBundle(pedigree::Canonicalize(relabelled)).error().code() == "bundle.format");
}

BOOST_AUTO_TEST_CASE(evidence_index_has_one_canonical_form) {
  EvidenceIndex index{"example.org/log", 10, "https://id.gs1.org/01/x/21/y", {1, 4, 9}};
  std::string text = FormatEvidenceIndex(index);
  BOOST_TEST(text ==
             "{\"entries\":[1,4,9],\"origin\":\"example.org/log\",\"size\":10,"
             "\"subject\":\"https://id.gs1.org/01/x/21/y\"}");
  BOOST_TEST(ParseEvidenceIndex(text).value().entries == index.entries);
  for (const std::string& bad : {
           std::string("{\"entries\":[4,1],\"origin\":\"o\",\"size\":10,\"subject\":\"s\"}"),
           std::string("{\"entries\":[10],\"origin\":\"o\",\"size\":10,\"subject\":\"s\"}"),
           std::string("{\"origin\":\"o\",\"size\":10,\"subject\":\"s\",\"entries\":[]}"),
           std::string(
               "{\"entries\":[],\"extra\":1,\"origin\":\"o\",\"size\":1,\"subject\":\"s\"}"),
       }) {
    BOOST_TEST_INFO(bad);
    BOOST_TEST(ParseEvidenceIndex(bad).error().code() == "bundle.bad_index");
  }
}

BOOST_AUTO_TEST_CASE(signed_index_is_checked_against_the_log_and_a_false_one_is_caught) {
  Recalled r;
  log::Ledger& ledger = r.s.node().ledger();
  auto honest =
      CheckEvidenceIndex(ledger, r.evidence.evidence_index, r.evidence.evidence_index_signature);
  BOOST_REQUIRE_MESSAGE(honest.has_value(), pedigree::testing::Why(honest));
  BOOST_TEST(honest->holds());
  // Later entries do not change what the index had to list at its size.
  r.s.Decommission("ph1", "S2", "destroyed", r.s.ph1_gln);
  BOOST_TEST(
      CheckEvidenceIndex(ledger, r.evidence.evidence_index, r.evidence.evidence_index_signature)
          ->holds());
  // The operator signs an index without the recall: a bundle made with it verifies complete
  // offline, but the signed index is proof of the omission to anyone holding the log.
  EvidenceIndex index = ParseEvidenceIndex(r.evidence.evidence_index).value();
  std::erase(index.entries, r.recall);
  PackEvidence lying = r.evidence;
  lying.evidence_index = FormatEvidenceIndex(index);
  lying.evidence_index_signature = SignEvidenceIndex(ledger, lying.evidence_index);
  std::erase_if(lying.entries, [&](const EvidenceEntry& x) { return x.index == r.recall; });
  JsonValue offline = VerifyPack(ReadBundle(WriteBundle(lying)).value(), r.anchors, r.s.now());
  BOOST_TEST(CheckNamed(offline, "evidence.complete")->find("result")->as_string() == "pass");
  auto caught = CheckEvidenceIndex(ledger, lying.evidence_index, lying.evidence_index_signature);
  BOOST_REQUIRE(caught.has_value());
  BOOST_TEST(!caught->holds());
  BOOST_TEST((caught->omitted == std::vector<uint64_t>{r.recall}));
  // Not signed by this log: refused, not judged.
  BOOST_TEST(CheckEvidenceIndex(ledger, r.evidence.evidence_index,
                                ToBase64(log::PrivateKey::Generate().Sign("x")))
                 .error()
                 .code() == "bundle.index_signature");
}

BOOST_AUTO_TEST_SUITE_END()
