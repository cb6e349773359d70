// The HTTP face of a mirror (pedigree/log/replica.h): the copy served as C2SP tlog-tiles.
//   GET /checkpoint, GET /<hex SHA-256(origin)>/checkpoint, GET /v1/log/checkpoint
//       -> the latest checkpoint the mirror holds: the log's signed note with the stored
//          cosignatures, the mirror's among them (text/plain); 404 mirror.no_checkpoint
//          before the first sync. The last one is the node's form, for `pedigree monitor
//          --mirror URL`.
//   GET /<hex>/tile/<L>/<N>[.p/<W>], GET /v1/log/tile/<L>/<N>[.p/<W>]
//       -> hash tiles of the copy (public: hashes only).
//   GET /<hex>/tile/entries/<N>[.p/<W>], GET /v1/log/tile/entries/<N>[.p/<W>]
//       -> entry bundles, to tokens with the mirror or regulator role only: they hold every
//          entry in full, the consortium's commercial data.
// AddMirrorApiRoutes adds the node's read-only API answered from the copy (verify, pack,
// container, batch, trial and audit reports, bundles, entries, proofs).
// See ../../../../docs/mirror.md.
#pragma once

#include <cstddef>
#include <string>

#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/replica.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {

// The largest add-entries body read (before inflating): 32 packages of 256 entries of a few
// KiB each fit with room to spare.
inline constexpr size_t kMirrorMaxAddEntriesBytes = 64u << 20;

// C2SP tlog-mirror push mode (services/http/src/mirror_push.cpp, docs/mirror.md "Push mode"):
//   POST <prefix>/add-checkpoint
//       -> a witness's add-checkpoint body ("old N", consistency proof, blank line, signed
//          checkpoint): sets the pending checkpoint. 200 (empty body); 409 text/x.tlog.size
//          with the pending size when N is not it; 422 mirror.root_mismatch for a bad proof;
//          403 mirror.untrusted_checkpoint; 400 witness.malformed, witness.old_too_large.
//   POST <prefix>/add-entries
//       -> application/octet-stream, Content-Encoding gzip accepted: entry packages of the
//          range [upload_start, upload_end) of a pending checkpoint, each authenticated by
//          its subtree consistency proof and appended to the replica. 200 with the mirror's
//          cosignature line once the checkpoint is stored; 202 text/x.tlog.mirror-info after
//          a prefix; 409 text/x.tlog.mirror-info (unknown or old upload_end, a start the
//          mirror cannot continue from); 422 mirror.root_mismatch / mirror.bad_entry /
//          mirror.rules_refused (nothing of the package stored); 400 mirror.malformed /
//          mirror.proof_too_long; 404 mirror.unknown_origin.
// Both are public, as a witness's add-checkpoint is: everything is checked against the log's
// key and rules, so a pusher can only hand the mirror what it would have pulled. `prefix` is
// "" or starts with '/' and does not end with one (mirror.config otherwise). Errors: router.*.
[[nodiscard]] Status AddMirrorPushRoutes(Router& router, log::Replica& replica,
                                         const std::string& prefix = "");

// `replica` must outlive the server; it may be appended to (a pull loop) while serving.
// Errors: router.*.
[[nodiscard]] Status AddMirrorRoutes(Router& router, log::Replica& replica);

// The node's API (AddApiRoutes) over `node`, a SupplyNode::OpenMirror of the mirror's
// directory, reduced to what a copy can answer without being the log: every GET route that
// `router` does not already hold (the mirror's own checkpoint and tile routes win), with the
// node's access rules (roles from the mirror's replayed registry), and the POST routes that
// only read (POST /v1/scan, POST /v1/verify with an image, POST /v1/disclosures/verify). Every
// other route of the node, a write, answers 405 mirror.read_only to anyone: a mirror takes no
// submission. Every answer carries the header `Pedigree-Mirror: <mirror_vkey>` naming who
// answered. Call node.ledger().Refresh() after each pull so answers follow the copy.
// `node` must outlive the server. Errors: router.*.
[[nodiscard]] Status AddMirrorApiRoutes(Router& router, SupplyNode& node,
                                        const std::string& mirror_vkey);

}  // namespace pedigree::services
