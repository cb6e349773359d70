#include "pedigree/provenance/trial_seal.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "common/read_file.h"
#include "common/result.h"
#include "common/test_log.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/scanner/trial_data.h"

namespace pedigree::provenance {
namespace {

using pedigree::testing::ReadFile;
using pedigree::testing::TestLog;
using pedigree::testing::Why;

const std::string kFixtures = std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/trials/fixtures/";

scanner::Dataset Parse(std::string_view csv, std::string domain = "") {
  scanner::TrialParseOptions options;
  options.domain = std::move(domain);
  auto ds = scanner::ParseCsv(csv, options);
  BOOST_REQUIRE_MESSAGE(ds.has_value(), Why(ds));
  return std::move(*ds);
}

Hash H(std::string_view hex) {
  auto h = HashFromHex(hex);
  BOOST_REQUIRE(h.has_value());
  return *h;
}

provenance::Salt CountingSalt(uint8_t first) {
  provenance::Salt s;
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(first + i);
  return s;
}

DatasetSeal MustSeal(const scanner::Dataset& ds) {
  auto seal = SealDataset(ds);
  BOOST_REQUIRE_MESSAGE(seal.has_value(), Why(seal));
  return std::move(*seal);
}

DatasetDiff MustCompare(const DatasetSeal& seal, const scanner::Dataset& ds,
                        const CompareOptions& options = {}) {
  auto diff = CompareDataset(seal, ds, options);
  BOOST_REQUIRE_MESSAGE(diff.has_value(), Why(diff));
  return std::move(*diff);
}

// Three AE records given out of key order (AESEQ 10, 2, 1).
constexpr std::string_view kThree =
    "STUDYID,USUBJID,AESEQ,AETERM\n"
    "S1,S1-001,10,HEADACHE\n"
    "S1,S1-001,2,NAUSEA\n"
    "S1,S1-001,1,RASH\n";

BOOST_AUTO_TEST_SUITE(trial_seal)

BOOST_AUTO_TEST_CASE(three_record_seal_matches_independently_computed_root) {
  const scanner::Dataset ds = Parse(kThree, "AE");
  // Salts in source order: 00..0f for AESEQ 10, 10..1f for AESEQ 2, 20..2f for AESEQ 1.
  const std::vector<provenance::Salt> salts = {CountingSalt(0x00), CountingSalt(0x10),
                                               CountingSalt(0x20)};
  auto seal = provenance::SealDataset(ds, salts);
  BOOST_REQUIRE_MESSAGE(seal.has_value(), Why(seal));

  // The commitments, computed outside this code base:
  //   python3 -c 'import hashlib; print(hashlib.sha256(bytes(range(32,48)) +
  //     b"{\"AESEQ\":\"1\",\"AETERM\":\"RASH\",\"STUDYID\":\"S1\",\"USUBJID\":\"S1-001\"}").hexdigest())'
  // and likewise with bytes(range(16,32)) / AESEQ 2 NAUSEA and bytes(range(0,16)) / AESEQ 10
  // HEADACHE.
  const Hash c1 = H("cf1656ba034613de3a6ffb1b39b666de02c031a6fa90f7333fc7c452ecda8f69");
  const Hash c2 = H("ec35083cc2ddb49a26326f0670ef06e501b11f4f77cf71cb830b526096b75b05");
  const Hash c10 = H("fe5a4a34bf425dcdaea259b0424e5fef2bf74b3a5decd21e6bcf09d7b8c4c7a6");
  BOOST_REQUIRE_EQUAL(seal->records.size(), 3u);
  BOOST_TEST(seal->records[0].key == "S1|S1-001|1");
  BOOST_TEST(seal->records[1].key == "S1|S1-001|2");
  BOOST_TEST(seal->records[2].key == "S1|S1-001|10");
  BOOST_TEST(ToHex(seal->records[0].leaf) == ToHex(c1));
  BOOST_TEST(ToHex(seal->records[1].leaf) == ToHex(c2));
  BOOST_TEST(ToHex(seal->records[2].leaf) == ToHex(c10));

  // RFC 6962 MTH of three leaves: NODE(NODE(L(c1), L(c2)), L(c10)).
  const Hash expected =
      log::NodeHash(log::NodeHash(log::LeafHash(c1), log::LeafHash(c2)), log::LeafHash(c10));
  BOOST_TEST(ToHex(seal->summary.root) == ToHex(expected));
  // The same root from python hashlib: sha256(b"\1" + sha256(b"\1" + sha256(b"\0"+c1) +
  // sha256(b"\0"+c2)) + sha256(b"\0"+c10)).
  BOOST_TEST(ToHex(seal->summary.root) ==
             "4b8a4ddb12e5a1423bd6fd47b030d539acb531636248778bb6e89e47ee4751b0");
  BOOST_TEST(seal->summary.record_count == 3u);
  BOOST_TEST(seal->summary.algorithm == "pedigree-trial-seal/v1");
  // printf '%s' '[{"dataType":"","name":"AESEQ"},{"dataType":"","name":"AETERM"},
  //   {"dataType":"","name":"STUDYID"},{"dataType":"","name":"USUBJID"}]' | sha256sum
  BOOST_TEST(seal->summary.schema_hash ==
             "d6925c2c660334e24270da7c05dde41185c7d8d0c2d85847e3661023b65e8258");
}

BOOST_AUTO_TEST_CASE(key_order_compares_decimal_components_numerically) {
  struct Case {
    std::string_view a, b;
    int expected;
  };
  const Case cases[] = {
      {"S|U|2", "S|U|10", -1},     // numeric: 2 < 10
      {"S|U|10", "S|U|9", 1},      //
      {"S|U|10", "S|U|10", 0},     //
      {"S|U|010", "S|U|10", 1},    // "010" is not canonical: text, after every number
      {"S|U|2", "S|U|2a", -1},     // a number before a text
      {"S|U|10", "S|U|1a", -1},    // a number before a text (bytewise would say 1a < 10)
      {"S|U|1a", "S|U|1b", -1},    // two texts: bytewise
      {"S|U-2|1", "S|U-10|1", 1},  // bytewise: '2' > '1'
      {"S|U", "S|U|1", -1},        // fewer components first
      {"S|a\\|b", "S|a|b", 1},     // escaped '|' stays inside the component "a|b" > "a"
      {"S|0", "S|00", -1},         // "0" is a number, "00" a text
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.a << " vs " << c.b) {
      BOOST_TEST(provenance::CompareRecordKeys(c.a, c.b) == c.expected);
      BOOST_TEST(provenance::CompareRecordKeys(c.b, c.a) == -c.expected);
      const int bytes = provenance::RecordSortKey(c.a).compare(provenance::RecordSortKey(c.b));
      BOOST_TEST((bytes > 0) - (bytes < 0) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused_naming_key_and_both_lines) {
  scanner::Dataset ds = Parse(kThree, "AE");
  ds.records.push_back(ds.records[1]);  // AESEQ 2 again
  ds.records.back().line = 9;
  auto seal = provenance::SealDataset(ds);
  BOOST_REQUIRE(!seal.has_value());
  BOOST_TEST(seal.error().code() == "trial.duplicate_key");
  // A candidate with a duplicate key is refused too.
  const DatasetSeal sealed = MustSeal(Parse(kThree, "AE"));
  auto diff = provenance::CompareDataset(sealed, ds);
  BOOST_REQUIRE(!diff.has_value());
  BOOST_TEST(diff.error().code() == "trial.duplicate_key");
  BOOST_TEST(diff.error().message().find("line 3 and again at line 9") != std::string::npos);
  BOOST_TEST(seal.error().message().find("S1|S1-001|2") != std::string::npos);
  BOOST_TEST(seal.error().message().find("line 3 and again at line 9") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_dataset_and_wrong_salt_count_are_refused) {
  scanner::Dataset ds = Parse(kThree, "AE");
  const std::vector<provenance::Salt> two = {CountingSalt(0), CountingSalt(1)};
  auto wrong = provenance::SealDataset(ds, two);
  BOOST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error().code() == "trial.salt_count");
  ds.records.clear();
  auto empty = provenance::SealDataset(ds);
  BOOST_REQUIRE(!empty.has_value());
  BOOST_TEST(empty.error().code() == "trial.empty_dataset");
  auto none = provenance::SealRecords({}, "x");
  BOOST_REQUIRE(!none.has_value());
  BOOST_TEST(none.error().code() == "trial.empty_dataset");
}

BOOST_AUTO_TEST_CASE(seal_tree_matches_compact_range_and_its_proofs_verify) {
  for (uint64_t n = 1; n <= 17; ++n) {
    std::vector<Hash> commitments;
    log::CompactRange range;
    for (uint64_t i = 0; i < n; ++i) {
      commitments.push_back(Sha256(std::to_string(i)));
      range.Append(log::LeafHash(commitments.back()), nullptr);
    }
    const provenance::SealTree tree(commitments, 2);
    BOOST_TEST(ToHex(tree.Root()) == ToHex(range.Root()));
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = tree.InclusionProof(i);
      BOOST_REQUIRE(proof.has_value());
      BOOST_TEST(log::VerifyInclusion(i, n, log::LeafHash(commitments[i]), *proof, tree.Root())
                     .has_value());
    }
    BOOST_TEST(tree.InclusionProof(n).error().code() == "merkle.index_out_of_range");
  }
}

// Above a few thousand records the work is split across threads; the result must not change.
BOOST_AUTO_TEST_CASE(threaded_seal_and_compare_agree_with_a_sequential_computation) {
  std::string csv = "STUDYID,USUBJID,AESEQ,AETERM\n";
  constexpr size_t kRecords = 20000;
  for (size_t i = 0; i < kRecords; ++i) {
    // Reverse order, so the sort path runs too.
    const size_t k = kRecords - 1 - i;
    csv += "S1,S1-" + std::to_string(k / 7) + "," + std::to_string(k % 7 + 1) + ",T" +
           std::to_string(k) + "\n";
  }
  const scanner::Dataset ds = Parse(csv, "AE");
  std::vector<provenance::Salt> salts(kRecords);
  for (size_t i = 0; i < kRecords; ++i) salts[i] = CountingSalt(static_cast<uint8_t>(i));
  auto seal = provenance::SealDataset(ds, salts);
  BOOST_REQUIRE_MESSAGE(seal.has_value(), Why(seal));

  std::vector<std::pair<std::string, size_t>> keyed;
  for (size_t i = 0; i < kRecords; ++i) keyed.emplace_back(provenance::RecordKey(ds, i), i);
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return provenance::RecordKeyLess(a.first, b.first);
  });
  log::CompactRange range;
  for (const auto& [key, i] : keyed) {
    range.Append(
        log::LeafHash(provenance::RecordCommitment(salts[i], provenance::CanonicalRecord(ds, i))),
        nullptr);
  }
  BOOST_TEST(ToHex(seal->summary.root) == ToHex(range.Root()));
  BOOST_TEST(seal->records.front().key == "S1|S1-0|1");

  std::string edited = csv;
  edited.replace(edited.find(",T12345\n"), 8, ",T99999\n");
  provenance::CompareOptions options;
  options.threads = 2;
  const DatasetDiff diff = MustCompare(*seal, Parse(edited, "AE"), options);
  BOOST_REQUIRE_EQUAL(diff.changed.size(), 1u);
  BOOST_TEST(diff.changed[0].cells[0].candidate.value_or("") == "T99999");
}

// Acceptance (b)1: one changed cell is named by key and column.
BOOST_AUTO_TEST_CASE(one_changed_cell_is_named_by_key_and_column) {
  const std::string dm = ReadFile(kFixtures + "dm.csv");
  const DatasetSeal seal = MustSeal(Parse(dm));
  std::string edited = dm;
  const std::string from = "1023,2012-08-05,1951,64,", to = "1023,2012-08-05,1951,65,";
  const size_t at = edited.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  edited.replace(at, from.size(), to);

  const DatasetDiff diff = MustCompare(seal, Parse(edited));
  BOOST_TEST(!diff.records_identical());
  BOOST_TEST(diff.added.empty());
  BOOST_TEST(diff.deleted.empty());
  BOOST_REQUIRE_EQUAL(diff.changed.size(), 1u);
  const provenance::ChangedRecord& c = diff.changed[0];
  BOOST_TEST(c.key == "PDG-TRIAL-01|PDG-TRIAL-01-701-1023");
  BOOST_TEST(c.candidate_line == 3u);
  BOOST_REQUIRE_EQUAL(c.cells.size(), 1u);
  BOOST_TEST(c.cells[0].column == "AGE");
  BOOST_TEST(c.cells[0].sealed.value_or("<null>") == "64");
  BOOST_TEST(c.cells[0].candidate.value_or("<null>") == "65");
}

// Acceptance (b)2: a deleted and an added row are listed separately by key.
BOOST_AUTO_TEST_CASE(deleted_and_added_rows_are_listed_separately) {
  const std::string ae = ReadFile(kFixtures + "ae.csv");
  const DatasetSeal seal = MustSeal(Parse(ae));
  std::istringstream lines(ae);
  std::string header, first, rest, line;
  std::getline(lines, header);
  std::getline(lines, first);  // PDG-TRIAL-01-701-1015 AESEQ 1: deleted
  while (std::getline(lines, line)) rest += line + "\n";
  const std::string added =
      "PDG-TRIAL-01,AE,PDG-TRIAL-01-701-1015,3,RASH,RASH,MILD,N,2014-01-20,,19,\n";
  const std::string candidate = header + "\n" + rest + added;

  const DatasetDiff diff = MustCompare(seal, Parse(candidate));
  BOOST_TEST(diff.changed.empty());
  BOOST_REQUIRE_EQUAL(diff.deleted.size(), 1u);
  BOOST_TEST(diff.deleted[0].key == "PDG-TRIAL-01|PDG-TRIAL-01-701-1015|1");
  BOOST_REQUIRE_EQUAL(diff.added.size(), 1u);
  BOOST_TEST(diff.added[0].key == "PDG-TRIAL-01|PDG-TRIAL-01-701-1015|3");
  BOOST_TEST(diff.added[0].line > 1u);
}

// Acceptance (b)3: reordered rows, BOM and CRLF keep records identical; byte-exact mode
// reports the file hash separately.
BOOST_AUTO_TEST_CASE(reordered_crlf_copy_is_identical_by_record_but_not_by_bytes) {
  const std::string ae = ReadFile(kFixtures + "ae.csv");
  const std::string copy = ReadFile(kFixtures + "ae_bom_crlf.csv");
  const DatasetSeal seal = MustSeal(Parse(ae));
  provenance::CompareOptions options;
  options.recorded_file_hash = Sha256(ae);
  options.candidate_bytes = copy;
  const DatasetDiff diff = MustCompare(seal, Parse(copy), options);
  BOOST_TEST(diff.records_identical());
  BOOST_REQUIRE(diff.file_hash.has_value());
  BOOST_TEST(!diff.file_hash->matches());
  BOOST_TEST(diff.file_hash->recorded == ToHex(Sha256(ae)));
  BOOST_TEST(diff.file_hash->candidate == ToHex(Sha256(copy)));

  options.candidate_bytes = ae;
  const DatasetDiff same = MustCompare(seal, Parse(ae), options);
  BOOST_TEST(same.records_identical());
  BOOST_TEST(same.file_hash->matches());
}

BOOST_AUTO_TEST_CASE(sealed_leaves_that_do_not_give_the_root_are_refused_with_both_roots) {
  const scanner::Dataset ds = Parse(ReadFile(kFixtures + "ae.csv"));
  DatasetSeal seal = MustSeal(ds);
  seal.records[3].leaf[0] ^= 1;
  auto diff = provenance::CompareDataset(seal, ds);
  BOOST_REQUIRE(!diff.has_value());
  BOOST_TEST(diff.error().code() == "trial.seal_root_mismatch");
  BOOST_TEST(diff.error().message().find(ToHex(seal.summary.root)) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(seals_out_of_key_order_or_with_a_wrong_count_are_refused) {
  const scanner::Dataset ds = Parse(kThree, "AE");
  DatasetSeal swapped = MustSeal(ds);
  std::swap(swapped.records[0], swapped.records[1]);
  BOOST_TEST(provenance::CompareDataset(swapped, ds).error().code() == "trial.unsorted_seal");
  DatasetSeal short_seal = MustSeal(ds);
  short_seal.records.pop_back();
  BOOST_TEST(provenance::CompareDataset(short_seal, ds).error().code() == "trial.count_mismatch");
  DatasetSeal damaged = MustSeal(ds);
  damaged.records[1].salt->at(0) ^= 1;  // the store's salt no longer gives the leaf
  BOOST_TEST(provenance::CompareDataset(damaged, ds).error().code() == "trial.leaf_mismatch");
  std::vector<provenance::SealedRecord> records = MustSeal(ds).records;
  records[2].salt->at(0) ^= 1;
  BOOST_TEST(provenance::SealRecords(records, "x").error().code() == "trial.leaf_mismatch");
}

BOOST_AUTO_TEST_CASE(seal_records_sorts_into_key_order_and_keeps_the_root) {
  const DatasetSeal seal = MustSeal(Parse(kThree, "AE"));
  std::vector<provenance::SealedRecord> reversed(seal.records.rbegin(), seal.records.rend());
  reversed[0].salt.reset();  // a redacted record keeps its place through its leaf
  reversed[0].canonical.reset();
  auto again = provenance::SealRecords(reversed, seal.summary.schema_hash);
  BOOST_REQUIRE_MESSAGE(again.has_value(), Why(again));
  BOOST_TEST(ToHex(again->summary.root) == ToHex(seal.summary.root));
  BOOST_TEST(again->records[0].key == "S1|S1-001|1");
}

BOOST_AUTO_TEST_CASE(records_without_text_or_salt_are_changed_without_values_or_unverifiable) {
  const std::string csv = std::string(kThree);
  const DatasetSeal full = MustSeal(Parse(csv, "AE"));
  DatasetSeal seal = full;
  seal.records[0].canonical.reset();  // published with salts only
  seal.records[1].canonical.reset();  // redacted: neither salt nor text
  seal.records[1].salt.reset();
  std::string edited = csv;
  edited.replace(edited.find("RASH"), 4, "RASH2");
  const DatasetDiff diff = MustCompare(seal, Parse(edited, "AE"));
  BOOST_REQUIRE_EQUAL(diff.changed.size(), 1u);
  BOOST_TEST(diff.changed[0].key == "S1|S1-001|1");
  BOOST_TEST(!diff.changed[0].values_known);
  BOOST_TEST(diff.changed[0].cells.empty());
  BOOST_REQUIRE_EQUAL(diff.unverifiable.size(), 1u);
  BOOST_TEST(diff.unverifiable[0].key == "S1|S1-001|2");
}

// ---- Disclosure ----

struct Disclosed {
  TestLog log;
  DatasetSeal seal;
  provenance::Disclosure disclosure;
};

std::unique_ptr<Disclosed> DiscloseOneAeRecord() {
  auto out = std::make_unique<Disclosed>();
  out->seal = MustSeal(Parse(ReadFile(kFixtures + "ae.csv")));
  out->log.AppendFiller(5);
  const uint64_t index =
      out->log.Append(TestLog::SealEntry("PDG-TRIAL-01", "AE", out->seal.summary));
  out->log.AppendFiller(2);
  std::vector<Hash> leaves;
  for (const auto& r : out->seal.records) leaves.push_back(r.leaf);
  const provenance::SealTree tree(leaves);
  auto d = MakeDisclosure("PDG-TRIAL-01", "AE", out->seal, tree, 4, out->log.Evidence(index));
  BOOST_REQUIRE_MESSAGE(d.has_value(), Why(d));
  out->disclosure = std::move(*d);
  return out;
}

// Acceptance (b)4: one AE record with its salt and proofs verifies with the log key alone.
BOOST_AUTO_TEST_CASE(one_disclosed_record_verifies_from_its_file_alone) {
  auto d = DiscloseOneAeRecord();
  const std::string json = provenance::DisclosureToJson(d->disclosure);
  BOOST_TEST(pedigree::CheckCanonical(json).has_value());
  auto parsed = provenance::ParseDisclosure(json);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), Why(parsed));
  BOOST_TEST(DisclosureToJson(*parsed) == json);
  const auto verifiers = d->log.Verifiers();
  auto verified = provenance::VerifyDisclosure(*parsed, verifiers);
  BOOST_REQUIRE_MESSAGE(verified.has_value(), Why(verified));
  BOOST_TEST(verified->record_key == d->seal.records[4].key);
  BOOST_TEST(verified->checkpoint.size == 8u);
  // Only one record's text is in the file.
  BOOST_TEST(json.find(*d->seal.records[3].canonical) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(tampered_disclosures_fail_with_their_code) {
  auto base = DiscloseOneAeRecord();
  const auto verifiers = base->log.Verifiers();
  const provenance::Disclosure& good = base->disclosure;
  struct Case {
    const char* name;
    std::function<void(provenance::Disclosure&)> tamper;
    const char* code;
  };
  const DatasetSeal& seal = base->seal;
  const Case cases[] = {
      {"wrong salt", [](provenance::Disclosure& d) { d.salt[0] ^= 1; }, "disclosure.leaf_mismatch"},
      {"wrong record",
       [&seal](provenance::Disclosure& d) { d.canonical = *seal.records[5].canonical; },
       "disclosure.leaf_mismatch"},
      {"other record's salt and text",
       [&seal](provenance::Disclosure& d) {
         d.canonical = *seal.records[5].canonical;
         d.salt = *seal.records[5].salt;
       },
       "disclosure.leaf_mismatch"},
      {"wrong index", [](provenance::Disclosure& d) { d.leaf_index = 5; },
       "disclosure.proof_invalid"},
      {"index beyond the count", [](provenance::Disclosure& d) { d.leaf_index = 7; },
       "disclosure.index_out_of_range"},
      {"proof for a larger tree", [](provenance::Disclosure& d) { d.record_count = 8; },
       "disclosure.tree_size_mismatch"},
      {"proof hash flipped", [](provenance::Disclosure& d) { d.proof[0][5] ^= 1; },
       "disclosure.proof_invalid"},
      {"seal root swapped in the file", [](provenance::Disclosure& d) { d.seal.root[0] ^= 1; },
       "disclosure.seal_mismatch"},
      {"seal count raised in the file and the proof",
       [](provenance::Disclosure& d) {
         d.seal.record_count = 9;
         d.record_count = 9;
       },
       "disclosure.seal_mismatch"},
      {"other domain", [](provenance::Disclosure& d) { d.domain = "DM"; },
       "disclosure.seal_mismatch"},
      {"tampered checkpoint",
       [](provenance::Disclosure& d) {
         const size_t at = d.evidence.checkpoint.find('\n') + 1;
         d.evidence.checkpoint[at] = '9';  // the size line
       },
       "disclosure.bad_checkpoint"},
      {"seal index beyond the checkpoint",
       [](provenance::Disclosure& d) { d.evidence.seal_index = 8; },
       "disclosure.seal_index_out_of_range"},
      {"seal entry at another index", [](provenance::Disclosure& d) { d.evidence.seal_index = 4; },
       "disclosure.seal_not_included"},
      {"seal entry not the logged one",
       [&seal](provenance::Disclosure& d) {
         provenance::SealSummary other = seal.summary;
         other.record_count += 1;
         d.evidence.seal_entry = TestLog::SealEntry("PDG-TRIAL-01", "AE", other);
       },
       "disclosure.seal_not_included"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      provenance::Disclosure d = good;
      c.tamper(d);
      auto r = provenance::VerifyDisclosure(d, verifiers);
      BOOST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().code() == c.code, r.error().ToString());
    }
  }
  // Another log key does not open the checkpoint.
  auto wrong_key = log::NoteVerifier::Parse(
      log::NoteSigner("log.example/trials", pedigree::testing::SeededKey(0x55)).VerifierKey());
  BOOST_REQUIRE(wrong_key.has_value());
  const std::vector<log::NoteVerifier> wrong = {*wrong_key};
  BOOST_TEST(provenance::VerifyDisclosure(good, wrong).error().code() ==
             "disclosure.bad_checkpoint");
}

// Valid cryptography, misleading metadata: the seal binds the record, not the key the file
// names, so a key naming another subject or record must not verify.
BOOST_AUTO_TEST_CASE(a_disclosure_whose_key_names_another_record_is_refused) {
  auto base = DiscloseOneAeRecord();
  const auto verifiers = base->log.Verifiers();
  const std::string other_key = base->seal.records[5].key;  // another AE record
  BOOST_REQUIRE(other_key != base->disclosure.key);
  const std::string forged_keys[] = {
      other_key,
      base->seal.records[0].key,
      "PDG-TRIAL-01|SOMEONE-ELSE|1",
      base->disclosure.key + "|extra",
      "",
  };
  for (const std::string& key : forged_keys) {
    BOOST_TEST_CONTEXT("key " << key) {
      provenance::Disclosure d = base->disclosure;
      d.key = key;
      // Through the file, as a verifier receives it.
      auto parsed = provenance::ParseDisclosure(provenance::DisclosureToJson(d));
      BOOST_REQUIRE_MESSAGE(parsed.has_value(), Why(parsed));
      auto r = provenance::VerifyDisclosure(*parsed, verifiers);
      BOOST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().code() == "disclosure.key_mismatch", r.error().ToString());
      BOOST_TEST(r.error().field() == "key");
    }
  }
  // The true key still verifies.
  BOOST_TEST(provenance::VerifyDisclosure(base->disclosure, verifiers).has_value());
}

// A seal signed for another log (another shard's) is not evidence about this one, even when
// this log happens to hold it.
BOOST_AUTO_TEST_CASE(a_seal_entry_signed_for_another_log_is_refused) {
  auto base = DiscloseOneAeRecord();
  const uint64_t index = base->log.Append(
      TestLog::SealEntry("PDG-TRIAL-01", "AE", base->seal.summary, "log.example/other-shard"));
  provenance::Disclosure d = base->disclosure;
  d.evidence = base->log.Evidence(index);
  auto r = provenance::VerifyDisclosure(d, base->log.Verifiers());
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "disclosure.seal_entry_invalid");
  BOOST_TEST(r.error().message().find("log.example/other-shard") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_seal_entry_that_is_not_a_trial_seal_is_refused) {
  auto base = DiscloseOneAeRecord();
  // Entry 0 is a filler event, validly signed and included, but not a trial.seal.
  provenance::Disclosure d = base->disclosure;
  d.evidence = base->log.Evidence(0);
  auto r = provenance::VerifyDisclosure(d, base->log.Verifiers());
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "disclosure.seal_entry_invalid");
}

BOOST_AUTO_TEST_CASE(malformed_disclosure_files_are_refused_naming_the_member) {
  auto base = DiscloseOneAeRecord();
  const std::string json = provenance::DisclosureToJson(base->disclosure);
  struct Case {
    std::string from, to, field;
  };
  const Case cases[] = {
      {"\"format\":\"pedigree-disclosure/v1\"", "\"format\":\"pedigree-disclosure/v2\"", "format"},
      {"\"leafIndex\":4", "\"leafIndex\":-4", "leafIndex"},
      {"\"leafIndex\":4", "\"leafIndex\":\"4\"", "leafIndex"},
      {"\"format\"", "\"extra\":1,\"format\"", "extra"},
      {"\"salt\":\"", "\"salt\":\"00", "salt"},
      {"\"proof\":[\"", "\"proof\":[1,\"", "proof"},
      {"\"leaf\":\"", "\"leaf\":\"A", "leaf"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.field) {
      std::string text = json;
      const size_t at = text.find(c.from);
      BOOST_REQUIRE(at != std::string::npos);
      text.replace(at, c.from.size(), c.to);
      auto r = provenance::ParseDisclosure(text);
      BOOST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().code() == "disclosure.malformed");
      BOOST_TEST(r.error().field() == c.field);
    }
  }
}

BOOST_AUTO_TEST_CASE(redacted_records_cannot_be_disclosed) {
  DatasetSeal seal = MustSeal(Parse(kThree, "AE"));
  seal.records[1].salt.reset();
  seal.records[1].canonical.reset();
  std::vector<Hash> leaves;
  for (const auto& r : seal.records) leaves.push_back(r.leaf);
  const provenance::SealTree tree(leaves);
  auto d = provenance::MakeDisclosure("T", "AE", seal, tree, 1, {});
  BOOST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "trial.redacted");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::provenance
