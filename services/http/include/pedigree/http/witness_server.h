// The HTTP face of a C2SP tlog-witness (pedigree/log/witness.h) on the HTTP chassis:
//   POST <prefix>/add-checkpoint            -> 200 cosignature line(s) as text/plain;
//                                              409 "<size>\n" as text/x.tlog.size;
//                                              400/403/404/413/422/429 our JSON error.
//   GET  <prefix>/<hex SHA-256(origin)>/checkpoint
//                                           -> the latest cosigned checkpoint (the log's
//                                              signature lines and the witness's), text/plain.
// Both are public: a witness authenticates logs by their checkpoint signatures, not by
// tokens. See ../../../../docs/witness.md.
#pragma once

#include <string>

#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/witness.h"

namespace pedigree::services {

// Adds the witness routes under `prefix` ("" or "/a/b": starts with '/', no trailing
// '/'). `witness` must outlive the server. Errors: witness.config (a bad prefix), router.*.
[[nodiscard]] Status AddWitnessRoutes(Router& router, log::Witness& witness,
                                      const std::string& prefix = "");

}  // namespace pedigree::services
