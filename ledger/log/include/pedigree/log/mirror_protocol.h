// C2SP tlog-mirror push mode, the wire formats and the proof maths, with no HTTP and no
// storage: the add-entries request body (a header, then the "canonical sequence" of entry
// packages aligned at multiples of 256 entries, each closed by a subtree consistency proof),
// the text/x.tlog.mirror-info response body, and subtree consistency proofs
// (draft-ietf-plants-merkle-tree-certs-02 §4.4, which the spec cites). The server in
// services/http maps the error codes (mirror.*) to statuses. See ../../../../docs/mirror.md
// ("Push mode").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/proof.h"

namespace pedigree::log {

// Packages are aligned at multiples of this many entries (the spec's fixed 256).
inline constexpr uint64_t kMirrorPackageEntries = 256;
// The spec's bound on a package's num_hashes.
inline constexpr size_t kMirrorMaxProofHashes = 63;
// Clients SHOULD send at most this many packages (8192 entries) per request.
inline constexpr size_t kMirrorPackagesPerRequest = 32;

// The fixed part of an add-entries body.
struct AddEntriesHeader {
  std::string origin;
  uint64_t upload_start = 0;
  uint64_t upload_end = 0;
  Bytes ticket;  // opaque, from the mirror's last mirror-info; may be empty
};

// One package of the canonical sequence: the entries [start, end) and the subtree
// consistency proof of the subtree [subtree_start, end) (subtree_start = start rounded down to
// a multiple of 256) in the tree of size upload_end.
struct EntryPackage {
  uint64_t subtree_start = 0;
  uint64_t start = 0;
  uint64_t end = 0;
  std::vector<std::string> entries;
  std::vector<Hash> proof;
};

// The [start, end) of package `i` of the canonical sequence of [upload_start, upload_end),
// as the spec defines it: start = max(upload_start, rounded_start + 256·i), end =
// min(upload_end, rounded_start + 256·(i+1)).
struct PackageRange {
  uint64_t subtree_start = 0;
  uint64_t start = 0;
  uint64_t end = 0;
};
// The number of packages of the canonical sequence (0 when upload_start == upload_end).
// Requires upload_start <= upload_end.
uint64_t CanonicalPackageCount(uint64_t upload_start, uint64_t upload_end);
PackageRange CanonicalPackage(uint64_t upload_start, uint64_t upload_end, uint64_t i);

// Reads the header and returns it with the offset where the packages begin.
// Errors (400): mirror.malformed (names the field and the byte offset: the body ends inside
// the header, an empty origin, upload_start > upload_end).
struct ParsedHeader {
  AddEntriesHeader header;
  size_t packages_offset = 0;
};
[[nodiscard]] Result<ParsedHeader> ParseAddEntriesHeader(std::span<const uint8_t> body);

// The packages a body carries after its header (`body` from packages_offset on). A body
// may carry a strict prefix of the canonical sequence: `complete` tells whether it carried
// all of it. Bytes after the last whole package that do not make a whole one (an upload
// interrupted mid-package) are discarded, as the spec says, and counted in `discarded`.
// Errors (400), each naming the package and the byte offset within `body`:
// mirror.malformed (no whole package although the sequence is not empty: truncated in the
// first package; bytes after the last package of the sequence), mirror.proof_too_long
// (num_hashes > 63).
struct ParsedPackages {
  std::vector<EntryPackage> packages;
  bool complete = false;
  size_t discarded = 0;
};
[[nodiscard]] Result<ParsedPackages> ParseEntryPackages(const AddEntriesHeader& header,
                                                        std::span<const uint8_t> body);

// The encoders a client uses. An entry longer than 65535 bytes cannot be sent
// (mirror.entry_too_long); more than 63 hashes is mirror.proof_too_long.
[[nodiscard]] Result<Bytes> EncodeAddEntriesHeader(const AddEntriesHeader& header);
[[nodiscard]] Status AppendEntryPackage(Bytes& body, std::span<const std::string> entries,
                                        std::span<const Hash> proof);

// A text/x.tlog.mirror-info body: three lines, each ending in '\n': a valid pending
// checkpoint's size, the next entry (both decimal), the ticket in base64 (may be empty).
struct MirrorInfo {
  uint64_t pending_size = 0;
  uint64_t next_entry = 0;
  Bytes ticket;
};
std::string FormatMirrorInfo(const MirrorInfo& info);
// Strict: decimal without leading zeros or sign, standard base64. Errors: mirror.malformed.
[[nodiscard]] Result<MirrorInfo> ParseMirrorInfo(std::string_view text);

// Whether [start, end) is a subtree in the MTC draft's sense: start < end and start a
// multiple of BIT_CEIL(end - start).
bool IsValidSubtree(uint64_t start, uint64_t end);
// SUBTREE_PROOF(start, end, D_size), reading hashes through `reader` (the size-`size` tree
// must be complete in it). Requires IsValidSubtree(start, end) and end <= size
// (mirror.bad_subtree otherwise).
[[nodiscard]] Result<std::vector<Hash>> SubtreeConsistencyProof(uint64_t start, uint64_t end,
                                                                uint64_t size, HashReader& reader);
// Verifies that `proof` shows the subtree [start, end), whose hash is `subtree_hash`, to be
// that part of the tree of size `size` whose root is `root`. Errors: mirror.bad_subtree
// (not a subtree, or end > size), merkle.wrong_proof_size (too few or too many hashes),
// merkle.root_mismatch.
[[nodiscard]] Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                              std::span<const Hash> proof, const Hash& subtree_hash,
                                              const Hash& root);

}  // namespace pedigree::log
