// What a disclosure writes to the ledger (docs/consent.md, "The access record"; issue 17's
// ≤ 1 ms p99): a grantee's read commits exactly its trial.access and nothing else, the
// sponsor's own read writes nothing, and the disclosure's checkpoint is the newest stored one
// covering the seal; one is signed and stored only while none covers it.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/log/note.h"
#include "pedigree/provenance/trial_seal.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/trial_store.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

using pedigree::testing::TempDir;
using pedigree::testing::Why;

const TrialSigner kSponsor{"sp", "Dr Sam Sponsor", "approval"};
const std::string kKey = "T1|T1-1001";

// A node with sponsor "sp", site "s1" and monitor "mon" (keys held), trial T1 with three
// sealed DM records, and grant MON-1 of DM to "mon".
struct SealedTrial {
  TempDir dir;
  std::unique_ptr<SupplyNode> node;
  std::unique_ptr<SponsorStore> store;
  std::unique_ptr<TrialWorkflow> workflow;
  uint64_t seal_index = 0;

  SealedTrial() {
    const log::PrivateKey authority = log::PrivateKey::Generate();
    auto created =
        SupplyNode::Create(dir / "ledger", "example.org/disclosures", authority.public_key());
    if (!created) BOOST_FAIL(Why(created));
    node = std::move(*created);
    for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"mon", "site"}}) {
      const log::PrivateKey key = log::PrivateKey::Generate();
      BOOST_REQUIRE(node->HoldKey(org, key).has_value());
      auto index = node->RegisterOrg(authority,
                                     {org, org, {role}, {}, {}, ToBase64(key.public_key().raw())});
      if (!index) BOOST_FAIL(Why(index));
    }
    auto opened = SponsorStore::Open(dir / "store.sqlite");
    if (!opened) BOOST_FAIL(Why(opened));
    store = std::move(*opened);
    workflow = std::make_unique<TrialWorkflow>(*node, store.get());
    Must(workflow->Submit(
        kSponsor, "trial.register", "T1",
        JsonValue::Object()
            .set("registryId", "NCT01234567")
            .set("title", "Disclosures")
            .set("sites", JsonValue::Array().push_back(JsonValue("s1")))
            .set("arms", JsonValue::Array().push_back(
                             JsonValue::Object().set("code", "A").set("name", "Active")))));
    Must(workflow->SealProtocol(kSponsor, "T1", "protocol", "1", {"HbA1c"}, {}));
    {
      std::ofstream csv(dir / "dm.csv");
      csv << "STUDYID,DOMAIN,USUBJID,AGE\nT1,DM,T1-1000,40\nT1,DM,T1-1001,41\nT1,DM,T1-1002,42\n";
    }
    auto dataset = scanner::ParseTrialFile(dir / "dm.csv", {});
    if (!dataset) BOOST_FAIL(Why(dataset));
    Must(workflow->SubmitDataset({"s1", "Dr Ada Site", "authorship"}, "T1", *dataset));
    Must(workflow->Lock(kSponsor, "T1", "DM", "hard_lock"));
    auto sealed = workflow->Seal(kSponsor, "T1", "DM");
    if (!sealed) BOOST_FAIL(Why(sealed));
    seal_index = node->ledger().size() - 1;
    Must(workflow->Submit(kSponsor, "trial.grant", "T1",
                          JsonValue::Object()
                              .set("grantId", "MON-1")
                              .set("grantee", "mon")
                              .set("purpose", "monitor")
                              .set("domains", JsonValue::Strings({"DM"}))
                              .set("start", "2000-01-01T00:00:00Z")
                              .set("expiry", "2100-01-01T00:00:00Z")));
  }

  template <typename R>
  void Must(const R& r) {
    if (!r) BOOST_FAIL(Why(r));
  }

  std::vector<uint64_t> CheckpointSizes() {
    auto sizes = node->ledger().storage().CheckpointSizes();
    if (!sizes) BOOST_FAIL(Why(sizes));
    return *sizes;
  }

  // The disclosure verified with the log's key alone; returns its checkpoint's size.
  uint64_t VerifiedCheckpointSize(const provenance::Disclosure& d) {
    auto verifier = log::NoteVerifier::Parse(node->ledger().VerifierKey());
    if (!verifier) BOOST_FAIL(Why(verifier));
    auto verified = provenance::VerifyDisclosure(d, std::span(&*verifier, 1));
    if (!verified) BOOST_FAIL(Why(verified));
    BOOST_TEST(verified->record_key == kKey);
    return verified->checkpoint.size;
  }
};

BOOST_AUTO_TEST_SUITE(trial_disclosure_writes)

BOOST_AUTO_TEST_CASE(a_disclosure_signs_and_stores_a_checkpoint_only_while_none_covers_the_seal) {
  SealedTrial t;
  const auto before = t.CheckpointSizes();
  BOOST_REQUIRE(!before.empty());
  BOOST_REQUIRE_MESSAGE(before.back() <= t.seal_index, "a checkpoint already covers the seal");
  const uint64_t size = t.node->ledger().size();

  auto first = t.workflow->Disclose("T1", "DM", kKey);
  if (!first) BOOST_FAIL(Why(first));
  BOOST_TEST(t.VerifiedCheckpointSize(*first) == size);
  BOOST_TEST(t.CheckpointSizes().back() == size);

  // The log grows; the stored checkpoint still covers the seal and serves the next read.
  t.Must(t.workflow->Submit(kSponsor, "trial.revoke_grant", "T1",
                            JsonValue::Object().set("grantId", "MON-1")));
  const auto stored = t.CheckpointSizes();
  auto second = t.workflow->Disclose("T1", "DM", kKey);
  if (!second) BOOST_FAIL(Why(second));
  BOOST_TEST(t.VerifiedCheckpointSize(*second) == size);
  BOOST_TEST(t.CheckpointSizes() == stored, "a read stored a checkpoint");
  BOOST_TEST(t.node->ledger().size() == size + 1);
}

BOOST_AUTO_TEST_CASE(a_grantees_disclosure_commits_its_access_and_nothing_else) {
  SealedTrial t;
  auto own = t.workflow->Disclose("T1", "DM", kKey);  // signs the checkpoint covering the seal
  if (!own) BOOST_FAIL(Why(own));
  const auto stored = t.CheckpointSizes();

  for (int read = 0; read < 3; ++read) {
    const uint64_t size = t.node->ledger().size();
    auto granted = t.workflow->DiscloseFor("mon", "T1", "DM", kKey);
    if (!granted) BOOST_FAIL(Why(granted));
    BOOST_TEST(t.VerifiedCheckpointSize(*granted) == stored.back());
    BOOST_REQUIRE(t.node->ledger().size() == size + 1);  // the access, durable
    auto entry = t.node->ledger().Entry(size);
    if (!entry) BOOST_FAIL(Why(entry));
    auto envelope = ParseJson(*entry);
    if (!envelope) BOOST_FAIL(Why(envelope));
    const JsonValue& p = *envelope->find("payload");
    BOOST_TEST(p.find("kind")->as_string() == "trial.access");
    BOOST_TEST(p.find("reader")->as_string() == "mon");
    BOOST_TEST(p.find("leaves")->as_array().at(0).as_string() == ToHex(granted->leaf));

    // The sponsor's own read after it: nothing written.
    auto again = t.workflow->Disclose("T1", "DM", kKey);
    if (!again) BOOST_FAIL(Why(again));
    BOOST_TEST(t.node->ledger().size() == size + 1);
  }
  BOOST_TEST(t.CheckpointSizes() == stored, "a read stored a checkpoint");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
