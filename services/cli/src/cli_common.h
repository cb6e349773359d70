// Shared plumbing for CLI subcommands: argument parsing and JSON output.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::services {

// `--name value` options, `--flag` switches and positionals, after the subcommand.
class Args {
 public:
  // `flags` names the options that take no value. Fails (cli.usage) on an unknown
  // option or a missing value.
  [[nodiscard]] static Result<Args> Parse(const std::vector<std::string>& args, size_t first,
                                          const std::set<std::string>& options,
                                          const std::set<std::string>& flags = {});

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  [[nodiscard]] Result<std::string> required(const std::string& name) const;
  [[nodiscard]] Result<std::optional<uint64_t>> number(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  // The ledger directory: --dir, else $PEDIGREE_DIR, else ./pedigree-data.
  std::string dir() const;

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

struct CliIo {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

using CommandFn = std::function<int(const std::vector<std::string>& args, CliIo& io)>;

struct Command {
  std::string name;   // "log append"
  std::string usage;  // one line of help
  CommandFn run;
};

// "a,b,,c" -> {a, b, c}: a comma-separated option value, empty items dropped.
std::vector<std::string> SplitList(const std::string& text);

// Prints `value` as one line of canonical JSON.
void PrintJson(std::ostream& out, const JsonValue& value);
// Prints an error as JSON {"error":{code,message,field,...}} to err; returns exit code 1.
int PrintError(std::ostream& err, const Error& error);
// Writes a verification report (pedigree-report/v1 JSON) to `-o FILE` / `--out FILE` or
// standard output in `--format` json, text or html (default `default_format`), and
// returns the exit status every report command shares: 0 VERIFIED, 3 SUSPECT, 4 FAILED,
// 2 usage, 1 when it cannot be written.
int EmitReport(const Args& args, const JsonValue& report, CliIo& io,
               const std::string& default_format = "json");

// Reads a whole file, or standard input for "-".
[[nodiscard]] Result<std::string> ReadInput(const std::string& path, std::istream& in);

// Commands contributed by each area; cli.cpp gathers them.
std::vector<Command> LedgerCommands();
std::vector<Command> DemoCommands();
std::vector<Command> SupplyCommands();
std::vector<Command> ServeCommands();
std::vector<Command> ScanCommands();
std::vector<Command> TrialCommands();
std::vector<Command> ReportCommands();
std::vector<Command> LedgerReportCommands();
std::vector<Command> WitnessCommands();

}  // namespace pedigree::services
