#include "pedigree/log/policy.h"

#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "common/witness_testing.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/log/storage.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::SigningLog;
using pedigree::testing::Why;
using pedigree::testing::WitnessTestKey;

namespace {

NoteSigner Cosigner(const std::string& name, uint8_t seed) {
  return NoteSigner(name, WitnessTestKey(seed), NoteKeyType::kCosignatureV1);
}

struct Keys {
  SigningLog log;
  NoteSigner w1 = Cosigner("w1.example/witness", 0x10);
  NoteSigner w2 = Cosigner("w2.example/witness", 0x20);
  NoteSigner w3 = Cosigner("w3.example/witness", 0x30);

  std::string TwoOfThree() const {
    return "# the consortium's witnesses\n"
           "log " +
           log.vkey() +
           " https://node.example/log\n"
           "\n"
           "witness alpha " +
           w1.VerifierKey() +
           " https://w1.example/\n"
           "witness beta\t" +
           w2.VerifierKey() +
           "   # no URL: offline use only\n"
           "witness gamma " +
           w3.VerifierKey() +
           " http://127.0.0.1:9000/w\n"
           "group two-of-three 2 alpha beta gamma\n"
           "quorum two-of-three\n";
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(policy)

BOOST_AUTO_TEST_CASE(parses_a_two_of_three_policy_with_comments_urls_and_tabs) {
  Keys k;
  auto p = ParsePolicy(k.TwoOfThree());
  BOOST_REQUIRE_MESSAGE(p.has_value(), Why(p));
  BOOST_REQUIRE_EQUAL(p->logs.size(), 1u);
  BOOST_TEST(p->logs[0].key.ToString() == k.log.vkey());
  BOOST_TEST(p->logs[0].url == "https://node.example/log");
  BOOST_REQUIRE_EQUAL(p->witnesses.size(), 3u);
  BOOST_TEST(p->witnesses[0].name == "alpha");
  BOOST_TEST(p->witnesses[0].url == "https://w1.example");  // trailing '/' dropped
  BOOST_TEST(p->witnesses[1].url == "");
  BOOST_TEST(p->witnesses[2].key.ToString() == k.w3.VerifierKey());
  BOOST_REQUIRE_EQUAL(p->groups.size(), 1u);
  BOOST_TEST(p->groups[0].threshold == 2u);
  BOOST_TEST(p->quorum.value() == "two-of-three");
  BOOST_TEST(DescribeQuorum(*p) == "2 of {alpha, beta, gamma}");
}

BOOST_AUTO_TEST_CASE(each_malformed_policy_is_refused_naming_line_column_and_token) {
  Keys k;
  const std::string w1 = "witness a " + k.w1.VerifierKey() + "\n";
  const std::string w2 = "witness b " + k.w2.VerifierKey() + "\n";
  struct Case {
    std::string text;
    std::string code;
    uint64_t line, column;
    std::string token;  // the message names it
  };
  const std::vector<Case> cases = {
      {"", "policy.quorum", 0, 0, "no quorum line"},
      {"# only a comment\n", "policy.quorum", 0, 0, "no quorum line"},
      {w1 + "quorum a\nquorum none\n", "policy.quorum", 3, 1, "first is line 2"},
      {"logs " + k.log.vkey() + "\nquorum none\n", "policy.malformed", 1, 1, "'logs'"},
      {"log\nquorum none\n", "policy.malformed", 1, 1, "log <vkey> [url]"},
      {"log " + k.log.vkey() + " https://x.example extra\nquorum none\n", "policy.malformed", 1,
       static_cast<uint64_t>(6 + k.log.vkey().size() + 18), "'extra'"},
      {"log " + k.log.vkey() + " ftp://x.example\nquorum none\n", "policy.malformed", 1,
       static_cast<uint64_t>(6 + k.log.vkey().size()), "'ftp://x.example'"},
      {"log not-a-key\nquorum none\n", "policy.bad_key", 1, 5, "'not-a-key'"},
      {"log " + k.w1.VerifierKey() + "\nquorum none\n", "policy.bad_key", 1, 5, "not a log"},
      {"witness a " + k.log.vkey() + "\nquorum none\n", "policy.bad_key", 1, 11, "not a witness"},
      {"witness a\nquorum none\n", "policy.malformed", 1, 9, "witness <name> <vkey> [url]"},
      {w1 + "witness a " + k.w2.VerifierKey() + "\nquorum a\n", "policy.duplicate_name", 2, 9,
       "'a'"},
      {"witness none " + k.w1.VerifierKey() + "\nquorum none\n", "policy.malformed", 1, 9,
       "'none'"},
      {w1 + "group g any a c\nquorum g\n", "policy.unknown_name", 2, 15, "'c'"},
      {w1 + "quorum b\n", "policy.unknown_name", 2, 8, "'b'"},
      {"quorum a\n" + w1, "policy.unknown_name", 1, 8, "'a'"},  // use before definition
      {w1 + w2 + "group g 3 a b\nquorum g\n", "policy.bad_threshold", 3, 9, "'3'"},
      {w1 + w2 + "group g 0 a b\nquorum g\n", "policy.bad_threshold", 3, 9, "'0'"},
      {w1 + w2 + "group g 01 a b\nquorum g\n", "policy.bad_threshold", 3, 9, "'01'"},
      {w1 + w2 + "group g most a b\nquorum g\n", "policy.bad_threshold", 3, 9, "'most'"},
      {w1 + "group g all\nquorum g\n", "policy.malformed", 2, 9, "group <name>"},
      {w1 + w2 + "group g all a b a\nquorum g\n", "policy.duplicate_name", 3, 17, "listed twice"},
      {w1 + "group a any a\nquorum a\n", "policy.duplicate_name", 2, 7, "'a'"},
      {w1 + "group g any g\nquorum g\n", "policy.unknown_name", 2, 13, "'g'"},
      {w1 + "quorum a b\n", "policy.malformed", 2, 10, "'b'"},
      {w1 + "quorum a\x01\n", "policy.malformed", 2, 9, "control character"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      auto p = ParsePolicy(c.text);
      BOOST_REQUIRE(!p.has_value());
      BOOST_TEST(p.error().code() == c.code);
      BOOST_TEST(p.error().message().find(c.token) != std::string::npos, p.error().ToString());
      if (c.line) {
        BOOST_TEST(p.error().location().line.value_or(0) == c.line);
        BOOST_TEST(p.error().location().column.value_or(0) == c.column);
        BOOST_TEST(p.error().message().find("line " + std::to_string(c.line) + " column " +
                                            std::to_string(c.column)) == 0u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(holds_at_least_32_logs_witnesses_and_groups) {
  std::string text;
  std::vector<NoteSigner> cosigners;
  for (int i = 0; i < 40; ++i) {
    SigningLog log("log" + std::to_string(i) + ".example", static_cast<uint8_t>(i));
    text += "log " + log.vkey() + "\n";
    cosigners.push_back(
        Cosigner("w" + std::to_string(i) + ".example", static_cast<uint8_t>(100 + i)));
    text += "witness w" + std::to_string(i) + " " + cosigners.back().VerifierKey() + "\n";
    // A chain of groups, each needing its witness and the group before.
    text += i == 0 ? "group g0 any w0\n"
                   : "group g" + std::to_string(i) + " all w" + std::to_string(i) + " g" +
                         std::to_string(i - 1) + "\n";
  }
  text += "quorum g39\n";
  auto p = ParsePolicy(text);
  BOOST_REQUIRE_MESSAGE(p.has_value(), Why(p));
  BOOST_TEST(p->logs.size() == 40u);
  BOOST_TEST(p->witnesses.size() == 40u);
  BOOST_TEST(p->groups.size() == 40u);
  std::set<std::string> all;
  for (int i = 0; i < 40; ++i) all.insert("w" + std::to_string(i));
  BOOST_TEST(QuorumMet(*p, all));
  all.erase("w0");
  BOOST_TEST(!QuorumMet(*p, all));
}

BOOST_AUTO_TEST_CASE(quorum_rules_k_of_n_any_all_nested_and_none) {
  Keys k;
  std::string witnesses = "witness a " + k.w1.VerifierKey() + "\nwitness b " + k.w2.VerifierKey() +
                          "\nwitness c " + k.w3.VerifierKey() + "\n";
  struct Case {
    std::string rules;
    std::set<std::string> cosigned;
    bool met;
  };
  const std::vector<Case> cases = {
      {"group g 2 a b c\nquorum g\n", {"a", "c"}, true},
      {"group g 2 a b c\nquorum g\n", {"b"}, false},
      {"group g 2 a b c\nquorum g\n", {}, false},
      {"group g all a b c\nquorum g\n", {"a", "b"}, false},
      {"group g all a b c\nquorum g\n", {"a", "b", "c"}, true},
      {"group g any a b c\nquorum g\n", {"c"}, true},
      {"group g any a b c\nquorum g\n", {}, false},
      {"quorum b\n", {"b"}, true},
      {"quorum b\n", {"a", "c"}, false},
      // a AND (b OR c)
      {"group bc any b c\ngroup g all a bc\nquorum g\n", {"a", "c"}, true},
      {"group bc any b c\ngroup g all a bc\nquorum g\n", {"b", "c"}, false},
      {"group bc any b c\ngroup g all a bc\nquorum g\n", {"a"}, false},
      {"quorum none\n", {}, true},
      // unknown names in the set do not count
      {"group g 2 a b c\nquorum g\n", {"a", "zz"}, false},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.rules) {
      auto p = ParsePolicy(witnesses + c.rules);
      BOOST_REQUIRE_MESSAGE(p.has_value(), Why(p));
      BOOST_TEST(QuorumMet(*p, c.cosigned) == c.met);
    }
  }
  auto nested = ParsePolicy(witnesses + "group bc any b c\ngroup g all a bc\nquorum g\n");
  BOOST_REQUIRE(nested.has_value());
  BOOST_TEST(DescribeQuorum(*nested) == "all of {a, any of {b, c}}");
  BOOST_TEST(DescribeQuorum(ParsePolicy(witnesses + "quorum none\n").value()) == "none");
}

BOOST_AUTO_TEST_CASE(evaluate_quorum_verifies_each_cosignature_of_a_checkpoint_note) {
  Keys k;
  auto p = ParsePolicy(k.TwoOfThree());
  BOOST_REQUIRE(p.has_value());
  std::string note = k.log.Note(5);
  auto none = EvaluateQuorum(*p, note);
  BOOST_REQUIRE_MESSAGE(none.has_value(), Why(none));
  BOOST_TEST(none->cosigned.empty());
  BOOST_TEST(!none->met);
  BOOST_TEST(none->requirement == "2 of {alpha, beta, gamma}");

  auto one = Cosign(note, k.w3, 1'700'000'000).value();
  // A cosignature by a witness the policy does not know is ignored.
  auto stranger = Cosign(one, Cosigner("stranger.example", 0x77), 1'700'000'000).value();
  auto e1 = EvaluateQuorum(*p, stranger);
  BOOST_REQUIRE(e1.has_value());
  BOOST_TEST(e1->cosigned == std::vector<std::string>{"gamma"});
  BOOST_TEST(!e1->met);

  auto two = Cosign(stranger, k.w1, 1'700'000'001).value();
  auto e2 = EvaluateQuorum(*p, two);
  BOOST_REQUIRE(e2.has_value());
  BOOST_TEST((e2->cosigned == std::vector<std::string>{"alpha", "gamma"}));
  BOOST_TEST(e2->met);

  // beta's cosignature of another checkpoint pasted under this one: rejected, not ignored.
  std::string other = Cosign(k.log.Note(6), k.w2, 1'700'000'000).value();
  std::string pasted = two + other.substr(other.rfind("\xE2\x80\x94 w2"));
  auto forged = EvaluateQuorum(*p, pasted);
  BOOST_REQUIRE(!forged.has_value());
  BOOST_TEST(forged.error().code() == "note.bad_signature");
}

BOOST_AUTO_TEST_CASE(a_cosignature_more_than_ten_minutes_ahead_of_the_verifier_is_refused) {
  Keys k;
  auto p = ParsePolicy(k.TwoOfThree());
  BOOST_REQUIRE(p.has_value());
  const uint64_t now = 1'700'000'000;
  const std::string note = Cosign(k.log.Note(5), k.w3, now).value();
  // Clock skew up to the limit is tolerated.
  auto skewed =
      EvaluateQuorum(*p, Cosign(note, k.w1, now + kMaxCosignatureFutureSeconds).value(), now);
  BOOST_REQUIRE_MESSAGE(skewed.has_value(), Why(skewed));
  BOOST_TEST(skewed->met);
  // One second more, by a policy witness: the whole note is refused, naming the witness.
  auto ahead =
      EvaluateQuorum(*p, Cosign(note, k.w1, now + kMaxCosignatureFutureSeconds + 1).value(), now);
  BOOST_REQUIRE(!ahead.has_value());
  BOOST_TEST(ahead.error().code() == "note.future_cosignature");
  BOOST_TEST(ahead.error().message().find("alpha") != std::string::npos, ahead.error().message());
  BOOST_REQUIRE(FindErrorCode("note.future_cosignature") != nullptr);
  BOOST_TEST(FindErrorCode("note.future_cosignature")->http_status == 422);
  // A stranger's line from the future is not ours to judge: ignored like any unknown key.
  auto stranger = EvaluateQuorum(
      *p, Cosign(note, Cosigner("stranger.example", 0x77), now + 86400).value(), now);
  BOOST_REQUIRE(stranger.has_value());
  BOOST_TEST(stranger->cosigned == std::vector<std::string>{"gamma"});
  // Without an explicit clock the system clock is the verifier's: a cosignature dated a
  // year from now is refused, one from 2023 is not.
  BOOST_TEST(!EvaluateQuorum(*p, Cosign(note, k.w1, now + 10 * 365 * 86400ull).value()));
  BOOST_TEST(EvaluateQuorum(*p, note).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(stored_cosignatures)

BOOST_AUTO_TEST_CASE(merged_lines_ride_on_the_stored_note_one_per_cosigner_latest_wins) {
  Keys k;
  MemoryStorage storage;
  std::string note = k.log.Note(0);
  BOOST_REQUIRE(storage.StoreCheckpoint({0, k.log.Root(0), note}).has_value());
  std::string text = k.log.Text(0);
  std::string a1 = CosignatureLine(text, k.w1, 100);
  std::string a2 = CosignatureLine(text, k.w1, 200);
  std::string b = CosignatureLine(text, k.w2, 150);
  BOOST_REQUIRE(MergeCosignatures(storage, 0, a1 + b).has_value());
  BOOST_REQUIRE(MergeCosignatures(storage, 0, a2).has_value());
  auto stored = storage.CheckpointAt(0).value().value();
  BOOST_TEST(stored.note == note + a2 + b);
  BOOST_TEST(storage.LatestCheckpoint().value().value().note == stored.note);
  auto opened = OpenNote(
      stored.note, std::vector<NoteVerifier>{NoteVerifier::Parse(k.log.vkey()).value(),
                                             NoteVerifier::Parse(k.w1.VerifierKey()).value(),
                                             NoteVerifier::Parse(k.w2.VerifierKey()).value()});
  BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
  BOOST_TEST(opened->verified.size() == 3u);
  auto bad = MergeCosignatures(storage, 0, "not a line\n");
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().code() == "note.malformed");
}

BOOST_AUTO_TEST_SUITE_END()
