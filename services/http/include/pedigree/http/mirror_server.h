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
// See ../../../../docs/mirror.md.
#pragma once

#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/replica.h"

namespace pedigree::services {

// `replica` must outlive the server; it may be appended to (a pull loop) while serving.
// Errors: router.*.
[[nodiscard]] Status AddMirrorRoutes(Router& router, log::Replica& replica);

}  // namespace pedigree::services
