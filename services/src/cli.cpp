#include "pedigree/services/cli.h"

#include <functional>
#include <iostream>
#include <map>

namespace pedigree::services {
namespace {

constexpr const char* kUsage =
    "usage: pedigree <command> [options]\n"
    "\n"
    "commands:\n"
    "  help                 this text\n"
    "  version              print the version\n";

}  // namespace

int RunCli(const std::vector<std::string>& args, std::istream& /*in*/, std::ostream& out,
           std::ostream& err) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    out << "pedigree 0.1.0\n";
    return 0;
  }
  err << "pedigree: unknown command '" << args[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace pedigree::services
