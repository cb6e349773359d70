#include "pedigree/log/witness.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <latch>
#include <thread>

#include "common/result.h"
#include "common/temp_dir.h"
#include "common/witness_testing.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::SigningLog;
using pedigree::testing::TempDir;
using pedigree::testing::Why;

namespace {

struct Fixture {
  TempDir tmp;
  std::string dir = tmp / "witness";
  SigningLog log;
  uint64_t now = 1'800'000'000;
  std::string vkey;
  std::unique_ptr<Witness> witness;

  Fixture() {
    auto v = Witness::Init(dir, "witness.example/w1");
    BOOST_REQUIRE_MESSAGE(v.has_value(), Why(v));
    vkey = *v;
    Reopen(0);
  }
  void Reopen(double rate) {
    witness.reset();
    auto l = ParseWitnessedLog(log.vkey(), "", rate > 0 ? std::to_string(rate) : "");
    BOOST_REQUIRE(l.has_value());
    auto w = Witness::Open(dir, {*l}, Witness::Options{[this] { return now; }});
    BOOST_REQUIRE_MESSAGE(w.has_value(), Why(w));
    witness = std::move(*w);
  }
  std::string Add(const std::string& body) {
    auto out = witness->AddCheckpoint(body);
    return out.cosignature ? std::string() : out.cosignature.error().code();
  }
  uint64_t StoredSize() {
    auto s = witness->Latest(log.origin());
    BOOST_REQUIRE(s.has_value());
    return *s ? (*s)->size : 0;
  }
  size_t EvidenceCount() {
    auto e = witness->Evidence();
    BOOST_REQUIRE(e.has_value());
    return e->size();
  }
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(witness)

BOOST_FIXTURE_TEST_CASE(cosigns_consistent_checkpoints_of_a_growing_log, Fixture) {
  auto verifier = NoteVerifier::Parse(vkey);
  BOOST_REQUIRE(verifier.has_value());
  BOOST_TEST((verifier->type() == NoteKeyType::kCosignatureV1));
  BOOST_TEST(vkey.starts_with("witness.example/w1+"));
  uint64_t old = 0;
  for (uint64_t size : {3, 3, 8, 13, 64, 79}) {
    ++now;
    auto out = witness->AddCheckpoint(log.Body(old, size));
    BOOST_REQUIRE_MESSAGE(out.cosignature.has_value(), Why(out.cosignature));
    // The line verifies with note.h's verifier over the log's checkpoint, with our time.
    auto cosigned = AddSignatureLines(log.Note(size), *out.cosignature);
    BOOST_REQUIRE(cosigned.has_value());
    std::vector<NoteVerifier> both{*verifier, *NoteVerifier::Parse(log.vkey())};
    auto opened = OpenNote(*cosigned, both);
    BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
    BOOST_TEST(opened->verified.size() == 2u);
    BOOST_TEST(opened->verified[1].verifier_index == 0u);  // ours, after the log's line
    BOOST_TEST(opened->verified[1].timestamp.value_or(0) == now);
    BOOST_TEST(StoredSize() == size);
    old = size;
  }
  auto evidence = witness->Evidence(log.origin());
  BOOST_REQUIRE(evidence.has_value());
  BOOST_REQUIRE(evidence->size() == 6u);
  BOOST_TEST(evidence->back().note == log.Note(79));
  BOOST_TEST(evidence->back().size == 79u);
  // The monitoring view carries the checkpoint, the log's line and ours, and verifies.
  auto latest = witness->Latest(log.origin());
  BOOST_REQUIRE(latest.has_value() && latest->has_value());
  std::vector<NoteVerifier> both{*verifier, *NoteVerifier::Parse(log.vkey())};
  auto opened = OpenNote((*latest)->cosigned_note, both);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->verified.size() == 2u);
  BOOST_TEST(opened->unverified_count == 0u);
}

BOOST_FIXTURE_TEST_CASE(state_and_evidence_survive_a_restart, Fixture) {
  BOOST_REQUIRE(Add(log.Body(0, 10)).empty());
  Reopen(0);
  BOOST_TEST(StoredSize() == 10u);
  BOOST_TEST(Add(log.Body(0, 12)) == "witness.conflict");
  BOOST_TEST(Add(log.Body(10, 12)).empty());
  BOOST_TEST(EvidenceCount() == 2u);
}

BOOST_FIXTURE_TEST_CASE(conflict_names_the_size_the_witness_holds, Fixture) {
  // First checkpoint for a log: old must be 0.
  auto first = witness->AddCheckpoint(log.Body(5, 10));
  BOOST_TEST(first.cosignature.error().code() == "witness.conflict");
  BOOST_TEST(first.latest_size.value_or(99) == 0u);
  BOOST_REQUIRE(Add(log.Body(0, 10)).empty());
  auto stale = witness->AddCheckpoint(log.Body(4, 20));
  BOOST_TEST(stale.cosignature.error().code() == "witness.conflict");
  BOOST_TEST(stale.latest_size.value_or(0) == 10u);
  // Replaying an old checkpoint is a conflict too.
  BOOST_TEST(Add(log.Body(0, 10)) == "witness.conflict");
  BOOST_TEST(StoredSize() == 10u);
  BOOST_TEST(EvidenceCount() == 1u);
}

BOOST_FIXTURE_TEST_CASE(same_size_same_root_is_cosigned_again_another_root_refused, Fixture) {
  BOOST_REQUIRE(Add(log.Body(0, 10)).empty());
  BOOST_TEST(Add(log.Body(10, 10)).empty());
  // A fork: the log signs another tree of the size it already showed the witness.
  Checkpoint forked{log.origin(), 10, Sha256(std::string_view("another tree"))};
  std::string fork = SignNote(FormatCheckpoint(forked), log.signer());
  BOOST_TEST(Add(FormatAddCheckpoint(10, {}, fork)) == "witness.inconsistent");
  // The same size with a (non-empty) proof is no proof of equality either.
  auto body = FormatAddCheckpoint(10, log.Proof(5, 10), log.Note(10));
  BOOST_TEST(Add(body) == "witness.inconsistent");
  BOOST_TEST(StoredSize() == 10u);
  BOOST_TEST(EvidenceCount() == 2u);
}

BOOST_FIXTURE_TEST_CASE(every_refusal_has_its_code_and_stores_nothing, Fixture) {
  BOOST_REQUIRE(Add(log.Body(0, 8)).empty());
  const std::string good = log.Body(8, 20);
  SigningLog stranger("example.org/other-log", 0x40);
  SigningLog impostor("example.org/witnessed-log", 0x60);  // the right name, another key
  const std::vector<Hash> proof_8_20 = log.Proof(8, 20);
  std::string proof_line = ToBase64(proof_8_20[0]);
  std::string many_lines = "old 8\n";
  for (int i = 0; i < 64; ++i) many_lines += proof_line + "\n";
  many_lines += "\n" + log.Note(20);
  auto forged_sig = log.Note(20);
  forged_sig[forged_sig.size() - 10] = forged_sig[forged_sig.size() - 10] == 'A' ? 'B' : 'A';
  auto wrong_root = FormatAddCheckpoint(
      8, log.Proof(8, 20),
      SignNote(FormatCheckpoint(Checkpoint{log.origin(), 20, log.Root(19)}), log.signer()));

  struct Bad {
    std::string name, body, code;
  };
  const std::vector<Bad> table{
      {"empty", "", "witness.malformed"},
      {"no old line", "size 8\n\n" + log.Note(20), "witness.malformed"},
      {"old with leading zero", Replace(good, "old 8\n", "old 08\n"), "witness.malformed"},
      {"old not a number", Replace(good, "old 8\n", "old eight\n"), "witness.malformed"},
      {"old beyond 64 bits", Replace(good, "old 8\n", "old 18446744073709551616\n"),
       "witness.malformed"},
      {"bad base64 proof", Replace(good, proof_line, "not base64!"), "witness.malformed"},
      {"short proof hash", Replace(good, proof_line, "AAAA"), "witness.malformed"},
      {"no blank line", Replace(good, "\n\n" + log.Text(20), "\n" + log.Text(20)),
       "witness.malformed"},
      {"64 proof lines", many_lines, "witness.too_many_proof_lines"},
      {"oversized", good + std::string(kWitnessMaxBodyBytes, 'x'), "witness.body_too_large"},
      {"control character in note", Replace(good, log.origin() + "\n", log.origin() + "\r\n"),
       "witness.bad_note"},
      {"note without signatures", FormatAddCheckpoint(8, log.Proof(8, 20), log.Text(20) + "\n"),
       "witness.bad_note"},
      {"not a checkpoint", FormatAddCheckpoint(8, {}, SignNote("hello\nworld\n", log.signer())),
       "witness.bad_checkpoint"},
      {"unknown origin", stranger.Body(0, 5), "witness.unknown_log"},
      {"no trusted signature", impostor.Body(8, 20), "witness.bad_signature"},
      {"trusted key fails", FormatAddCheckpoint(8, log.Proof(8, 20), forged_sig),
       "witness.bad_signature"},
      {"old above size", FormatAddCheckpoint(21, {}, log.Note(20)), "witness.old_too_large"},
      {"stale old", log.Body(5, 20), "witness.conflict"},
      {"proof for other sizes", FormatAddCheckpoint(8, log.Proof(9, 20), log.Note(20)),
       "witness.inconsistent"},
      {"truncated proof", FormatAddCheckpoint(8, std::span(proof_8_20).first(1), log.Note(20)),
       "witness.inconsistent"},
      {"signed root that is not the tree's", wrong_root, "witness.inconsistent"},
  };
  for (const Bad& bad : table) {
    BOOST_TEST_CONTEXT(bad.name) {
      BOOST_TEST(Add(bad.body) == bad.code);
      BOOST_TEST(StoredSize() == 8u);
      BOOST_TEST(EvidenceCount() == 1u);
    }
  }
  BOOST_TEST(Add(good).empty());
}

BOOST_AUTO_TEST_CASE(concurrent_requests_share_commits_and_each_is_answered_on_its_own_merits) {
  // Four logs grow one leaf per request on four threads while a fifth thread keeps sending
  // a fork of a fifth log: requests that meet in one group commit must each get their own
  // answer, the forks refused and nothing of theirs stored.
  TempDir tmp;
  BOOST_REQUIRE(Witness::Init(tmp / "w", "witness.example/group").has_value());
  std::vector<std::unique_ptr<SigningLog>> logs;
  std::vector<WitnessedLog> witnessed;
  for (int i = 0; i < 5; ++i) {
    logs.push_back(std::make_unique<SigningLog>("example.org/log-" + std::to_string(i),
                                                static_cast<uint8_t>(0x10 * (i + 1))));
    witnessed.push_back(ParseWitnessedLog(logs.back()->vkey()).value());
  }
  auto witness = Witness::Open(tmp / "w", witnessed);
  BOOST_REQUIRE_MESSAGE(witness.has_value(), Why(witness));
  SigningLog& forked = *logs[4];
  BOOST_REQUIRE((*witness)->AddCheckpoint(forked.Body(0, 8)).cosignature.has_value());
  const std::string fork = FormatAddCheckpoint(
      8, {},
      SignNote(FormatCheckpoint({forked.origin(), 8, Sha256(std::string_view("other"))}),
               forked.signer()));
  constexpr uint64_t kSteps = 40;
  std::vector<std::string> failures(5);
  std::latch start(5);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (uint64_t size = 1; size <= kSteps; ++size) {
        auto out = (*witness)->AddCheckpoint(logs[t]->Body(size - 1, size));
        if (!out.cosignature) failures[t] += out.cosignature.error().ToString() + "; ";
      }
    });
  }
  threads.emplace_back([&] {
    start.arrive_and_wait();
    for (uint64_t i = 0; i < kSteps; ++i) {
      auto out = (*witness)->AddCheckpoint(fork);
      if (out.cosignature || out.cosignature.error().code() != "witness.inconsistent") {
        failures[4] += "the fork was not refused as inconsistent; ";
      }
    }
  });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < 5; ++t)
    BOOST_TEST(failures[t].empty(), "thread " << t << ": " << failures[t]);
  for (size_t t = 0; t < 4; ++t) {
    auto latest = (*witness)->Latest(logs[t]->origin());
    BOOST_REQUIRE(latest.has_value() && latest->has_value());
    BOOST_TEST((**latest).size == kSteps);
    BOOST_TEST((**latest).root == logs[t]->Root(kSteps));
    BOOST_TEST((*witness)->Evidence(logs[t]->origin()).value().size() == kSteps);
  }
  BOOST_TEST((*witness)->Latest(forked.origin()).value()->root == forked.Root(8));
  BOOST_TEST((*witness)->Evidence(forked.origin()).value().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(two_witness_processes_on_one_directory_cannot_both_cosign, Fixture) {
  // Two Witness objects on the same directory hold separate SQLite connections, as two
  // `witness serve` processes would: only the transaction serialises them.
  BOOST_REQUIRE(Add(log.Body(0, 10)).empty());
  auto l = ParseWitnessedLog(log.vkey());
  BOOST_REQUIRE(l.has_value());
  auto other = Witness::Open(dir, {*l});
  BOOST_REQUIRE(other.has_value());
  for (int round = 0; round < 5; ++round) {
    const uint64_t old = StoredSize();
    const std::string a = log.Body(old, old + 2), b = log.Body(old, old + 4);
    std::latch start(2);
    AddCheckpointOutcome ra, rb;
    std::thread ta([&] {
      start.arrive_and_wait();
      ra = witness->AddCheckpoint(a);
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      rb = (*other)->AddCheckpoint(b);
    });
    ta.join();
    tb.join();
    BOOST_TEST_CONTEXT("round " << round) {
      BOOST_REQUIRE((ra.cosignature.has_value() != rb.cosignature.has_value()));
      const AddCheckpointOutcome& lost = ra.cosignature ? rb : ra;
      BOOST_TEST(lost.cosignature.error().code() == "witness.conflict");
      const uint64_t won = ra.cosignature ? old + 2 : old + 4;
      BOOST_TEST(lost.latest_size.value_or(0) == won);
      BOOST_TEST(StoredSize() == won);
    }
  }
  BOOST_TEST(EvidenceCount() == 6u);
}

BOOST_AUTO_TEST_CASE(a_real_ledger_is_cosigned_and_its_fork_refused) {
  TempDir tmp;
  auto main = Ledger::Create(tmp / "main", "example.org/forked-log");
  BOOST_REQUIRE_MESSAGE(main.has_value(), Why(main));
  PrivateKey author = PrivateKey::Generate();
  auto append = [&](Ledger& ledger, int from, int to) {
    for (int i = from; i < to; ++i) {
      auto payload = JsonValue::Object();
      payload.set("kind", JsonValue(std::string("test")));
      payload.set("n", JsonValue(static_cast<int64_t>(i)));
      payload.set("branch", JsonValue(ledger.dir()));
      BOOST_REQUIRE(ledger.Append(SignEntry(payload, author, ledger.origin()).value()));
    }
  };
  append(**main, 0, 5);
  auto cp5 = (*main)->SignCheckpoint();
  BOOST_REQUIRE(cp5.has_value());
  const std::string log_vkey = (*main)->VerifierKey();
  // The operator copies the ledger at size 5 and grows the copy differently: a fork
  // under the same key.
  main->reset();
  std::filesystem::copy(tmp / "main", tmp / "fork", std::filesystem::copy_options::recursive);
  main = Ledger::Open(tmp / "main");
  auto fork = Ledger::Open(tmp / "fork");
  BOOST_REQUIRE(main.has_value() && fork.has_value());
  append(**main, 5, 12);
  append(**fork, 5, 12);
  auto main12 = (*main)->SignCheckpoint(), fork12 = (*fork)->SignCheckpoint();
  BOOST_REQUIRE(main12.has_value() && fork12.has_value());
  BOOST_REQUIRE(main12->root != fork12->root);

  BOOST_REQUIRE(Witness::Init(tmp / "w", "witness.example/w").has_value());
  auto witness = Witness::Open(tmp / "w", {ParseWitnessedLog(log_vkey).value()});
  BOOST_REQUIRE(witness.has_value());
  auto add = [&](uint64_t old, Ledger& ledger, const StoredCheckpoint& cp) {
    std::vector<Hash> proof;
    if (old > 0 && old < cp.size) proof = ledger.ProveConsistency(old, cp.size).value();
    auto out = (*witness)->AddCheckpoint(FormatAddCheckpoint(old, proof, cp.note));
    return out.cosignature ? std::string() : out.cosignature.error().code();
  };
  BOOST_TEST(add(0, **main, *cp5).empty());
  BOOST_TEST(add(5, **main, *main12).empty());
  // The fork's checkpoint, with its own valid proof from the size both share: the witness
  // already holds 12, and the same size with another root is refused.
  BOOST_TEST(add(5, **fork, *fork12) == "witness.conflict");
  BOOST_TEST(add(12, **fork, *fork12) == "witness.inconsistent");
  // Had the fork reached the witness first, the main line would be refused instead: a
  // witness keeps one history.
  auto evidence = (*witness)->Evidence();
  BOOST_REQUIRE(evidence.has_value());
  BOOST_REQUIRE(evidence->size() == 2u);
  BOOST_TEST(evidence->back().note == main12->note);
}

BOOST_FIXTURE_TEST_CASE(cosignature_times_never_go_backwards, Fixture) {
  BOOST_REQUIRE(Add(log.Body(0, 4)).empty());
  now -= 3600;  // the clock is set back an hour
  auto out = witness->AddCheckpoint(log.Body(4, 6));
  BOOST_REQUIRE(out.cosignature.has_value());
  auto latest = witness->Latest(log.origin());
  BOOST_TEST((*latest)->timestamp == now + 3600);
}

BOOST_FIXTURE_TEST_CASE(a_log_over_its_rate_is_refused, Fixture) {
  Reopen(0.001);  // one request, then one per ~17 minutes
  BOOST_TEST(Add(log.Body(0, 4)).empty());
  BOOST_TEST(Add(log.Body(4, 6)) == "witness.rate_limited");
  BOOST_TEST(StoredSize() == 4u);
}

BOOST_AUTO_TEST_CASE(init_refuses_an_existing_directory_and_keeps_the_key_private) {
  TempDir tmp;
  const std::string dir = tmp / "w";
  auto vkey = Witness::Init(dir, "w.example/one");
  BOOST_REQUIRE(vkey.has_value());
  auto perms = std::filesystem::status(dir + "/witness-key.pem").permissions();
  BOOST_TEST(((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
              std::filesystem::perms::none));
  auto again = Witness::Init(dir, "w.example/one");
  BOOST_TEST(again.error().code() == "witness.exists");
  BOOST_TEST(Witness::Init(tmp / "x", "bad name").error().code() == "witness.config");
  // Opening needs a log.
  BOOST_TEST(Witness::Open(dir, {}).error().code() == "witness.config");
}

BOOST_AUTO_TEST_CASE(config_lines_give_key_origin_and_rate) {
  SigningLog a("example.org/a", 0x01), b("example.org/b", 0x02);
  auto logs = ParseWitnessConfig("# logs\nlog " + a.vkey() + "\n\nlog " + b.vkey() +
                                 " example.org/b-origin 5.5  # trailing\n");
  BOOST_REQUIRE_MESSAGE(logs.has_value(), Why(logs));
  BOOST_REQUIRE(logs->size() == 2u);
  BOOST_TEST((*logs)[0].origin == "example.org/a");
  BOOST_TEST((*logs)[1].origin == "example.org/b-origin");
  BOOST_TEST((*logs)[1].rate_per_second == 5.5);
  BOOST_TEST(ParseWitnessConfig("lug " + a.vkey()).error().code() == "witness.config");
  BOOST_TEST(ParseWitnessConfig("log nonsense").error().code() == "witness.config");
  BOOST_TEST(ParseWitnessConfig("log " + a.vkey() + " o -1").error().code() == "witness.config");
  auto line = ParseWitnessConfig("\nlog " + a.vkey() + " bad+origin");
  BOOST_TEST(line.error().location().line.value_or(0) == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
