// `pedigree trial receipt` and `trial verify-receipt`: a participant's receipt of consent and
// accesses (docs/consent.md, "Participant receipts"; docs/cli.md).
#pragma once

#include <string>
#include <vector>

#include "cli_common.h"

namespace pedigree::services {

// `trial receipt --trial ID --secret-file FILE|- [-o FILE] [--dir D]`: writes the receipt of the
// subject whose reference secret FILE holds. Exit 0, 1 on any error (the secret is never
// printed).
int TrialReceipt(const std::vector<std::string>& argv, CliIo& io);

// `trial verify-receipt FILE --trust VKEY [--policy F] [--authority PUB] [--witness V,..]
// [--secret-file F] [--format text|json|html] [-o FILE]`: offline; exit 0 VERIFIED, 4 FAILED
// (also a file that is no receipt), 2 usage.
int TrialVerifyReceipt(const std::vector<std::string>& argv, CliIo& io);

}  // namespace pedigree::services
