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
#include "pedigree/cli/progress.h"
#include "pedigree/log/policy.h"

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

  // What one Parse call accepts; the help test compares it with each command's help.
  struct Accepted {
    std::set<std::string> options;
    std::set<std::string> flags;
  };
  // While set (tests), every Parse on this thread records what it accepts into `*sink`.
  static void RecordAccepted(Accepted* sink);

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

struct RemoteOptions;  // cli_remote.h

struct CliIo {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Set when the command works against a remote node (--server or $PEDIGREE_SERVER);
  // only commands RunCli lets work remotely see it.
  const RemoteOptions* remote = nullptr;
  // Show a progress line on `err` (a terminal, no --quiet, no $PEDIGREE_NO_PROGRESS).
  bool progress = false;
};

using CommandFn = std::function<int(const std::vector<std::string>& args, CliIo& io)>;

struct Command {
  std::string name;   // "log append"
  std::string usage;  // one line of help
  CommandFn run;
  // `pedigree CMD --help`, the man page and the bash completion are made from these:
  // `options` has one line per option ("  --name V   meaning (default: ...)"), `example`
  // one invocation without the leading "pedigree ".
  std::string options = {};
  std::string example = {};
};

// Option help lines many commands share.
inline const std::string kDirHelp =
    "  --dir D        ledger directory (default: $PEDIGREE_DIR, else ./pedigree-data)\n";
inline const std::string kJsonHelp =
    "  --json         machine output, one line of JSON (alias: --format json)\n";
inline const std::string kReportHelp =
    "  --format F     json, text or html (--json: alias for --format json)\n"
    "  -o FILE, --out FILE\n"
    "                 write the report to FILE (default: standard output)\n";

// The text `pedigree CMD --help` prints.
std::string CommandHelp(const Command& command);

// A log verifier key given to --trust (or --witness): the contents of the file named, when
// there is one, else the argument itself as a note verifier key (name+hex+base64). A value
// that is neither is a usage error naming both readings.
[[nodiscard]] Result<std::string> ResolveVerifierKey(const std::string& value,
                                                     const std::string& option);

// The witness policy (C2SP tlog-policy) in the file named by --policy; nullopt without the
// option. Errors: the file's (cli.io) or the parser's policy.* naming line and column, with
// the file name as context.
[[nodiscard]] Result<std::optional<log::Policy>> PolicyOption(const Args& args, CliIo& io);
inline const std::string kPolicyHelp =
    "  --policy FILE  witness policy (C2SP tlog-policy): its witnesses' cosignatures are\n"
    "                 verified and VERIFIED needs its quorum (check checkpoint.quorum)\n";

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

// `pedigree help --config-example`: every `serve` setting, commented, with its default.
std::string ServeConfigExample();

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
std::vector<Command> EpcisCommands();
std::vector<Command> MonitorCommands();
std::vector<Command> MirrorCommands();
std::vector<Command> MirrorPushCommands();
std::vector<Command> MigrateCommands();

}  // namespace pedigree::services
