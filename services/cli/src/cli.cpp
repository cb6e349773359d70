#include "pedigree/cli/cli.h"

#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/usecases/supply_actions.h"

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
  for (Command& c : EpcisCommands()) all.push_back(std::move(c));
  for (Command& c : MonitorCommands()) all.push_back(std::move(c));
  for (Command& c : MirrorCommands()) all.push_back(std::move(c));
  for (Command& c : MirrorPushCommands()) all.push_back(std::move(c));
  for (Command& c : MigrateCommands()) all.push_back(std::move(c));
  return all;
}

// The commands that work against a remote node (docs/cli.md, "Working against a remote
// node"); any other command refuses --server.
bool WorksRemotely(const std::string& name) {
  static const std::set<std::string> reads = {
      "verify",       "history",      "alerts",       "report pack",      "report container",
      "report batch", "report trial", "bundle pack",  "bundle container", "log checkpoint",
      "log prove",    "log entry",    "report audit", "log consistency",  "epcis export"};
  if (reads.count(name)) return true;
  // Writes signed here: captured EPCIS events with the organisation's --key, registry events
  // with the consortium authority's --authority-key.
  static const std::set<std::string> signed_here = {"epcis capture",  "org register",
                                                    "org key-add",    "org key-revoke",
                                                    "org device-add", "org device-revoke"};
  if (signed_here.count(name)) return true;
  // Trial events the client builds alone (docs/cli.md): signed here with --key; and trial
  // reads the node serves.
  static const std::set<std::string> trial_events = {
      "trial register", "trial protocol", "trial consent-form", "trial consent", "trial withdraw",
      "trial grant", "trial revoke-grant", "trial event", "trial lock",
      // Store-side actions: the node writes its sponsor store and signs with the key it
      // holds for the token's organisation (node-held-key mode).
      "trial seal", "trial submit", "trial redact", "trial honour-withdrawals",
      // Reads with an HTTP route (record reads as the token's organisation).
      "trial grants", "trial receipt", "trial outcomes", "trial verify", "trial disclose"};
  if (trial_events.count(name)) return true;
  for (const SupplyAction& a : SupplyActions()) {
    if (a.name == name) return true;
  }
  return false;
}

void PrintUsage(std::ostream& out, const std::vector<Command>& commands) {
  out << "usage: pedigree <command> [options]   (--dir D or $PEDIGREE_DIR selects the ledger)\n\n"
         "commands:\n";
  for (const Command& c : commands) out << "  " << c.usage << "\n";
  out << "  version\n  help [COMMAND]   (or pedigree COMMAND --help)\n\n"
         "remote mode (writes sign locally with --key FILE; reads need no local ledger):\n"
      << kRemoteOptionsHelp
      << "\n  --quiet        no progress line on a terminal (or set $PEDIGREE_NO_PROGRESS)\n";
}

// The command args[first..] names: two words ("log append") take precedence over one.
const Command* FindCommand(const std::vector<Command>& commands,
                           const std::vector<std::string>& args, size_t first) {
  if (args.size() <= first) return nullptr;
  for (const Command& c : commands) {
    if (args.size() >= first + 2 && c.name == args[first] + " " + args[first + 1]) return &c;
  }
  for (const Command& c : commands) {
    if (c.name == args[first]) return &c;
  }
  return nullptr;
}

// The long options a command's help names, in order of first mention.
std::vector<std::string> HelpOptions(const Command& c) {
  std::vector<std::string> found;
  static const std::regex option(R"((^|[\s\[(|,])(--[a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(c.options.begin(), c.options.end(), option);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[2].str();
    if (std::find(found.begin(), found.end(), name) == found.end()) found.push_back(name);
  }
  found.push_back("--help");
  return found;
}

std::string Roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char ch : text) {
    if (line_start && (ch == '.' || ch == '\'')) out += "\\&";
    if (ch == '\\') {
      out += "\\e";
    } else if (ch == '-') {
      out += "\\-";
    } else {
      out += ch;
    }
    line_start = ch == '\n';
  }
  return out;
}

// `pedigree help --man`: the manual page pedigree.1, made from the command table.
void PrintManPage(std::ostream& out, const std::vector<Command>& commands) {
  out << ".TH PEDIGREE 1 \"\" \"pedigree 0.1.0\" \"User Commands\"\n"
         ".SH NAME\npedigree \\- provenance tracker for medicines: a signed, verifiable ledger\n"
         ".SH SYNOPSIS\n.B pedigree\n.I command\n[\\fIoptions\\fR]\n.br\n.B pedigree\n"
         ".I command\n\\fB\\-\\-help\\fR\n"
         ".SH DESCRIPTION\nEvery fact is an Ed25519\\-signed event appended to a Merkle log. "
         "The ledger directory is \\fB\\-\\-dir\\fR, else \\fB$PEDIGREE_DIR\\fR, else "
         "\\fI./pedigree\\-data\\fR. Commands that print a result accept \\fB\\-\\-json\\fR "
         "(alias \\fB\\-\\-format json\\fR) for one line of JSON.\n"
         ".SH EXIT STATUS\n0 success, 1 the operation failed (a JSON error on standard error), "
         "2 usage error, 3 SUSPECT or not verified, 4 FAILED.\n"
         ".SH COMMANDS\n";
  for (const Command& c : commands) {
    out << ".SS \"" << Roff(c.name) << "\"\n.nf\n"
        << Roff("pedigree " + c.usage) << "\n\n"
        << Roff(c.options);
    if (!c.example.empty()) out << "\nExample:\n" << Roff("  pedigree " + c.example) << "\n";
    out << ".fi\n";
  }
  out << ".SH ENVIRONMENT\n.TP\n.B PEDIGREE_DIR\nthe ledger directory when \\fB\\-\\-dir\\fR "
         "is not given\n"
         ".TP\n.B PEDIGREE_SERVER\nthe node to work against when \\fB\\-\\-server\\fR is "
         "not given (remote mode, see docs/cli.md)\n"
         ".TP\n.B PEDIGREE_TOKEN\nthe API token when neither \\fB\\-\\-token\\fR nor "
         "\\fB\\-\\-token\\-file\\fR is given\n"
         ".TP\n.B PEDIGREE_NO_PROGRESS\nwhen set and not empty, no progress line on a terminal "
         "(as the global \\fB\\-\\-quiet\\fR)\n"
         ".SH FILES\n.TP\n.I /etc/pedigree/pedigree.conf\nsettings of \\fBpedigree serve\\fR "
         "(see share/doc/pedigree/pedigree.conf.example)\n"
         ".SH SEE ALSO\ndocs/cli.md, docs/operations.md\n";
}

std::string Quote(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// `pedigree help --completion bash`: a bash completion script made from the command table.
void PrintBashCompletion(std::ostream& out, const std::vector<Command>& commands) {
  std::vector<std::string> first;
  std::map<std::string, std::vector<std::string>> second;
  auto add = [](std::vector<std::string>& v, const std::string& w) {
    if (std::find(v.begin(), v.end(), w) == v.end()) v.push_back(w);
  };
  for (const Command& c : commands) {
    auto space = c.name.find(' ');
    add(first, c.name.substr(0, space));
    if (space != std::string::npos) add(second[c.name.substr(0, space)], c.name.substr(space + 1));
  }
  add(first, "help");
  add(first, "version");
  out << "# bash completion for pedigree, generated by `pedigree help --completion bash`\n"
         "_pedigree() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" w1=\"${COMP_WORDS[1]}\" "
         "w2=\"${COMP_WORDS[2]}\" opts=\"\"\n"
         "  COMPREPLY=()\n"
         "  if [[ $COMP_CWORD -eq 1 ]]; then\n"
         "    COMPREPLY=($(compgen -W \""
      << Quote(first)
      << "\" -- \"$cur\"))\n"
         "    return 0\n"
         "  fi\n"
         "  if [[ $COMP_CWORD -eq 2 && $cur != -* ]]; then\n"
         "    case \"$w1\" in\n";
  for (const auto& [word, subs] : second) {
    out << "      " << word << ") COMPREPLY=($(compgen -W \"" << Quote(subs)
        << "\" -- \"$cur\")); return 0 ;;\n";
  }
  out << "      help) COMPREPLY=($(compgen -W \"" << Quote(first)
      << "\" -- \"$cur\")); return 0 ;;\n"
         "    esac\n"
         "  fi\n"
         "  case \"$w1 $w2\" in\n";
  for (const Command& c : commands) {
    if (c.name.find(' ') == std::string::npos) continue;
    out << "    \"" << c.name << "\") opts=\"" << Quote(HelpOptions(c)) << "\" ;;\n";
  }
  out << "  esac\n"
         "  if [[ -z $opts ]]; then\n"
         "    case \"$w1\" in\n";
  for (const Command& c : commands) {
    if (c.name.find(' ') != std::string::npos) continue;
    out << "      " << c.name << ") opts=\"" << Quote(HelpOptions(c)) << "\" ;;\n";
  }
  out << "    esac\n"
         "  fi\n"
         "  if [[ $cur == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "  return 0\n"
         "}\n"
         "complete -F _pedigree pedigree\n";
}

int Help(const std::vector<std::string>& args, const std::vector<Command>& commands,
         std::ostream& out, std::ostream& err) {
  if (args.size() == 1) {
    PrintUsage(out, commands);
    return 0;
  }
  if (args[1] == "--man") {
    PrintManPage(out, commands);
    return 0;
  }
  if (args[1] == "--config-example") {
    out << ServeConfigExample();
    return 0;
  }
  if (args[1] == "--completion" && args.size() == 3 && args[2] == "bash") {
    PrintBashCompletion(out, commands);
    return 0;
  }
  const Command* c = FindCommand(commands, args, 1);
  if (!c) {
    PrintError(err,
               Error("cli.usage", "help: unknown command '" + args[1] + "'").at_field("command"));
    PrintUsage(err, commands);
    return 2;
  }
  out << CommandHelp(*c);
  return 0;
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
    return Help(args, commands, out, err);
  }
  if (args[0] == "version" || args[0] == "--version") {
    out << "pedigree 0.1.0\n";
    return 0;
  }
  // Global remote options, anywhere on the line; the command parses the rest. A command
  // that works on a local ledger only owns all its options (monitor has its own --timeout).
  std::vector<std::string> rest = args;
  // Global --quiet, anywhere on the line: no progress line on a terminal.
  const bool quiet = std::erase(rest, std::string("--quiet")) > 0;
  Result<std::optional<RemoteOptions>> remote = std::optional<RemoteOptions>();
  if (const Command* local = FindCommand(commands, args, 0); local && !WorksRemotely(local->name)) {
    for (const std::string& a : args) {
      if (a == "--server" || a.rfind("--server=", 0) == 0) {
        return PrintError(err, Error("cli.usage", "'" + local->name +
                                                      "' works on a local ledger only; drop "
                                                      "--server (and unset $PEDIGREE_SERVER)")
                                   .at_field("server"));
      }
    }
  } else {
    remote = TakeRemoteOptions(rest);
    if (!remote) return PrintError(err, remote.error());
  }
  const Command* match = FindCommand(commands, rest, 0);
  if (!match) {
    err << "pedigree: unknown command '" << args[0] << (args.size() > 1 ? " " + args[1] : "")
        << "'\n";
    PrintUsage(err, commands);
    return 2;
  }
  // `pedigree CMD --help` (or -h) anywhere after the command's words prints its help.
  size_t words = match->name.find(' ') == std::string::npos ? 1 : 2;
  for (size_t i = words; i < rest.size(); ++i) {
    if (rest[i] == "--help" || rest[i] == "-h") {
      out << CommandHelp(*match);
      return 0;
    }
  }
  CliIo io{in, out, err};
  io.progress = ProgressWanted(err, quiet);
  if (*remote && (*remote)->from_environment && !WorksRemotely(match->name)) {
    remote->reset();  // $PEDIGREE_SERVER: local-only commands stay local
  }
  if (*remote) {
    if (!WorksRemotely(match->name)) {
      return PrintError(err, Error("cli.usage", "'" + match->name +
                                                    "' works on a local ledger only; drop --server "
                                                    "(and unset $PEDIGREE_SERVER)")
                                 .at_field("server"));
    }
    io.remote = &**remote;
  }
  int rc = match->run(rest, io);
  // Usage errors exit 2 so scripts can tell them from failed operations.
  return rc;
}

std::vector<std::string> CliCommandNames() {
  std::vector<std::string> names;
  for (const Command& c : AllCommands()) names.push_back(c.name);
  return names;
}

std::set<std::string> CliAcceptedOptions(const std::string& name) {
  std::vector<Command> commands = AllCommands();
  std::vector<std::string> argv;
  std::stringstream words(name);
  for (std::string w; words >> w;) argv.push_back(w);
  const Command* c = FindCommand(commands, argv, 0);
  if (!c) return {};
  argv.push_back("--pedigree-no-such-option");
  Args::Accepted accepted;
  Args::RecordAccepted(&accepted);
  std::istringstream in;
  std::ostringstream out, err;
  CliIo io{in, out, err};
  c->run(argv, io);
  Args::RecordAccepted(nullptr);
  std::set<std::string> all = accepted.options;
  all.insert(accepted.flags.begin(), accepted.flags.end());
  return all;
}

}  // namespace pedigree::services
