// The trust anchors an offline verification takes on the command line, shared by
// `verify-bundle` and `trial verify-receipt` (docs/cli.md).
#pragma once

#include "cli_common.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::services {

// --trust LOG_VKEY (a key or a file holding it; a --policy with exactly one log line stands in
// for it, and with both the key must be one of the policy's logs), --policy FILE, --authority
// PUB (PEM or base64, or a file) and --witness VKEY,.. (keys or files). Errors: cli.usage
// (field "trust") for a missing or foreign log key, the parsers' codes with the option as
// context.
[[nodiscard]] Result<reports::TrustAnchors> TrustAnchorsOption(const Args& args, CliIo& io);

inline const std::string kTrustHelp =
    "  --trust VKEY   the log's verifier key, or a file holding it (required unless the\n"
    "                 --policy file has exactly one log line)\n"
    "  --authority PUB\n"
    "                 the consortium authority's public key: PEM or base64, or a file\n"
    "  --witness VKEY,..\n"
    "                 witness verifier keys (or files) whose cosignatures must be present\n";

}  // namespace pedigree::services
