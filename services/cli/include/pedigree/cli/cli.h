// The `pedigree` command line: one entry point, subcommands registered by area.
// See docs/cli.md.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace pedigree::services {

// Runs `pedigree <args...>` (args excludes the program name). Writes results to
// `out`, diagnostics to `err`, and returns the process exit code: 0 success,
// 1 the operation failed (error printed), 2 usage error.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err);

}  // namespace pedigree::services
