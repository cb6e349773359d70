// C2SP tlog-mirror push mode wire formats (add-entries bodies, mirror-info) and subtree
// consistency proofs (draft-ietf-plants-merkle-tree-certs §4.4).
#include "pedigree/log/mirror_protocol.h"

#include <boost/test/unit_test.hpp>
#include <map>

#include "common/result.h"
#include "pedigree/log/merkle.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::Why;

namespace {

// A complete tree held in memory: ReadHash computes perfect subtree hashes from the leaves.
class TreeReader final : public HashReader {
 public:
  explicit TreeReader(uint64_t size) {
    for (uint64_t i = 0; i < size; ++i) leaves_.push_back(LeafHash("leaf " + std::to_string(i)));
  }
  Result<Hash> ReadHash(uint32_t level, uint64_t index) override {
    const uint64_t width = uint64_t{1} << level;
    if ((index + 1) * width > leaves_.size()) return Fail("storage.not_found", "incomplete node");
    if (level == 0) return leaves_[index];
    auto key = std::pair{level, index};
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    Hash h = NodeHash(*ReadHash(level - 1, 2 * index), *ReadHash(level - 1, 2 * index + 1));
    memo_[key] = h;
    return h;
  }
  Hash Root(uint64_t begin, uint64_t end) { return RangeRoot(begin, end, *this).value(); }

 private:
  std::vector<Hash> leaves_;
  std::map<std::pair<uint32_t, uint64_t>, Hash> memo_;
};

Bytes Header(std::string_view origin, uint64_t start, uint64_t end, Bytes ticket = {}) {
  return EncodeAddEntriesHeader({.origin = std::string(origin),
                                 .upload_start = start,
                                 .upload_end = end,
                                 .ticket = std::move(ticket)})
      .value();
}

std::vector<std::string> Entries(uint64_t begin, uint64_t end) {
  std::vector<std::string> out;
  for (uint64_t i = begin; i < end; ++i) out.push_back("entry " + std::to_string(i));
  return out;
}

// A body with the packages [0, packages) of the canonical sequence of [start, end), each with
// a proof of `hashes` copies of a dummy hash.
Bytes Body(uint64_t start, uint64_t end, uint64_t packages, size_t hashes = 2) {
  Bytes body = Header("example.org/log", start, end, {1, 2, 3});
  std::vector<Hash> proof(hashes, Hash{7});
  for (uint64_t i = 0; i < packages; ++i) {
    PackageRange r = CanonicalPackage(start, end, i);
    BOOST_REQUIRE(AppendEntryPackage(body, Entries(r.start, r.end), proof));
  }
  return body;
}

Result<ParsedPackages> Parse(const Bytes& body) {
  PEDIGREE_ASSIGN(header, ParseAddEntriesHeader(body));
  return ParseEntryPackages(header->header,
                            std::span<const uint8_t>(body).subspan(header->packages_offset));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mirror_protocol)

BOOST_AUTO_TEST_CASE(canonical_sequence_is_aligned_at_256_entries) {
  BOOST_TEST(CanonicalPackageCount(0, 0) == 0u);
  BOOST_TEST(CanonicalPackageCount(5, 5) == 0u);
  BOOST_TEST(CanonicalPackageCount(0, 1) == 1u);
  BOOST_TEST(CanonicalPackageCount(0, 256) == 1u);
  BOOST_TEST(CanonicalPackageCount(0, 257) == 2u);
  BOOST_TEST(CanonicalPackageCount(300, 1000) == 3u);  // [256,512) [512,768) [768,1024)
  PackageRange first = CanonicalPackage(300, 1000, 0);
  BOOST_TEST(first.subtree_start == 256u);
  BOOST_TEST(first.start == 300u);
  BOOST_TEST(first.end == 512u);
  PackageRange last = CanonicalPackage(300, 1000, 2);
  BOOST_TEST(last.subtree_start == 768u);
  BOOST_TEST(last.start == 768u);
  BOOST_TEST(last.end == 1000u);
  const uint64_t top = ~uint64_t{0};
  BOOST_TEST(CanonicalPackageCount(top - 10, top) == 1u);
  BOOST_TEST(CanonicalPackage(top - 10, top, 0).end == top);
}

BOOST_AUTO_TEST_CASE(a_body_round_trips_through_the_encoder_and_parser) {
  const Bytes body = Body(300, 1000, 3, 5);
  auto header = ParseAddEntriesHeader(body);
  BOOST_REQUIRE_MESSAGE(header, Why(header));
  BOOST_TEST(header->header.origin == "example.org/log");
  BOOST_TEST(header->header.upload_start == 300u);
  BOOST_TEST(header->header.upload_end == 1000u);
  BOOST_TEST((header->header.ticket == Bytes{1, 2, 3}));
  auto parsed = Parse(body);
  BOOST_REQUIRE_MESSAGE(parsed, Why(parsed));
  BOOST_TEST(parsed->complete);
  BOOST_TEST(parsed->discarded == 0u);
  BOOST_REQUIRE(parsed->packages.size() == 3u);
  BOOST_TEST(parsed->packages[0].entries.size() == 212u);
  BOOST_TEST(parsed->packages[0].entries.front() == "entry 300");
  BOOST_TEST(parsed->packages[2].entries.back() == "entry 999");
  BOOST_TEST(parsed->packages[2].proof.size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_prefix_of_the_sequence_is_accepted_as_incomplete) {
  auto parsed = Parse(Body(0, 1000, 2));
  BOOST_REQUIRE_MESSAGE(parsed, Why(parsed));
  BOOST_TEST(!parsed->complete);
  BOOST_TEST(parsed->packages.size() == 2u);
  BOOST_TEST(parsed->discarded == 0u);
}

BOOST_AUTO_TEST_CASE(bytes_of_an_interrupted_package_after_a_whole_one_are_discarded) {
  Bytes body = Body(0, 1000, 2);
  body.resize(body.size() - 40);  // the second package loses its end
  auto parsed = Parse(body);
  BOOST_REQUIRE_MESSAGE(parsed, Why(parsed));
  BOOST_TEST(!parsed->complete);
  BOOST_TEST(parsed->packages.size() == 1u);
  BOOST_TEST(parsed->discarded > 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_range_carries_no_package) {
  auto parsed = Parse(Header("example.org/log", 0, 0));
  BOOST_REQUIRE_MESSAGE(parsed, Why(parsed));
  BOOST_TEST(parsed->complete);
  BOOST_TEST(parsed->packages.empty());
}

// Every malformed body is refused with its code and the field it breaks.
BOOST_AUTO_TEST_CASE(malformed_bodies_are_refused_with_the_field_named) {
  const Bytes good = Body(0, 300, 2);
  Bytes long_origin = {0x01, 0x00, 'a', 'b'};  // says 256 bytes of origin, has 2
  Bytes empty_origin = {0x00, 0x00};
  Bytes start_after_end = Header("o", 10, 5 + 10);
  start_after_end[3 + 7] = 0xff;  // upload_start's low byte: 255 > 15
  Bytes ticket_short = Header("o", 0, 0, {9, 9});
  ticket_short.pop_back();
  Bytes no_package = Header("o", 0, 300);
  Bytes trailing = good;
  trailing.push_back(0);
  Bytes first_truncated = good;
  first_truncated.resize(Header("example.org/log", 0, 300, {1, 2, 3}).size() + 100);
  Bytes too_many_hashes = Header("o", 0, 1);
  BOOST_REQUIRE(AppendEntryPackage(too_many_hashes, Entries(0, 1), {}));
  too_many_hashes.back() = 64;
  struct Case {
    const char* name;
    Bytes body;
    const char* code;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"empty body", {}, "mirror.malformed", "log_origin_size"},
      {"one byte", {0x00}, "mirror.malformed", "log_origin_size"},
      {"origin longer than the body", long_origin, "mirror.malformed", "log_origin"},
      {"empty origin", empty_origin, "mirror.malformed", "log_origin"},
      {"no upload_start", {0x00, 0x01, 'o', 0, 0}, "mirror.malformed", "upload_start"},
      {"upload_start after upload_end", start_after_end, "mirror.malformed", "upload_start"},
      {"truncated ticket", ticket_short, "mirror.malformed", "ticket"},
      {"header only for a non-empty range", no_package, "mirror.malformed", "entries"},
      {"first package truncated", first_truncated, "mirror.malformed", "entries"},
      {"trailing bytes", trailing, "mirror.malformed", "entries"},
      {"num_hashes 64", too_many_hashes, "mirror.proof_too_long", "num_hashes"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto parsed = Parse(c.body);
      BOOST_REQUIRE(!parsed);
      BOOST_TEST(parsed.error().code() == c.code);
      BOOST_TEST(parsed.error().field() == c.field);
      BOOST_TEST(parsed.error().location().offset.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_encoder_refuses_what_the_format_cannot_carry) {
  Bytes body;
  std::vector<Hash> proof(64);
  BOOST_TEST(AppendEntryPackage(body, Entries(0, 1), proof).error().code() ==
             "mirror.proof_too_long");
  std::vector<std::string> huge = {std::string(70'000, 'x')};
  BOOST_TEST(AppendEntryPackage(body, huge, {}).error().code() == "mirror.entry_too_long");
  BOOST_TEST(body.empty());
  BOOST_TEST(!EncodeAddEntriesHeader({.origin = ""}));
}

BOOST_AUTO_TEST_CASE(mirror_info_round_trips_and_is_strict) {
  const MirrorInfo info{.pending_size = 1000, .next_entry = 512, .ticket = {0xde, 0xad}};
  const std::string text = FormatMirrorInfo(info);
  BOOST_TEST(text == "1000\n512\n3q0=\n");
  auto parsed = ParseMirrorInfo(text);
  BOOST_REQUIRE_MESSAGE(parsed, Why(parsed));
  BOOST_TEST(parsed->pending_size == 1000u);
  BOOST_TEST(parsed->next_entry == 512u);
  BOOST_TEST((parsed->ticket == Bytes{0xde, 0xad}));
  BOOST_TEST(ParseMirrorInfo("5\n0\n\n").value().ticket.empty());
  for (const char* bad : {"", "5\n0\n", "5\n0\n\nx\n", "05\n0\n\n", "-5\n0\n\n", "5\n0\n!!\n",
                          "5\n0\n\n\n", "5\n0"}) {
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(ParseMirrorInfo(bad).error().code() == "mirror.malformed");
    }
  }
}

BOOST_AUTO_TEST_CASE(valid_subtrees_start_at_a_multiple_of_their_bit_ceil) {
  BOOST_TEST(IsValidSubtree(0, 5));
  BOOST_TEST(IsValidSubtree(256, 300));
  BOOST_TEST(IsValidSubtree(8, 12));
  BOOST_TEST(!IsValidSubtree(4, 9));  // size 5 needs a multiple of 8
  BOOST_TEST(!IsValidSubtree(3, 3));
  BOOST_TEST(!IsValidSubtree(5, 3));
}

// From the whole tree the subtree proof is RFC 6962's consistency proof (the draft says so).
BOOST_AUTO_TEST_CASE(a_subtree_proof_from_zero_is_the_rfc6962_consistency_proof) {
  TreeReader tree(70);
  for (uint64_t end = 1; end <= 70; ++end) {
    for (uint64_t size : {end, end + 1, uint64_t{70}}) {
      if (size > 70) continue;
      auto subtree = SubtreeConsistencyProof(0, end, size, tree);
      auto rfc = ConsistencyProof(end, size, tree);
      BOOST_REQUIRE_MESSAGE(subtree, Why(subtree));
      BOOST_TEST((*subtree == *rfc), "end " << end << " size " << size);
    }
  }
}

// Every subtree of every tree up to 40 leaves: the honest proof verifies; any flipped hash,
// a missing or an extra hash, another subtree hash or another root does not.
BOOST_AUTO_TEST_CASE(subtree_proofs_verify_and_every_tampering_fails) {
  TreeReader tree(40);
  for (uint64_t size = 1; size <= 40; ++size) {
    const Hash root = tree.Root(0, size);
    for (uint64_t start = 0; start < size; ++start) {
      for (uint64_t end = start + 1; end <= size; ++end) {
        if (!IsValidSubtree(start, end)) continue;
        BOOST_TEST_CONTEXT("[" << start << "," << end << ") in " << size) {
          const Hash node = tree.Root(start, end);
          auto proof = SubtreeConsistencyProof(start, end, size, tree);
          BOOST_REQUIRE_MESSAGE(proof, Why(proof));
          BOOST_REQUIRE(proof->size() <= kMirrorMaxProofHashes);
          auto ok = VerifySubtreeConsistency(start, end, size, *proof, node, root);
          BOOST_REQUIRE_MESSAGE(ok, Why(ok));
          for (size_t i = 0; i < proof->size(); ++i) {
            std::vector<Hash> bad = *proof;
            bad[i][0] ^= 1;
            BOOST_TEST(!VerifySubtreeConsistency(start, end, size, bad, node, root));
          }
          std::vector<Hash> longer = *proof;
          longer.push_back(root);
          BOOST_TEST(
              VerifySubtreeConsistency(start, end, size, longer, node, root).error().code() ==
              "merkle.wrong_proof_size");
          if (!proof->empty()) {
            std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
            BOOST_TEST(!VerifySubtreeConsistency(start, end, size, shorter, node, root));
          }
          Hash other = node;
          other[31] ^= 1;
          BOOST_TEST(
              VerifySubtreeConsistency(start, end, size, *proof, other, root).error().code() ==
              "merkle.root_mismatch");
          BOOST_TEST(
              VerifySubtreeConsistency(start, end, size, *proof, node, other).error().code() ==
              "merkle.root_mismatch");
        }
      }
    }
  }
  BOOST_TEST(VerifySubtreeConsistency(4, 9, 10, {}, Hash{}, Hash{}).error().code() ==
             "mirror.bad_subtree");
  BOOST_TEST(VerifySubtreeConsistency(0, 11, 10, {}, Hash{}, Hash{}).error().code() ==
             "mirror.bad_subtree");
}

BOOST_AUTO_TEST_SUITE_END()
