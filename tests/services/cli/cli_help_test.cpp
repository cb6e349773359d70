// `pedigree CMD --help` for every command, held to the command's own parser; one machine-output
// convention (--json = --format json); --trust as a file or the key text; `key show`; the
// generated serve configuration example.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli_run.h"
#include "common/read_file.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/cli/cli.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::ReadFile;
using pedigree::testing::TempDir;

namespace {

std::vector<std::string> Words(const std::string& name) {
  std::vector<std::string> words;
  std::stringstream in(name);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::vector<std::string> With(std::vector<std::string> args,
                              std::initializer_list<std::string> more) {
  args.insert(args.end(), more);
  return args;
}

// The long options a help text names.
std::set<std::string> NamedOptions(const std::string& help) {
  std::set<std::string> names;
  static const std::regex option(R"((?:^|[\s\[(|,])--([a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), option);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1].str());
  }
  return names;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_help)

BOOST_AUTO_TEST_CASE(every_command_has_help_naming_every_option_its_parser_accepts) {
  const std::vector<std::string> names = services::CliCommandNames();
  BOOST_TEST(names.size() > 50u);
  for (const std::string& name : names) {
    BOOST_TEST_CONTEXT("pedigree " << name << " --help") {
      Run help = Cli(With(Words(name), {"--help"}));
      BOOST_TEST(help.rc == 0);
      BOOST_TEST(help.err.empty());
      BOOST_TEST(help.out.rfind("usage: pedigree " + name, 0) == 0u);
      BOOST_TEST(help.out.find("\nexample:\n  pedigree " + name) != std::string::npos);
      // The same text three ways.
      BOOST_TEST(Cli(With({"help"}, {name})).out == help.out);
      BOOST_TEST(Cli(With(Words(name), {"-h"})).out == help.out);

      const std::set<std::string> accepted = services::CliAcceptedOptions(name);
      BOOST_TEST(!accepted.empty());
      for (const std::string& option : accepted) {
        const std::string spelled = (option.size() == 1 ? "-" : "--") + option;
        BOOST_TEST_CONTEXT("option " << spelled) {
          BOOST_TEST(std::regex_search(help.out,
                                       std::regex("(^|[\\s\\[(|,])" + spelled + "($|[^a-z0-9-])")));
        }
      }
      // And nothing the help names is refused: --json and --format json are one option.
      for (const std::string& option : NamedOptions(help.out)) {
        if (option == "help") continue;
        const bool ok = accepted.count(option) || (option == "json" && accepted.count("format")) ||
                        (option == "format" && accepted.count("json"));
        BOOST_TEST_CONTEXT("help names --" << option) { BOOST_TEST(ok); }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(usage_errors_still_exit_2) {
  Run unknown_option = Cli({"log", "prove", "--no-such-option"});
  BOOST_TEST(unknown_option.rc == 2);
  BOOST_TEST(unknown_option.err.find("cli.usage") != std::string::npos);
  BOOST_TEST(Cli({"help", "no-such-command"}).rc == 2);
  BOOST_TEST(Cli({"no-such-command", "--help"}).rc == 2);
  // A revocation takes no validity period: refused, not ignored.
  Run revoke = Cli({"org", "key-revoke", "--authority-key", "a.pem", "--id", "acme",
                    "--valid-until", "2030-01-01T00:00:00Z"});
  BOOST_TEST(revoke.rc == 2);
  BOOST_TEST(revoke.err.find("unknown option --valid-until") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_and_format_json_print_the_same_bytes) {
  TempDir tmp;
  const std::string dir = tmp / "ledger";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/help", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string key = tmp / "k.pem";
  BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
  const std::string log = tmp / "log";
  BOOST_REQUIRE(Cli({"init", "--dir", log, "--origin", "example.org/log"}).rc == 0);
  BOOST_REQUIRE(Cli({"log", "append", "--dir", log, "--key", key}, R"([{"a":1},{"a":2}])").rc == 0);
  BOOST_REQUIRE(Cli({"report", "audit", "--dir", log, "-o", tmp / "audit.json"}).rc == 0);
  const std::vector<std::vector<std::string>> commands = {
      {"gs1", "check-digit", "950600013435"},
      {"gs1", "sscc", "--prefix", "9506000", "--serial", "17"},
      {"gs1", "gln", "--prefix", "9506000", "--location", "1"},
      {"key", "show", key},
      {"alerts", "--dir", dir},
      {"verify", "--dir", dir, "--code", "(01)09506000134352(21)A1"},
      {"log", "prove", "--dir", log, "--index", "0"},
      {"log", "consistency", "--dir", log, "--from", "1", "--to", "2"},
      // A report's own bytes vary (its time and duration): render one saved report.
      {"report", "render", tmp / "audit.json"},
      {"token", "list", "--dir", dir},
      {"scan", "--string", "(01)09506000134352(21)A1"},
  };
  for (const auto& command : commands) {
    BOOST_TEST_CONTEXT(command[0] << " " << command[1]) {
      Run json = Cli(With(command, {"--json"}));
      Run format = Cli(With(command, {"--format", "json"}));
      Run inline_format = Cli(With(command, {"--format=json"}));
      BOOST_TEST(json.rc == format.rc);
      BOOST_TEST(json.rc != 2);
      BOOST_TEST(!json.out.empty());
      BOOST_TEST(ParseJson(json.out).has_value());
      // verify stamps its answer with the second it ran: runs may straddle a second.
      const auto stable = [](const std::string& out) {
        return std::regex_replace(out, std::regex(R"("timestamp":"[^"]*")"), R"("timestamp":"")");
      };
      BOOST_TEST(stable(json.out) == stable(format.out));
      BOOST_TEST(stable(json.out) == stable(inline_format.out));
    }
  }
  // The registry commands, which print a line for people by default.
  Run registered =
      Cli({"org", "register", "--dir", dir, "--authority-key", dir + "/authority-key.pem", "--id",
           "acme", "--name", "Acme", "--roles", "manufacturer", "--key", key, "--json"});
  BOOST_REQUIRE_MESSAGE(registered.rc == 0, registered.err);
  BOOST_TEST(ParseJson(registered.out).value().find("kind")->as_string() == "org.register");
  const std::string key2 = tmp / "k2.pem";
  BOOST_REQUIRE(Cli({"keygen", "--out", key2}).rc == 0);
  Run added = Cli({"org", "key-add", "--dir", dir, "--authority-key", dir + "/authority-key.pem",
                   "--id", "acme", "--key", key2, "--format", "json"});
  BOOST_REQUIRE_MESSAGE(added.rc == 0, added.err);
  BOOST_TEST(ParseJson(added.out).value().find("kind")->as_string() == "org.key_add");

  // Where --json is the switch, --format takes only json.
  Run text = Cli({"gs1", "check-digit", "950600013435", "--format", "text"});
  BOOST_TEST(text.rc == 2);
  BOOST_TEST(text.err.find("accepts only json") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(trust_takes_a_file_or_the_key_text_and_names_both_when_neither) {
  TempDir tmp;
  const std::string dir = tmp / "ledger";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/trust"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string vkey = ParseJson(init.out).value().find("verifier_key")->as_string();
  const std::string file = dir + "/log.vkey";

  Run by_file = Cli({"report", "audit", "--dir", dir, "--trust", file});
  Run by_text = Cli({"report", "audit", "--dir", dir, "--trust", vkey});
  BOOST_TEST(by_file.rc == 0, by_file.err);
  BOOST_TEST(by_text.rc == 0, by_text.err);

  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"report", "audit", "--dir", dir},
                                             {"verify-bundle", tmp / "none.json"},
                                             {"trial", "verify-disclosure", tmp / "none.json"}}) {
    BOOST_TEST_CONTEXT(command[0] << " " << command[1]) {
      Run bad = Cli(With(command, {"--trust", "no-such-file-nor+key"}));
      BOOST_TEST(bad.rc == 2);
      BOOST_TEST(bad.err.find("neither a readable file nor a verifier key") != std::string::npos);
      BOOST_TEST(bad.err.find("no-such-file-nor+key") != std::string::npos);
    }
  }
  // A file that exists but holds no key is reported as that file.
  WriteFile(tmp / "junk.vkey", "not a key\n");
  Run junk = Cli({"report", "audit", "--dir", dir, "--trust", tmp / "junk.vkey"});
  BOOST_TEST(junk.rc == 1);
  BOOST_TEST(junk.err.find("junk.vkey") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(key_show_prints_the_public_key_and_the_logs_verifier_key) {
  TempDir tmp;
  const std::string dir = tmp / "ledger";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/keys"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string vkey = ParseJson(init.out).value().find("verifier_key")->as_string();

  Run show = Cli({"key", "show", dir + "/log-key.pem", "--name", "example.org/keys", "--json"});
  BOOST_REQUIRE_MESSAGE(show.rc == 0, show.err);
  auto shown = ParseJson(show.out);
  BOOST_REQUIRE(shown.has_value());
  BOOST_TEST(shown->find("verifier_key")->as_string() == vkey);
  BOOST_TEST(show.err.empty());  // the ledger's key is mode 0600

  const std::string key = tmp / "k.pem";
  Run keygen = Cli({"keygen", "--out", key});
  BOOST_REQUIRE(keygen.rc == 0);
  const std::string public_key = ParseJson(keygen.out).value().find("public_key")->as_string();
  Run text = Cli({"key", "show", key});
  BOOST_TEST(text.rc == 0);
  BOOST_TEST(text.out.find("public key:   " + public_key + "\n") != std::string::npos);
  BOOST_TEST(text.out.find("verifier key") == std::string::npos);

  // A private key others can read is still shown, with a warning.
  ::chmod(key.c_str(), 0644);
  Run loose = Cli({"key", "show", key, "--json"});
  BOOST_TEST(loose.rc == 0);
  BOOST_TEST(ParseJson(loose.out).value().find("public_key")->as_string() == public_key);
  BOOST_TEST(loose.err.find("readable by others") != std::string::npos);

  BOOST_TEST(Cli({"key", "show", key, "--name", "has space"}).rc == 2);
  Run not_a_key = Cli({"key", "show", dir + "/log.vkey"});
  BOOST_TEST(not_a_key.rc == 1);
}

BOOST_AUTO_TEST_CASE(config_example_uncommented_is_accepted_and_lists_every_setting) {
  TempDir tmp;
  Run example = Cli({"help", "--config-example"});
  BOOST_REQUIRE(example.rc == 0);
  std::istringstream lines(example.out);
  std::string uncommented, line;
  std::set<std::string> keys;
  while (std::getline(lines, line)) {
    if (line.rfind("# ", 0) == 0) {
      line = line.substr(2);
      keys.insert(line.substr(0, line.find(' ')));
    }
    uncommented += line + "\n";
  }
  // Every setting serve knows, as its options (--max-body-bytes for max_body_bytes).
  std::set<std::string> settings;
  for (std::string option : services::CliAcceptedOptions("serve")) {
    if (option == "dir" || option == "config" || option == "check") continue;
    std::replace(option.begin(), option.end(), '-', '_');
    settings.insert(option);
  }
  BOOST_TEST(keys == settings, boost::test_tools::per_element());
  WriteFile(tmp / "pedigree.conf", uncommented);
  Run check = Cli({"serve", "--config", tmp / "pedigree.conf", "--check"});
  BOOST_TEST(check.rc == 0, check.err);
  // --check fails as serve would.
  WriteFile(tmp / "bad.conf", uncommented + "threads = 0\n");
  BOOST_TEST(Cli({"serve", "--config", tmp / "bad.conf", "--check"}).rc == 1);
}

BOOST_AUTO_TEST_CASE(man_page_and_bash_completion_come_from_the_command_table) {
  Run man = Cli({"help", "--man"});
  BOOST_REQUIRE(man.rc == 0);
  BOOST_TEST(man.out.rfind(".TH PEDIGREE 1", 0) == 0u);
  Run completion = Cli({"help", "--completion", "bash"});
  BOOST_REQUIRE(completion.rc == 0);
  BOOST_TEST(completion.out.find("complete -F _pedigree pedigree") != std::string::npos);
  for (const std::string& name : services::CliCommandNames()) {
    BOOST_TEST(man.out.find(".SS \"" + std::regex_replace(name, std::regex("-"), "\\-") + "\"") !=
               std::string::npos);
    BOOST_TEST(completion.out.find(Words(name)[0]) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
