// The `pedigree` command line: one entry point, subcommands registered by area.
// See docs/cli.md.
#pragma once

#include <iosfwd>
#include <set>
#include <string>
#include <vector>

namespace pedigree::services {

// Runs `pedigree <args...>` (args excludes the program name). Writes results to
// `out`, diagnostics to `err`, and returns the process exit code: 0 success,
// 1 the operation failed (error printed), 2 usage error.
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err);

// Every registered command's name ("log append"), in `pedigree help` order.
std::vector<std::string> CliCommandNames();

// The options and switches (without "--"; "o" for -o) the command's parser accepts,
// learned by running it with one unknown option, which every command refuses before it
// does anything. Lets tests hold each command's --help to its parser.
std::set<std::string> CliAcceptedOptions(const std::string& name);

}  // namespace pedigree::services
