#include "pedigree/log/note.h"

#include <boost/test/unit_test.hpp>
#include <numeric>

using namespace pedigree;
using namespace pedigree::log;

namespace {

// TEST-ONLY seeds from shared/reference/ledger-formats.md §2: log 00..1f, witness 20..3f.
PrivateKey SeedKey(uint8_t first) {
  Bytes seed(32);
  std::iota(seed.begin(), seed.end(), first);
  return PrivateKey::FromSeed(seed).value();
}

const std::string kLogName = "example.org/pharma-ledger-test";
const std::string kWitnessName = "witness.example.org/w1-test";
const std::string kLogVkey =
    "example.org/pharma-ledger-test+99c43bee+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const std::string kWitnessVkey =
    "witness.example.org/w1-test+9b0c95ef+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X";
const std::string kBody =
    "example.org/pharma-ledger-test\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
// The log line came from Go's note.Sign (golang.org/x/mod/sumdb/note); the witness line
// was built from C2SP tlog-cosignature at timestamp 1700000000.
const std::string kLogLine =
    "\xE2\x80\x94 example.org/pharma-ledger-test "
    "mcQ77kGhp0HVZxrkuzk1soIEuDvOQQvYsdLwsJYcuiqHqpxy71tiylRh+UZiamyTNjIPU3H2mxfrzl35dI0/"
    "phDTbgo=\n";
const std::string kWitnessLine =
    "\xE2\x80\x94 witness.example.org/w1-test "
    "mwyV7wAAAABlU/EAgMoQG6kdNgXS8SGnNPU8VV63Hh/9lzqJhF2LnFpkMjrES0R+IwBhs/gWUasVlUNYN0s5+ZMb7bDZ"
    "Kfx8lf7JAA==\n";
const uint64_t kWitnessTime = 1700000000;

std::vector<NoteVerifier> Verifiers() {
  return {NoteVerifier::Parse(kLogVkey).value(), NoteVerifier::Parse(kWitnessVkey).value()};
}

std::string Code(std::string_view note, std::span<const NoteVerifier> verifiers) {
  auto r = OpenNote(note, verifiers);
  return r ? "ok" : r.error().code();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(note)

// C2SP signed-note spec example (also golang.org/x/mod/sumdb/note's ExampleOpen).
BOOST_AUTO_TEST_CASE(c2sp_spec_vector_verifies) {
  auto v =
      NoteVerifier::Parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  if (!v) BOOST_FAIL(v.error().ToString());
  BOOST_TEST(v->name() == "example.com/foo");
  BOOST_TEST(v->key_id() == 0x530d903au);
  BOOST_TEST((v->type() == NoteKeyType::kEd25519));
  const std::string note =
      "This is an example message.\n\n\xE2\x80\x94 example.com/foo "
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
      "\n";
  std::vector<NoteVerifier> vs{*v};
  auto opened = OpenNote(note, vs);
  if (!opened) BOOST_FAIL(opened.error().ToString());
  BOOST_TEST(opened->text == "This is an example message.\n");
  BOOST_REQUIRE(opened->verified.size() == 1u);
  BOOST_TEST(opened->verified[0].name == "example.com/foo");
  BOOST_TEST(!opened->verified[0].timestamp.has_value());
  BOOST_TEST(v->ToString() ==
             "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
}

BOOST_AUTO_TEST_CASE(reference_checkpoint_log_signature_is_reproduced_exactly) {
  NoteSigner log(kLogName, SeedKey(0x00));
  BOOST_TEST(log.VerifierKey() == kLogVkey);
  BOOST_TEST(log.key_id() == 0x99c43beeu);
  // Ed25519 is deterministic, so our line must equal Go's byte for byte.
  BOOST_TEST(SignNote(kBody, log) == kBody + "\n" + kLogLine);
}

BOOST_AUTO_TEST_CASE(reference_cosignature_is_reproduced_and_verifies_with_timestamp) {
  NoteSigner witness(kWitnessName, SeedKey(0x20), NoteKeyType::kCosignatureV1);
  BOOST_TEST(witness.VerifierKey() == kWitnessVkey);
  BOOST_TEST(CosignatureLine(kBody, witness, kWitnessTime) == kWitnessLine);

  NoteSigner log(kLogName, SeedKey(0x00));
  auto cosigned = Cosign(SignNote(kBody, log), witness, kWitnessTime);
  BOOST_REQUIRE(cosigned.has_value());
  BOOST_TEST(*cosigned == kBody + "\n" + kLogLine + kWitnessLine);

  auto vs = Verifiers();
  auto opened = OpenNote(*cosigned, vs);
  if (!opened) BOOST_FAIL(opened.error().ToString());
  BOOST_TEST(opened->text == kBody);
  BOOST_REQUIRE(opened->verified.size() == 2u);
  BOOST_TEST(opened->verified[0].verifier_index == 0u);
  BOOST_TEST(opened->verified[1].verifier_index == 1u);
  BOOST_TEST((opened->verified[1].type == NoteKeyType::kCosignatureV1));
  BOOST_TEST(opened->verified[1].timestamp.value_or(0) == kWitnessTime);
}

BOOST_AUTO_TEST_CASE(reference_checkpoint_body_parses_and_formats) {
  auto cp = ParseCheckpoint(kBody);
  BOOST_REQUIRE(cp.has_value());
  BOOST_TEST(cp->origin == kLogName);
  BOOST_TEST(cp->size == 8u);
  BOOST_TEST(ToBase64(cp->root) == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  BOOST_TEST(FormatCheckpoint(*cp) == kBody);
}

BOOST_AUTO_TEST_CASE(checkpoint_parsing_table) {
  const std::string root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
  const std::pair<std::string, std::string> cases[] = {
      {"o\n0\n" + root + "\n", "ok"},
      {"o\n18446744073709551615\n" + root + "\n", "ok"},
      {"o\n8\n" + root + "\nextension line\n", "ok"},
      {"o\n8\n" + root, "checkpoint.malformed"},
      {"o\n8\n" + root + "\n\n", "checkpoint.malformed"},
      {"\n8\n" + root + "\n", "checkpoint.malformed"},
      {"has space\n8\n" + root + "\n", "checkpoint.malformed"},
      {"a+b\n8\n" + root + "\n", "checkpoint.malformed"},
      {"o\n08\n" + root + "\n", "checkpoint.malformed"},
      {"o\n-1\n" + root + "\n", "checkpoint.malformed"},
      {"o\n+1\n" + root + "\n", "checkpoint.malformed"},
      {"o\n\n" + root + "\n", "checkpoint.malformed"},
      {"o\n18446744073709551616\n" + root + "\n", "checkpoint.malformed"},
      {"o\n8\nAAAA\n", "checkpoint.bad_root"},
      {"o\n8\n" + root.substr(0, 43) + "\n", "checkpoint.bad_root"},
      {"o\n8\n", "checkpoint.malformed"},
      {"ph\x82rma\n8\n" + root + "\n", "checkpoint.malformed"},  // found by fuzz_note
      {"o\n8\n" + root + "\next\tension\n", "checkpoint.malformed"},
      {"", "checkpoint.malformed"},
  };
  for (const auto& [body, code] : cases) {
    auto r = ParseCheckpoint(body);
    BOOST_TEST((r ? std::string("ok") : r.error().code()) == code, body);
  }
}

BOOST_AUTO_TEST_CASE(tampered_notes_are_rejected_with_specific_codes) {
  const std::string note = kBody + "\n" + kLogLine + kWitnessLine;
  auto vs = Verifiers();
  BOOST_TEST(Code(note, vs) == "ok");

  std::string text_flip = note;
  text_flip[kBody.size() - 5] ^= 0x01;  // a bit of the root
  BOOST_TEST(Code(text_flip, vs) == "note.bad_signature");

  std::string size_changed = note;
  size_changed.replace(size_changed.find("\n8\n"), 3, "\n9\n");
  BOOST_TEST(Code(size_changed, vs) == "note.bad_signature");

  // Flip inside the signature (not the key ID, which would make the signer unknown).
  std::string sig_flip = note;
  size_t at = sig_flip.find("mcQ77k") + 20;
  sig_flip[at] = sig_flip[at] == 'A' ? 'B' : 'A';
  auto r = OpenNote(sig_flip, vs);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "note.bad_signature");
  BOOST_TEST(*r.error().location().line == 5u);

  // Witness timestamp changed: the cosignature covers it.
  std::string time_flip = note;
  at = time_flip.find("mwyV7wAAAABlU/EA");
  time_flip.replace(at, 16, "mwyV7wAAAABlU/EB");
  BOOST_TEST(Code(time_flip, vs) == "note.bad_signature");

  BOOST_TEST(Code(note.substr(0, note.size() - 1), vs) == "note.malformed");  // no final \n
  BOOST_TEST(Code(kBody + kLogLine, vs) == "note.malformed");                 // no blank line
  BOOST_TEST(Code(kBody + "\n", vs) == "note.malformed");                     // no signatures
  BOOST_TEST(Code("o\t\n8\n\n" + kLogLine, vs) == "note.malformed");          // control char
  BOOST_TEST(Code(kBody + "\n- example.org/x AAAAAAA=\n", vs) == "note.malformed");
  BOOST_TEST(Code(kBody + "\n\xE2\x80\x94 name-only\n", vs) == "note.malformed");
  BOOST_TEST(Code(kBody + "\n\xE2\x80\x94 n AAAA\n", vs) == "note.malformed");  // < 5 bytes
  BOOST_TEST(Code(kBody + "\n\xE2\x80\x94 n !!!!\n", vs) == "note.malformed");
  BOOST_TEST(Code("\xff\n\n" + kLogLine, vs) == "note.malformed");
}

BOOST_AUTO_TEST_CASE(unknown_and_wrong_keys_are_ignored_but_one_must_verify) {
  const std::string note = kBody + "\n" + kLogLine;
  // Same name, different key: a different key ID, so the signature is by an unknown key.
  NoteSigner impostor(kLogName, SeedKey(0x40));
  std::vector<NoteVerifier> wrong{NoteVerifier::Parse(impostor.VerifierKey()).value()};
  BOOST_TEST(Code(note, wrong) == "note.no_verified_signature");
  BOOST_TEST(Code(note, {}) == "note.no_verified_signature");

  // Only the witness known: the log's line is ignored, the witness's verifies.
  std::vector<NoteVerifier> witness_only{NoteVerifier::Parse(kWitnessVkey).value()};
  auto opened = OpenNote(note + kWitnessLine, witness_only);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->verified.size() == 1u);
  BOOST_TEST(opened->unverified_count == 1u);

  // A line from an unknown signer next to a known one.
  auto with_unknown = AddSignature(note, impostor);
  BOOST_REQUIRE(with_unknown.has_value());
  auto vs = Verifiers();
  auto r = OpenNote(*with_unknown, vs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->verified.size() == 1u);
  BOOST_TEST(r->unverified_count == 1u);
}

BOOST_AUTO_TEST_CASE(duplicate_signatures_by_one_key_count_once_and_are_all_checked) {
  auto vs = Verifiers();
  auto twice = OpenNote(kBody + "\n" + kLogLine + kLogLine, vs);
  BOOST_REQUIRE(twice.has_value());
  BOOST_TEST(twice->verified.size() == 1u);

  // A second, invalid line by a known key is not silently dropped.
  std::string bad_line = kLogLine;
  bad_line[bad_line.size() - 10] = bad_line[bad_line.size() - 10] == 'A' ? 'B' : 'A';
  BOOST_TEST(Code(kBody + "\n" + kLogLine + bad_line, vs) == "note.bad_signature");
}

BOOST_AUTO_TEST_CASE(cosignature_key_does_not_verify_plain_signatures) {
  // The same key registered as 0x01 and 0x04 has two key IDs; a plain signature made by the
  // witness key does not pass as a cosignature.
  NoteSigner plain(kWitnessName, SeedKey(0x20));
  BOOST_TEST(plain.key_id() != 0x9b0c95efu);
  std::vector<NoteVerifier> cosigner{NoteVerifier::Parse(kWitnessVkey).value()};
  BOOST_TEST(Code(SignNote(kBody, plain), cosigner) == "note.no_verified_signature");
}

BOOST_AUTO_TEST_CASE(verifier_key_parsing_table) {
  const std::pair<std::string, std::string> cases[] = {
      {kLogVkey, "ok"},
      {kWitnessVkey, "ok"},
      {"example.org/pharma-ledger-test+99c43bef+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "note.bad_verifier_key"},  // key ID does not match
      {"example.org/pharma-ledger-test+99c43be+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "note.bad_verifier_key"},
      {"example.org/pharma-ledger-test+99c43bee+AgOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "note.unsupported_key_type"},
      {"example.org/pharma-ledger-test+99c43bee+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQS",
       "note.bad_verifier_key"},
      {"no-plus-signs", "note.bad_verifier_key"},
      {"+99c43bee+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4", "note.bad_verifier_key"},
  };
  for (const auto& [vkey, code] : cases) {
    auto r = NoteVerifier::Parse(vkey);
    BOOST_TEST((r ? std::string("ok") : r.error().code()) == code, vkey);
  }
}

BOOST_AUTO_TEST_CASE(many_signatures_are_accepted) {
  NoteSigner log(kLogName, SeedKey(0x00));
  std::string note = SignNote(kBody, log);
  for (int i = 0; i < 20; ++i) {
    NoteSigner other("other" + std::to_string(i), SeedKey(static_cast<uint8_t>(0x60 + i)));
    note = AddSignature(note, other).value();
  }
  auto vs = Verifiers();
  auto opened = OpenNote(note, vs);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->unverified_count == 20u);
  BOOST_TEST(AddSignatureLines(note, "garbage\n").error().code() == "note.malformed");
}

BOOST_AUTO_TEST_SUITE_END()
