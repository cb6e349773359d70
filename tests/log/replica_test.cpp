// The replica ledger a mirror keeps: a node's leaves copied verbatim, each batch checked
// against the log's signed checkpoint and the model's rules before anything is stored.
#include "pedigree/log/replica.h"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/mirror_protocol.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::TempDir;
using pedigree::testing::Why;

namespace {

constexpr const char* kOrigin = "example.org/mirrored-log";

std::string SignedEntry(const PrivateKey& key, int64_t n) {
  auto payload = JsonValue::Object();
  payload.set("kind", JsonValue(std::string("test")));
  payload.set("n", JsonValue(n));
  return SignEntry(payload, key, kOrigin).value();
}

// A node log with `n` entries and its latest checkpoint, and an empty replica of it.
struct Fixture {
  TempDir tmp;
  std::unique_ptr<Ledger> node;
  std::unique_ptr<Replica> replica;
  PrivateKey author = PrivateKey::Generate();
  uint64_t now = 1'800'000'000;

  explicit Fixture(int n, ReplicaOptions options = {}) {
    auto created = Ledger::Create(tmp / "node", kOrigin);
    BOOST_REQUIRE_MESSAGE(created.has_value(), Why(created));
    node = std::move(*created);
    for (int i = 0; i < n; ++i) BOOST_REQUIRE(node->Append(SignedEntry(author, i)).has_value());
    options.clock = [this] { return now; };
    auto r = Replica::Create(tmp / "mirror", "mirror.example/m1", node->VerifierKey(), options);
    BOOST_REQUIRE_MESSAGE(r.has_value(), Why(r));
    replica = std::move(*r);
  }
  std::vector<std::string> Leaves(uint64_t begin, uint64_t end) {
    auto leaves = node->storage().ReadEntries(begin, end);
    BOOST_REQUIRE(leaves.has_value());
    return *leaves;
  }
  std::string Checkpoint() {
    auto cp = node->SignCheckpoint();
    BOOST_REQUIRE(cp.has_value());
    return cp->note;
  }
  std::vector<Hash> Proof(uint64_t from, uint64_t to) {
    auto proof = node->ProveConsistency(from, to);
    BOOST_REQUIRE(proof.has_value());
    return *proof;
  }
};

std::string Code(const Result<ReplicaAppend>& r) {
  return r.has_value() ? std::string() : r.error().code();
}

// The numeric detail `name` of `e`; -1 when it has none.
int64_t Detail(const Error& e, const std::string& name) {
  for (const ErrorDetail& d : e.details()) {
    if (d.name == name && d.number) return *d.number;
  }
  return -1;
}

// A batch source for AppendBatches over the fixture's node: `width` entries per batch (to
// the checkpoint of size `size`), each leaf passed through `edit` (index, leaf) on the way;
// records the indexes it was asked for.
struct Source {
  Fixture& f;
  uint64_t size;
  uint64_t width;
  std::function<void(uint64_t, std::string&)> edit = [](uint64_t, std::string&) {};
  std::vector<uint64_t> asked;

  ReplicaBatchSource Fetch() {
    return [this](uint64_t at) -> Result<ReplicaBatch> {
      asked.push_back(at);
      const uint64_t end = std::min(at + width, size);
      ReplicaBatch batch;
      batch.leaves = f.Leaves(at, end);
      for (uint64_t i = at; i < end; ++i) edit(i, batch.leaves[i - at]);
      if (end < size) batch.proof = f.Proof(end, size);
      return batch;
    };
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(replica)

BOOST_AUTO_TEST_CASE(a_copied_log_has_the_nodes_leaves_root_and_a_mirror_cosignature) {
  Fixture f(600);
  const std::string note = f.Checkpoint();
  // Two batches proved against the checkpoint by consistency proofs, then the last one by root.
  for (uint64_t begin : {0u, 256u, 512u}) {
    const uint64_t end = std::min<uint64_t>(begin + 256, 600);
    auto leaves = f.Leaves(begin, end);
    auto proof = end < 600 ? f.Proof(end, 600) : std::vector<Hash>{};
    auto appended = f.replica->AppendBatch(leaves, note, proof);
    BOOST_REQUIRE_MESSAGE(appended.has_value(), Why(appended));
    BOOST_TEST(appended->size == end);
    BOOST_TEST(appended->cosigned_note.has_value() == (end == 600));
  }
  BOOST_TEST(f.replica->size() == 600u);
  BOOST_TEST((f.replica->root() == f.node->root()));
  for (uint64_t i : {0u, 299u, 599u}) {
    BOOST_TEST(f.replica->storage().ReadEntry(i).value() == f.node->Entry(i).value());
  }
  // The stored note is the log's, plus the mirror's cosignature, which verifies.
  auto latest = f.replica->LatestCheckpoint();
  BOOST_REQUIRE(latest.has_value() && latest->has_value());
  BOOST_TEST((*latest)->note.starts_with(note));
  auto mirror_key = NoteVerifier::Parse(f.replica->VerifierKey());
  BOOST_REQUIRE(mirror_key.has_value());
  BOOST_TEST((mirror_key->type() == NoteKeyType::kCosignatureV1));
  std::vector<NoteVerifier> keys{*mirror_key};
  auto opened = OpenNote((*latest)->note, keys);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
  BOOST_REQUIRE(opened->verified.size() == 1u);
  BOOST_TEST(opened->verified[0].timestamp.value() == f.now);
  // The copy audits like the node's own log.
  auto audit = f.replica->Audit();
  BOOST_REQUIRE(audit.has_value());
  BOOST_TEST(audit->ok());
  BOOST_TEST(audit->entries_verified == 600u);
}

// Push mode: packages proved by subtree consistency proofs, the first one unaligned (its
// subtree starts at entries the replica already holds).
BOOST_AUTO_TEST_CASE(packages_are_appended_on_their_subtree_consistency_proofs) {
  Fixture f(600);
  const std::string note = f.Checkpoint();
  auto first = f.replica->AppendBatch(f.Leaves(0, 100), note, f.Proof(100, 600));
  BOOST_REQUIRE_MESSAGE(first.has_value(), Why(first));
  // [100, 256) completes the subtree [0, 256): its hash needs the held [0, 100).
  auto proof = SubtreeConsistencyProof(0, 256, 600, f.node->storage());
  BOOST_REQUIRE(proof.has_value());
  // Another subtree start than the package's is refused before anything is stored.
  BOOST_TEST(Code(f.replica->AppendPackage(f.Leaves(100, 256), note, 128, *proof)) ==
             "mirror.bad_subtree");
  std::vector<Hash> bad = *proof;
  bad.front()[0] ^= 1;
  BOOST_TEST(Code(f.replica->AppendPackage(f.Leaves(100, 256), note, 0, bad)) ==
             "mirror.root_mismatch");
  BOOST_TEST(f.replica->size() == 100u);
  auto second = f.replica->AppendPackage(f.Leaves(100, 256), note, 0, *proof);
  BOOST_REQUIRE_MESSAGE(second.has_value(), Why(second));
  BOOST_TEST(!second->cosigned_note.has_value());
  auto p2 = SubtreeConsistencyProof(256, 512, 600, f.node->storage()).value();
  BOOST_REQUIRE(f.replica->AppendPackage(f.Leaves(256, 512), note, 256, p2).has_value());
  auto p3 = SubtreeConsistencyProof(512, 600, 600, f.node->storage()).value();
  auto last = f.replica->AppendPackage(f.Leaves(512, 600), note, 512, p3);
  BOOST_REQUIRE_MESSAGE(last.has_value(), Why(last));
  BOOST_TEST(last->cosigned_note.has_value());
  BOOST_TEST((f.replica->root() == f.node->root()));
}

// A pull that finds nothing new (an empty batch up to the checkpoint it already holds) keeps
// the cosignature given when the tree was stored: one per size, not one per interval.
BOOST_AUTO_TEST_CASE(an_idle_pull_keeps_the_cosignature_of_the_size_it_holds) {
  Fixture f(10);
  const std::string note = f.Checkpoint();
  auto first = f.replica->AppendBatch(f.Leaves(0, 10), note);
  BOOST_REQUIRE_MESSAGE(first.has_value(), Why(first));
  BOOST_REQUIRE(first->cosigned_note.has_value());
  f.now += 60;
  auto idle = f.replica->AppendBatch({}, note);
  BOOST_REQUIRE_MESSAGE(idle.has_value(), Why(idle));
  BOOST_REQUIRE(idle->cosigned_note.has_value());
  BOOST_TEST(*idle->cosigned_note == *first->cosigned_note);
}

BOOST_AUTO_TEST_CASE(a_replica_reopens_and_continues_where_it_stopped) {
  Fixture f(10);
  BOOST_REQUIRE(f.replica->AppendBatch(f.Leaves(0, 10), f.Checkpoint()).has_value());
  for (int i = 10; i < 20; ++i) BOOST_REQUIRE(f.node->Append(SignedEntry(f.author, i)));
  f.replica.reset();
  auto reopened = Replica::Open(f.tmp / "mirror");
  BOOST_REQUIRE_MESSAGE(reopened.has_value(), Why(reopened));
  BOOST_TEST((*reopened)->size() == 10u);
  auto more = (*reopened)->AppendBatch(f.Leaves(10, 20), f.Checkpoint());
  BOOST_REQUIRE_MESSAGE(more.has_value(), Why(more));
  BOOST_TEST(((*reopened)->root() == f.node->root()));
  // A second process cannot append beside it.
  auto second = Replica::Open(f.tmp / "mirror");
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "ledger.locked");
}

BOOST_AUTO_TEST_CASE(the_mirror_key_is_private_to_its_owner) {
  Fixture f(0);
  struct stat st {};
  BOOST_REQUIRE(::stat((f.tmp / "mirror/mirror-key.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600);
  auto again = Replica::Create(f.tmp / "mirror", "mirror.example/m1", f.node->VerifierKey());
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code() == "mirror.exists");
}

BOOST_AUTO_TEST_CASE(a_leaf_edited_in_transit_stores_nothing) {
  Fixture f(5);
  auto leaves = f.Leaves(0, 5);
  // The payload changes: the author's signature no longer covers it.
  const size_t at = leaves[3].find("\"n\":3");
  BOOST_REQUIRE(at != std::string::npos);
  leaves[3].replace(at, 5, "\"n\":4");
  auto refused = f.replica->AppendBatch(leaves, f.Checkpoint());
  BOOST_TEST(Code(refused) == "mirror.bad_entry");
  BOOST_TEST(refused.error().message().find("entry 3") != std::string::npos);
  BOOST_TEST(f.replica->size() == 0u);
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
}

BOOST_AUTO_TEST_CASE(a_validly_signed_leaf_that_is_not_in_the_tree_is_a_root_mismatch) {
  Fixture f(5);
  auto leaves = f.Leaves(0, 5);
  // Another genuine leaf of the log (index 4 twice): every signature holds, the tree does not.
  leaves[3] = leaves[4];
  auto refused = f.replica->AppendBatch(leaves, f.Checkpoint());
  BOOST_TEST(Code(refused) == "mirror.root_mismatch");
  BOOST_TEST(refused.error().message().find(ToHex(f.node->root())) != std::string::npos);
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
  auto none = f.replica->LatestCheckpoint();
  BOOST_REQUIRE(none.has_value());
  BOOST_TEST(!none->has_value());
}

BOOST_AUTO_TEST_CASE(a_batch_before_the_checkpoint_needs_a_valid_consistency_proof) {
  Fixture f(20);
  auto proof = f.Proof(10, 20);
  proof[0][0] ^= 1;
  auto refused = f.replica->AppendBatch(f.Leaves(0, 10), f.Checkpoint(), proof);
  BOOST_TEST(Code(refused) == "mirror.root_mismatch");
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
  // More entries than the checkpoint covers.
  const std::string note = f.Checkpoint();
  for (int i = 20; i < 25; ++i) BOOST_REQUIRE(f.node->Append(SignedEntry(f.author, i)));
  BOOST_TEST(Code(f.replica->AppendBatch(f.Leaves(0, 25), note)) ==
             "mirror.batch_beyond_checkpoint");
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_not_signed_by_the_log_key_is_refused) {
  Fixture f(3);
  // A look-alike log with the same origin but its own key signs the same tree.
  auto impostor = Ledger::Create(f.tmp / "impostor", kOrigin);
  BOOST_REQUIRE(impostor.has_value());
  auto cp = (*impostor)->SignCheckpoint();
  BOOST_REQUIRE(cp.has_value());
  auto refused = f.replica->AppendBatch({}, cp->note);
  BOOST_TEST(Code(refused) == "mirror.untrusted_checkpoint");
  // Another log's checkpoint, even correctly signed by its own key, names another origin.
  auto other = Ledger::Create(f.tmp / "other", "example.org/other");
  BOOST_REQUIRE(other.has_value());
  auto other_cp = (*other)->SignCheckpoint();
  BOOST_REQUIRE(other_cp.has_value());
  BOOST_TEST(Code(f.replica->AppendBatch({}, other_cp->note)) == "mirror.untrusted_checkpoint");
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
}

BOOST_AUTO_TEST_CASE(a_log_breaking_the_models_rules_stops_the_mirror_at_that_entry) {
  // The rules: entry n must not be 7 (a stand-in for the provenance model's validator).
  ReplicaOptions options;
  options.model = "test/no-seven";
  options.attach = [](LogStorage&, const PublicKey&) -> Result<EntryValidator> {
    return EntryValidator([](uint64_t, std::string_view entry, const JsonValue*) -> Status {
      if (entry.find("\"n\":7") != std::string_view::npos) {
        return Fail("test.no_seven", "seven is not allowed");
      }
      return Ok();
    });
  };
  Fixture f(10, options);
  auto refused = f.replica->AppendBatch(f.Leaves(0, 10), f.Checkpoint());
  BOOST_TEST(Code(refused) == "mirror.rules_refused");
  BOOST_TEST(refused.error().message().find("entry 7") != std::string::npos);
  BOOST_TEST(refused.error().message().find("test.no_seven") != std::string::npos);
  BOOST_TEST(f.replica->storage().Size().value() == 0u);
  // Without the rules attached, a replica that records a model refuses to append at all.
  f.replica.reset();
  auto bare = Replica::Open(f.tmp / "mirror");
  BOOST_REQUIRE(bare.has_value());
  BOOST_TEST(Code((*bare)->AppendBatch(f.Leaves(0, 10), f.Checkpoint())) ==
             "ledger.model_required");
}

// The pipelined catch-up (batch k+1 fetched and checked while batch k commits) gives the same
// copy as batch after batch, and asks for each batch once, in index order.
BOOST_AUTO_TEST_CASE(a_pipelined_catch_up_copies_the_log_and_cosigns_its_checkpoint) {
  Fixture f(600);
  const std::string note = f.Checkpoint();
  Source source{f, 600, 100};
  auto appended = f.replica->AppendBatches(note, source.Fetch());
  BOOST_REQUIRE_MESSAGE(appended.has_value(), Why(appended));
  BOOST_TEST(appended->first == 0u);
  BOOST_TEST(appended->size == 600u);
  BOOST_REQUIRE(appended->cosigned_note.has_value());
  BOOST_TEST(appended->cosigned_note->starts_with(note));
  BOOST_TEST(source.asked == (std::vector<uint64_t>{0, 100, 200, 300, 400, 500}));
  BOOST_TEST((f.replica->root() == f.node->root()));
  BOOST_TEST(f.replica->storage().Size().value() == 600u);
  auto audit = f.replica->Audit();
  BOOST_REQUIRE(audit.has_value());
  BOOST_TEST(audit->ok());
  BOOST_TEST(audit->entries_verified == 600u);
  // Caught up: nothing is fetched, the same root is confirmed, the cosignature kept.
  f.now += 60;
  Source idle{f, 600, 100};
  auto again = f.replica->AppendBatches(note, idle.Fetch());
  BOOST_REQUIRE_MESSAGE(again.has_value(), Why(again));
  BOOST_TEST(idle.asked.empty());
  BOOST_TEST(again->size == 600u);
  BOOST_TEST((again->cosigned_note == appended->cosigned_note));
}

// Batches 0-1 pass and are committed; batch 2 carries an edited leaf: it is refused naming the
// entry while batch 1 may still be committing, and nothing of it (nor of batch 3, fetched
// ahead) is stored. A later catch-up resumes at the first refused batch.
BOOST_AUTO_TEST_CASE(a_pipelined_batch_refused_after_earlier_ones_leaves_exactly_those_stored) {
  Fixture f(400);
  const std::string note = f.Checkpoint();
  Source source{f, 400, 100};
  source.edit = [](uint64_t i, std::string& leaf) {
    if (i != 250) return;
    const size_t at = leaf.find("\"n\":250");
    BOOST_REQUIRE(at != std::string::npos);
    leaf.replace(at, 7, "\"n\":251");
  };
  auto refused = f.replica->AppendBatches(note, source.Fetch());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "mirror.bad_entry");
  BOOST_TEST(refused.error().field() == "index");
  BOOST_TEST(Detail(refused.error(), "index") == 250);
  BOOST_TEST(refused.error().message().find("entry 250") != std::string::npos,
             refused.error().message());
  BOOST_TEST(f.replica->size() == 200u);
  BOOST_TEST(f.replica->storage().Size().value() == 200u);
  auto none = f.replica->LatestCheckpoint();
  BOOST_REQUIRE(none.has_value());
  BOOST_TEST(!none->has_value());
  // The stored part is the node's own prefix.
  BOOST_TEST(f.replica->storage().ReadEntry(199).value() == f.node->Entry(199).value());

  Source clean{f, 400, 100};
  auto resumed = f.replica->AppendBatches(note, clean.Fetch());
  BOOST_REQUIRE_MESSAGE(resumed.has_value(), Why(resumed));
  BOOST_TEST(clean.asked.front() == 200u);
  BOOST_TEST(resumed->first == 200u);
  BOOST_TEST(resumed->size == 400u);
  BOOST_TEST((f.replica->root() == f.node->root()));
}

// A genuine leaf out of place in a later batch: every signature holds, the tree does not.
BOOST_AUTO_TEST_CASE(a_pipelined_batch_outside_the_tree_is_a_root_mismatch_after_the_stored_ones) {
  Fixture f(300);
  const std::string note = f.Checkpoint();
  Source source{f, 300, 100};
  const std::string other = f.Leaves(10, 11)[0];
  source.edit = [&other](uint64_t i, std::string& leaf) {
    if (i == 150) leaf = other;
  };
  auto refused = f.replica->AppendBatches(note, source.Fetch());
  BOOST_TEST(Code(refused) == "mirror.root_mismatch");
  BOOST_TEST(refused.error().message().find("up to size 200") != std::string::npos,
             refused.error().message());
  BOOST_TEST(f.replica->storage().Size().value() == 100u);
}

// The rules run inside the commit, on the background thread: a refusal there stops the
// catch-up at that batch although the next one has already passed its checks.
BOOST_AUTO_TEST_CASE(a_rule_refusal_during_a_pipelined_commit_stores_nothing_after_it) {
  ReplicaOptions options;
  options.model = "test/no-150";
  options.attach = [](LogStorage&, const PublicKey&) -> Result<EntryValidator> {
    return EntryValidator([](uint64_t, std::string_view entry, const JsonValue*) -> Status {
      if (entry.find("\"n\":150") != std::string_view::npos) {
        return Fail("test.no_150", "150 is not allowed");
      }
      return Ok();
    });
  };
  Fixture f(400, options);
  Source source{f, 400, 100};
  auto refused = f.replica->AppendBatches(f.Checkpoint(), source.Fetch());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "mirror.rules_refused");
  BOOST_TEST(Detail(refused.error(), "index") == 150);
  BOOST_TEST(f.replica->storage().Size().value() == 100u);
  BOOST_TEST(f.replica->size() == 100u);
}

// A source that fails (a node that stops answering) after two batches: they stay committed,
// its error is returned as it is.
BOOST_AUTO_TEST_CASE(a_fetch_error_during_a_pipelined_catch_up_keeps_the_batches_before_it) {
  Fixture f(400);
  Source source{f, 400, 100};
  auto fetch = source.Fetch();
  auto failing = [&fetch](uint64_t at) -> Result<ReplicaBatch> {
    if (at == 200) return Fail("client.unreachable", "the node went away");
    return fetch(at);
  };
  auto refused = f.replica->AppendBatches(f.Checkpoint(), failing);
  BOOST_TEST(Code(refused) == "client.unreachable");
  BOOST_TEST(f.replica->storage().Size().value() == 200u);
  BOOST_TEST(f.replica->size() == 200u);
}

BOOST_AUTO_TEST_SUITE_END()
