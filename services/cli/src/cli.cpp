#include "pedigree/cli/cli.h"

#include <iostream>

#include "cli_common.h"

namespace pedigree::services {
namespace {

std::vector<Command> AllCommands() {
  std::vector<Command> all = LedgerCommands();
  for (Command& c : DemoCommands()) all.push_back(std::move(c));
  for (Command& c : SupplyCommands()) all.push_back(std::move(c));
  for (Command& c : ServeCommands()) all.push_back(std::move(c));
  for (Command& c : ScanCommands()) all.push_back(std::move(c));
  for (Command& c : TrialCommands()) all.push_back(std::move(c));
  for (Command& c : ReportCommands()) all.push_back(std::move(c));
  for (Command& c : LedgerReportCommands()) all.push_back(std::move(c));
  for (Command& c : WitnessCommands()) all.push_back(std::move(c));
  return all;
}

void PrintUsage(std::ostream& out, const std::vector<Command>& commands) {
  out << "usage: pedigree <command> [options]   (--dir D or $PEDIGREE_DIR selects the ledger)\n\n"
         "commands:\n";
  for (const Command& c : commands) out << "  " << c.usage << "\n";
  out << "  version\n  help\n";
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err) {
  std::vector<Command> commands = AllCommands();
  if (args.empty()) {
    PrintUsage(err, commands);
    return 2;
  }
  if (args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    PrintUsage(out, commands);
    return 0;
  }
  if (args[0] == "version" || args[0] == "--version") {
    out << "pedigree 0.1.0\n";
    return 0;
  }
  // Two-word commands ("log append") take precedence over one-word ones.
  const Command* match = nullptr;
  for (const Command& c : commands) {
    if (args.size() >= 2 && c.name == args[0] + " " + args[1]) match = &c;
  }
  if (!match) {
    for (const Command& c : commands) {
      if (c.name == args[0]) match = &c;
    }
  }
  if (!match) {
    err << "pedigree: unknown command '" << args[0] << (args.size() > 1 ? " " + args[1] : "")
        << "'\n";
    PrintUsage(err, commands);
    return 2;
  }
  CliIo io{in, out, err};
  int rc = match->run(args, io);
  // Usage errors exit 2 so scripts can tell them from failed operations.
  return rc;
}

}  // namespace pedigree::services
