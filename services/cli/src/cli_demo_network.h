// `pedigree demo --network`: the consortium on one machine (docs/witness.md, "The consortium
// on one machine").
#pragma once

#include "cli_common.h"
#include "pedigree/demo/demo.h"

namespace pedigree::services {

// Starts three witnesses and a node with a 2-of-3 witness policy on loopback, runs the
// scenario against the node, checks the witnessed checkpoint offline, has the node try to
// fork and the monitor catch it, then stops everything. Returns 0 only when every step
// behaved as expected, 1 otherwise (the failing step is printed).
int RunNetworkDemo(const DemoOptions& options, CliIo& io);

}  // namespace pedigree::services
