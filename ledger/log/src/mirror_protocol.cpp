#include "pedigree/log/mirror_protocol.h"

#include <bit>
#include <charconv>
#include <utility>

#include "pedigree/log/merkle.h"

namespace pedigree::log {
namespace {

std::unexpected<Error> Malformed(std::string field, std::string message, uint64_t offset) {
  return Fail(
      Error("mirror.malformed", std::move(message)).at_field(std::move(field)).at_offset(offset));
}

// A big-endian reader over the body that reports where it stopped.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}
  size_t offset() const { return pos_; }
  size_t left() const { return data_.size() - pos_; }
  bool ReadU8(uint8_t& v) {
    if (left() < 1) return false;
    v = data_[pos_++];
    return true;
  }
  bool ReadU16(uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool ReadU64(uint64_t& v) {
    if (left() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | data_[pos_ + i];
    pos_ += 8;
    return true;
  }
  bool ReadBytes(size_t n, std::span<const uint8_t>& out) {
    if (left() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

void PutU16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void PutU64(Bytes& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

// Largest power of two strictly below n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

Result<uint64_t> ParseDecimal(std::string_view text, const char* field) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      (text.size() > 1 && text[0] == '0')) {
    return Fail(Error("mirror.malformed",
                      std::string(field) + " \"" + std::string(text) + "\" is not a decimal number")
                    .at_field(field));
  }
  return v;
}

Status CheckSubtree(uint64_t start, uint64_t end, uint64_t size) {
  if (!IsValidSubtree(start, end) || end > size) {
    return Fail("mirror.bad_subtree", "[" + std::to_string(start) + ", " + std::to_string(end) +
                                          ") is not a subtree of a tree of size " +
                                          std::to_string(size));
  }
  return Ok();
}

// SUBTREE_SUBPROOF(start, end, D[offset:offset+n], known_end), appended inner first.
Status Subproof(uint64_t offset, uint64_t start, uint64_t end, uint64_t n, bool known_end,
                HashReader& reader, std::vector<Hash>& out) {
  if (start == 0 && end == n) {
    if (!known_end) {
      PEDIGREE_ASSIGN(h, RangeRoot(offset, offset + n, reader));
      out.push_back(*h);
    }
    return Ok();
  }
  const uint64_t k = SplitPoint(n);
  if (end <= k) {
    PEDIGREE_TRY(Subproof(offset, start, end, k, known_end, reader, out));
    PEDIGREE_ASSIGN(h, RangeRoot(offset + k, offset + n, reader));
    out.push_back(*h);
  } else if (start >= k) {
    PEDIGREE_TRY(Subproof(offset + k, start - k, end - k, n - k, known_end, reader, out));
    PEDIGREE_ASSIGN(h, RangeRoot(offset, offset + k, reader));
    out.push_back(*h);
  } else {
    // A subtree straddles the split only when it starts at 0 (start is a multiple of
    // BIT_CEIL(end - start) > k): its hash is MTH(D[0:k]) joined with [k, end).
    PEDIGREE_TRY(Subproof(offset + k, 0, end - k, n - k, false, reader, out));
    PEDIGREE_ASSIGN(h, RangeRoot(offset, offset + k, reader));
    out.push_back(*h);
  }
  return Ok();
}

// The verifier's mirror of Subproof: consumes the proof from its end (outermost hash) and
// returns {hash of the subtree, root of D[0:n]} at this level.
struct Verifier {
  std::span<const Hash> proof;
  size_t remaining;
  const Hash& subtree_hash;

  Result<std::pair<Hash, Hash>> Walk(uint64_t start, uint64_t end, uint64_t n, bool known_end) {
    if (start == 0 && end == n) {
      if (known_end) return std::pair{subtree_hash, subtree_hash};
      PEDIGREE_ASSIGN(h, Next());
      return std::pair{*h, *h};
    }
    PEDIGREE_ASSIGN(p, Next());
    const uint64_t k = SplitPoint(n);
    if (end <= k) {
      PEDIGREE_ASSIGN(r, Walk(start, end, k, known_end));
      return std::pair{r->first, NodeHash(r->second, *p)};
    }
    if (start >= k) {
      PEDIGREE_ASSIGN(r, Walk(start - k, end - k, n - k, known_end));
      return std::pair{r->first, NodeHash(*p, r->second)};
    }
    PEDIGREE_ASSIGN(r, Walk(0, end - k, n - k, false));
    return std::pair{NodeHash(*p, r->first), NodeHash(*p, r->second)};
  }
  Result<Hash> Next() {
    if (remaining == 0) {
      return Fail("merkle.wrong_proof_size", "the subtree consistency proof of " +
                                                 std::to_string(proof.size()) +
                                                 " hashes is too short for its sizes");
    }
    return proof[--remaining];
  }
};

}  // namespace

uint64_t CanonicalPackageCount(uint64_t upload_start, uint64_t upload_end) {
  if (upload_start >= upload_end) return 0;
  const uint64_t rounded_start = upload_start - upload_start % kMirrorPackageEntries;
  // Rounded up without overflowing near 2^64.
  const uint64_t span = upload_end - rounded_start;
  return span / kMirrorPackageEntries + (span % kMirrorPackageEntries != 0 ? 1 : 0);
}

PackageRange CanonicalPackage(uint64_t upload_start, uint64_t upload_end, uint64_t i) {
  const uint64_t rounded_start = upload_start - upload_start % kMirrorPackageEntries;
  const uint64_t subtree_start = rounded_start + i * kMirrorPackageEntries;
  const uint64_t end = upload_end - subtree_start < kMirrorPackageEntries
                           ? upload_end
                           : subtree_start + kMirrorPackageEntries;
  return {
      .subtree_start = subtree_start, .start = std::max(upload_start, subtree_start), .end = end};
}

Result<ParsedHeader> ParseAddEntriesHeader(std::span<const uint8_t> body) {
  Reader r(body);
  ParsedHeader out;
  uint16_t origin_len = 0;
  std::span<const uint8_t> origin;
  if (!r.ReadU16(origin_len)) {
    return Malformed("log_origin_size", "the body ends before the origin's length", r.offset());
  }
  if (origin_len == 0) return Malformed("log_origin", "the origin is empty", r.offset());
  if (!r.ReadBytes(origin_len, origin)) {
    return Malformed("log_origin",
                     "the origin's length is " + std::to_string(origin_len) + " bytes but only " +
                         std::to_string(r.left()) + " follow",
                     r.offset());
  }
  out.header.origin = std::string(AsText(origin));
  if (!r.ReadU64(out.header.upload_start)) {
    return Malformed("upload_start", "the body ends inside upload_start", r.offset());
  }
  if (!r.ReadU64(out.header.upload_end)) {
    return Malformed("upload_end", "the body ends inside upload_end", r.offset());
  }
  if (out.header.upload_start > out.header.upload_end) {
    return Malformed("upload_start",
                     "upload_start " + std::to_string(out.header.upload_start) +
                         " is beyond upload_end " + std::to_string(out.header.upload_end),
                     r.offset() - 16);
  }
  uint16_t ticket_len = 0;
  std::span<const uint8_t> ticket;
  if (!r.ReadU16(ticket_len)) {
    return Malformed("ticket_size", "the body ends before the ticket's length", r.offset());
  }
  if (!r.ReadBytes(ticket_len, ticket)) {
    return Malformed("ticket",
                     "the ticket's length is " + std::to_string(ticket_len) + " bytes but only " +
                         std::to_string(r.left()) + " follow",
                     r.offset());
  }
  out.header.ticket.assign(ticket.begin(), ticket.end());
  out.packages_offset = r.offset();
  return out;
}

Result<ParsedPackages> ParseEntryPackages(const AddEntriesHeader& header,
                                          std::span<const uint8_t> body) {
  ParsedPackages out;
  const uint64_t count = CanonicalPackageCount(header.upload_start, header.upload_end);
  Reader r(body);
  for (uint64_t i = 0; i < count; ++i) {
    if (r.left() == 0) break;  // a strict prefix, ending on a package boundary
    const size_t package_offset = r.offset();
    const PackageRange range = CanonicalPackage(header.upload_start, header.upload_end, i);
    EntryPackage package{.subtree_start = range.subtree_start,
                         .start = range.start,
                         .end = range.end,
                         .entries = {},
                         .proof = {}};
    package.entries.reserve(range.end - range.start);
    bool whole = true;
    for (uint64_t index = range.start; index < range.end && whole; ++index) {
      uint16_t len = 0;
      std::span<const uint8_t> entry;
      whole = r.ReadU16(len) && r.ReadBytes(len, entry);
      if (whole) package.entries.emplace_back(AsText(entry));
    }
    uint8_t num_hashes = 0;
    whole = whole && r.ReadU8(num_hashes);
    if (whole && num_hashes > kMirrorMaxProofHashes) {
      return Fail(Error("mirror.proof_too_long", "package " + std::to_string(i) + " has " +
                                                     std::to_string(num_hashes) +
                                                     " proof hashes; at most 63 are allowed")
                      .at_field("num_hashes")
                      .at_offset(r.offset() - 1));
    }
    for (uint8_t h = 0; h < num_hashes && whole; ++h) {
      std::span<const uint8_t> bytes;
      whole = r.ReadBytes(32, bytes);
      if (whole) {
        Hash hash;
        std::copy(bytes.begin(), bytes.end(), hash.begin());
        package.proof.push_back(hash);
      }
    }
    if (!whole) {
      if (out.packages.empty()) {
        return Malformed("entries",
                         "the body ends inside package 0 (entries [" + std::to_string(range.start) +
                             ", " + std::to_string(range.end) + ")): no whole package",
                         r.offset());
      }
      out.discarded = body.size() - package_offset;
      return out;
    }
    out.packages.push_back(std::move(package));
  }
  if (r.left() != 0) {
    return Malformed("entries",
                     std::to_string(r.left()) + " bytes follow the last package of [" +
                         std::to_string(header.upload_start) + ", " +
                         std::to_string(header.upload_end) + ")",
                     r.offset());
  }
  out.complete = out.packages.size() == count;
  if (!out.complete && out.packages.empty()) {
    return Malformed("entries",
                     "no entry package follows the header although [" +
                         std::to_string(header.upload_start) + ", " +
                         std::to_string(header.upload_end) + ") is not empty",
                     r.offset());
  }
  return out;
}

Result<Bytes> EncodeAddEntriesHeader(const AddEntriesHeader& header) {
  if (header.origin.empty() || header.origin.size() > 0xffff) {
    return Fail(
        Error("mirror.malformed", "the origin must be 1 to 65535 bytes").at_field("log_origin"));
  }
  if (header.ticket.size() > 0xffff) {
    return Fail(
        Error("mirror.malformed", "the ticket must be at most 65535 bytes").at_field("ticket"));
  }
  Bytes out;
  PutU16(out, static_cast<uint16_t>(header.origin.size()));
  out.insert(out.end(), header.origin.begin(), header.origin.end());
  PutU64(out, header.upload_start);
  PutU64(out, header.upload_end);
  PutU16(out, static_cast<uint16_t>(header.ticket.size()));
  out.insert(out.end(), header.ticket.begin(), header.ticket.end());
  return out;
}

Status AppendEntryPackage(Bytes& body, std::span<const std::string> entries,
                          std::span<const Hash> proof) {
  if (proof.size() > kMirrorMaxProofHashes) {
    return Fail(Error("mirror.proof_too_long", "a package's proof has " +
                                                   std::to_string(proof.size()) +
                                                   " hashes; at most 63 are allowed")
                    .at_field("num_hashes"));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].size() > 0xffff) {
      return Fail(Error("mirror.entry_too_long", "entry " + std::to_string(i) +
                                                     " of the package is " +
                                                     std::to_string(entries[i].size()) +
                                                     " bytes; add-entries carries at most 65535")
                      .at_field("entries"));
    }
  }
  for (const std::string& entry : entries) {
    PutU16(body, static_cast<uint16_t>(entry.size()));
    body.insert(body.end(), entry.begin(), entry.end());
  }
  body.push_back(static_cast<uint8_t>(proof.size()));
  for (const Hash& h : proof) body.insert(body.end(), h.begin(), h.end());
  return Ok();
}

std::string FormatMirrorInfo(const MirrorInfo& info) {
  return std::to_string(info.pending_size) + "\n" + std::to_string(info.next_entry) + "\n" +
         ToBase64(info.ticket) + "\n";
}

Result<MirrorInfo> ParseMirrorInfo(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return Fail(Error("mirror.malformed", "a mirror-info line does not end in a newline")
                      .at_field("mirror-info"));
    }
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() != 3) {
    return Fail(Error("mirror.malformed", "a mirror-info body has " + std::to_string(lines.size()) +
                                              " lines; it must have 3")
                    .at_field("mirror-info"));
  }
  MirrorInfo info;
  PEDIGREE_ASSIGN(size, ParseDecimal(lines[0], "pending_size"));
  PEDIGREE_ASSIGN(next, ParseDecimal(lines[1], "next_entry"));
  info.pending_size = *size;
  info.next_entry = *next;
  if (!lines[2].empty()) {
    auto ticket = FromBase64(lines[2]);
    if (!ticket) {
      return Fail(Error("mirror.malformed", "the ticket \"" + std::string(lines[2]) +
                                                "\" is not base64: " + ticket.error().message())
                      .at_field("ticket"));
    }
    info.ticket = std::move(*ticket);
  }
  return info;
}

bool IsValidSubtree(uint64_t start, uint64_t end) {
  if (start >= end) return false;
  const uint64_t size = end - start;
  if (size > (uint64_t{1} << 63)) return start == 0;
  return start % std::bit_ceil(size) == 0;
}

Result<std::vector<Hash>> SubtreeConsistencyProof(uint64_t start, uint64_t end, uint64_t size,
                                                  HashReader& reader) {
  PEDIGREE_TRY(CheckSubtree(start, end, size));
  std::vector<Hash> out;
  PEDIGREE_TRY(Subproof(0, start, end, size, true, reader, out));
  return out;
}

Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                std::span<const Hash> proof, const Hash& subtree_hash,
                                const Hash& root) {
  PEDIGREE_TRY(CheckSubtree(start, end, size));
  Verifier v{.proof = proof, .remaining = proof.size(), .subtree_hash = subtree_hash};
  PEDIGREE_ASSIGN(result, v.Walk(start, end, size, true));
  if (v.remaining != 0) {
    return Fail("merkle.wrong_proof_size", "the subtree consistency proof has " +
                                               std::to_string(v.remaining) +
                                               " more hashes than its sizes need");
  }
  if (result->first != subtree_hash || result->second != root) {
    return Fail(Error("merkle.root_mismatch",
                      "the subtree consistency proof of [" + std::to_string(start) + ", " +
                          std::to_string(end) + ") in the tree of size " + std::to_string(size) +
                          " gives root " + ToHex(result->second) + ", not " + ToHex(root))
                    .with_detail("calculated", ToHex(result->second))
                    .with_detail("expected", ToHex(root)));
  }
  return Ok();
}

}  // namespace pedigree::log
