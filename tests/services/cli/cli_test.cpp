// The `pedigree` CLI in-process: what a script sees on stdout, stderr and the exit code.
#include "pedigree/cli/cli.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "cli_run.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"

using namespace pedigree;
using namespace pedigree;
using namespace pedigree::log;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

std::vector<Hash> Hashes(const JsonValue& list) {
  std::vector<Hash> out;
  for (const JsonValue& h : list.as_array()) out.push_back(HashFromBase64(h.as_string()).value());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(init_append_checkpoint_and_prove_round_trip) {
  TempDir tmp;
  std::string dir = tmp / "ledger";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-test"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  auto vkey = ParseJson(init.out).value().find("verifier_key")->as_string();

  Run keygen = Cli({"keygen", "--out", tmp / "author.pem"});
  BOOST_REQUIRE_MESSAGE(keygen.rc == 0, keygen.err);

  Run append = Cli({"log", "append", "--dir", dir, "--key", tmp / "author.pem", "-"},
                   R"([{"a":1},{"a":2},{"a":3},{"a":4},{"a":5}])");
  BOOST_REQUIRE_MESSAGE(append.rc == 0, append.err);
  BOOST_TEST(ParseJson(append.out).value().find("size")->as_int() == 5);

  Run checkpoint = Cli({"log", "checkpoint", "--dir", dir});
  BOOST_REQUIRE_MESSAGE(checkpoint.rc == 0, checkpoint.err);
  std::vector<NoteVerifier> verifiers{NoteVerifier::Parse(vkey).value()};
  auto note = OpenNote(checkpoint.out, verifiers);
  BOOST_REQUIRE_MESSAGE(note.has_value(), pedigree::testing::Why(note));
  Checkpoint body = ParseCheckpoint(note->text).value();
  BOOST_TEST(body.size == 5u);

  Run prove = Cli({"log", "prove", "--dir", dir, "--index", "3"});
  BOOST_REQUIRE_MESSAGE(prove.rc == 0, prove.err);
  JsonValue proof = ParseJson(prove.out).value();
  Run entry = Cli({"log", "entry", "--dir", dir, "--index", "3"});
  std::string entry_bytes = entry.out.substr(0, entry.out.size() - 1);
  BOOST_TEST(
      VerifyInclusion(3, 5, LeafHash(AsBytes(entry_bytes)), Hashes(*proof.find("proof")), body.root)
          .has_value());

  Run consistency = Cli({"log", "consistency", "--dir", dir, "--from", "2", "--to", "5"});
  BOOST_REQUIRE_MESSAGE(consistency.rc == 0, consistency.err);
  JsonValue c = ParseJson(consistency.out).value();
  BOOST_TEST(VerifyConsistency(2, 5, Hashes(*c.find("proof")),
                               HashFromBase64(c.find("root1")->as_string()).value(), body.root)
                 .has_value());

  Run audit = Cli({"log", "audit", "--dir", dir});
  BOOST_TEST(audit.rc == 0);
  BOOST_TEST(ParseJson(audit.out).value().find("ok")->as_bool());
}

BOOST_AUTO_TEST_CASE(errors_are_json_with_code_and_nonzero_exit) {
  TempDir tmp;
  Run missing = Cli({"log", "checkpoint", "--dir", tmp / "none"});
  BOOST_TEST(missing.rc == 1);
  JsonValue parsed = ParseJson(missing.err).value();
  const JsonValue* error = parsed.find("error");
  BOOST_REQUIRE(error);
  BOOST_TEST(error->find("code")->as_string() == "ledger.not_found");

  Run bad_option = Cli({"log", "prove", "--dir", tmp.path(), "--index", "x"});
  BOOST_TEST(bad_option.rc == 2);  // a malformed argument is a usage error
  BOOST_TEST(ParseJson(bad_option.err).value().find("error")->find("field")->as_string() ==
             "index");

  BOOST_TEST(Cli({"frobnicate"}).rc == 2);
  BOOST_TEST(Cli({}).rc == 2);
}

BOOST_AUTO_TEST_CASE(serve_settings_are_parsed_strictly_and_name_the_setting) {
  TempDir tmp;
  struct Case {
    std::vector<std::string> args;
    const char* code;
    const char* field;
  };
  const Case cases[] = {
      {{"--rate-limit", "ten"}, "config.bad_value", "rate_limit"},
      {{"--rate-limit", "nan"}, "config.bad_value", "rate_limit"},
      {{"--rate-limit", "inf"}, "config.bad_value", "rate_limit"},
      {{"--rate-limit", "1e999"}, "config.bad_value", "rate_limit"},
      {{"--rate-limit", "-1"}, "config.bad_value", "rate_limit"},
      {{"--max-body-bytes", "-1"}, "config.bad_value", "max_body_bytes"},
      {{"--max-body-bytes", " 5"}, "config.bad_value", "max_body_bytes"},
      {{"--max-body-bytes", "0"}, "config.bad_value", "max_body_bytes"},
      {{"--threads", "100000"}, "config.bad_value", "threads"},
      {{"--threads", "0"}, "config.bad_value", "threads"},
      {{"--port", "65536"}, "config.bad_value", "port"},
      {{"--port", "+80"}, "config.bad_value", "port"},
      {{"--operator-org", "Evil Org/../x"}, "config.bad_value", "operator_org"},
      {{"--time-future-skew", "-5"}, "config.bad_value", "time_future_skew"},
      {{"--time-future-skew", "90000"}, "config.bad_value", "time_future_skew"},
      {{"--time-offline-buffer", "72h"}, "config.bad_value", "time_offline_buffer"},
      {{"--time-offline-buffer", "99999999"}, "config.bad_value", "time_offline_buffer"},
      {{"--session-idle-timeout", "30m"}, "config.bad_value", "session_idle_timeout"},
      {{"--session-idle-timeout", "59"}, "config.bad_value", "session_idle_timeout"},
      {{"--session-idle-timeout", "86401"}, "config.bad_value", "session_idle_timeout"},
      {{"--session-lifetime", "-3600"}, "config.bad_value", "session_lifetime"},
      {{"--session-lifetime", "2592001"}, "config.bad_value", "session_lifetime"},
      {{"--lease-poll-ms", "10"}, "config.bad_value", "lease_poll_ms"},
      {{"--lease-poll-ms", "0.5s"}, "config.bad_value", "lease_poll_ms"},
      {{"--advertise-url", "127.0.0.1:8080"}, "config.bad_value", "advertise_url"},
      {{"--advertise-url", "http://node-a:8080/"}, "config.bad_value", "advertise_url"},
      {{"--advertise-url", "http://node-a:8080?x=1"}, "config.bad_value", "advertise_url"},
      // An idle timeout longer than the lifetime would never apply.
      {{"--session-idle-timeout", "7200", "--session-lifetime", "3600"},
       "config.bad_value",
       "session_idle_timeout"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {"serve", "--dir", tmp / "none"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Run r = Cli(argv);
    BOOST_TEST_INFO(c.args[0] << " " << c.args[1]);
    BOOST_TEST(r.rc != 0);
    auto parsed = ParseJson(r.err);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), r.err);
    const JsonValue* error = parsed->find("error");
    BOOST_REQUIRE(error);
    BOOST_TEST(error->find("code")->as_string() == c.code);
    BOOST_TEST(error->find("field")->as_string() == c.field);
    BOOST_TEST(error->find("message")->as_string().find(c.args[1]) != std::string::npos);
  }
  // The session timeouts within their ranges are accepted.
  Run sessions = Cli({"serve", "--dir", tmp / "none", "--session-idle-timeout", "900",
                      "--session-lifetime", "3600", "--check"});
  BOOST_TEST(sessions.rc == 0, sessions.err);
  BOOST_TEST(sessions.out == "pedigree serve: settings valid\n");
  // An unknown key in the config file names the settings that exist.
  const std::string config = tmp / "pedigree.conf";
  std::ofstream(config) << "# comment\nport = 8080\nrate_limit_per_second_per_token = 5\n";
  Run unknown = Cli({"serve", "--dir", tmp / "none", "--config", config});
  auto parsed = ParseJson(unknown.err);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), unknown.err);
  const JsonValue* error = parsed->find("error");
  BOOST_TEST(error->find("code")->as_string() == "config.unknown_key");
  BOOST_TEST(error->find("line")->as_int() == 3);
  BOOST_TEST(error->find("message")->as_string().find("rate_limit, responder_gln") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(float_in_payload_is_refused_before_anything_is_written) {
  TempDir tmp;
  std::string dir = tmp / "ledger";
  BOOST_REQUIRE(Cli({"init", "--dir", dir, "--origin", "example.org/cli-test"}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "k.pem"}).rc == 0);
  Run append = Cli({"log", "append", "--dir", dir, "--key", tmp / "k.pem", "-"}, R"({"dose":2.5})");
  BOOST_TEST(append.rc == 1);
  BOOST_TEST(append.err.find("json.") != std::string::npos);
  Run checkpoint = Cli({"log", "checkpoint", "--dir", dir});
  BOOST_TEST(checkpoint.out.find("\n0\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_scan)

BOOST_AUTO_TEST_CASE(rendered_pack_label_scans_back_to_the_same_pack) {
  TempDir tmp;
  Run label = Cli({"label", "--gtin", "09506000134352", "--serial", "SN123", "--lot", "LOT42",
                   "--expiry", "2028-03-31", "-o", tmp / "pack.png"});
  BOOST_REQUIRE_MESSAGE(label.rc == 0, label.err);
  Run scan = Cli({"scan", tmp / "pack.png"});
  BOOST_REQUIRE_MESSAGE(scan.rc == 0, scan.err);
  JsonValue symbols = ParseJson(scan.out).value();
  BOOST_REQUIRE(symbols.size() == 1u);
  const JsonValue& gs1 = *symbols.as_array()[0].find("gs1");
  BOOST_TEST(gs1.find("packId")->as_string() == "https://id.gs1.org/01/09506000134352/21/SN123");
  BOOST_TEST(gs1.find("expiry")->as_string() == "2028-03-31");
  BOOST_TEST(symbols.as_array()[0].find("symbologyIdentifier")->as_string() == "]d2");
}

BOOST_AUTO_TEST_CASE(text_reads_are_parsed_per_line_with_precise_errors) {
  Run scan = Cli({"scan", "-"}, "(01)09506000134352(21)A1\r\n(01)09506000134353(21)X\n");
  BOOST_REQUIRE(scan.rc == 0);
  JsonValue items = ParseJson(scan.out).value();
  BOOST_REQUIRE(items.size() == 2u);
  BOOST_TEST(items.as_array()[0].find("gs1")->find("packId")->as_string() ==
             "https://id.gs1.org/01/09506000134352/21/A1");
  const JsonValue* error = items.as_array()[1].find("gs1")->find("error");
  BOOST_REQUIRE(error);
  BOOST_TEST(error->find("code")->as_string() == "gs1.check_digit");
  BOOST_TEST(error->find("field")->as_string() == "01");
}

BOOST_AUTO_TEST_CASE(label_with_bad_gtin_writes_no_file) {
  TempDir tmp;
  Run label = Cli({"label", "--gtin", "09506000134353", "--serial", "S", "--lot", "L", "--expiry",
                   "280331", "-o", tmp / "bad.png"});
  BOOST_TEST(label.rc == 1);
  BOOST_TEST(label.err.find("gs1.check_digit") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(tmp / "bad.png"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_supply)

// A manufacturer "mfg" (key held) with product 09506000134352 and batch L1 of 10 packs.
static std::string SupplyNodeWithBatch(TempDir& tmp) {
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-supply", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"org", "register", "--authority-key", authority, "--id", "mfg",
                                 "--name", "Maker", "--roles", "manufacturer,dispenser",
                                 "--prefixes", "9506000", "--glns", "9506000000008", "--key",
                                 tmp / "mfg.pem", "--hold", "--valid-from", "2026-01-01T00:00:00Z"},
        {"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"},
        {"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
         "2028-03-31", "--quantity", "10"}}) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  }
  return dir;
}

// The serials `commission --generate N` drew are what the manufacturer prints on the packs:
// the command returns them (JSON, text, --serials-out FILE) and each one verifies.
BOOST_AUTO_TEST_CASE(commission_generate_returns_the_generated_serials) {
  TempDir tmp;
  std::string dir = SupplyNodeWithBatch(tmp);
  const std::vector<std::string> commission = {
      "commission",     "--dir", dir,  "--as",       "mfg",          "--gtin",
      "09506000134352", "--lot", "L1", "--location", "9506000000008"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = commission;
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  };
  auto verifies = [&](const std::string& serial) {
    Run v = Cli({"verify", "--dir", dir, "--code", "(01)09506000134352(21)" + serial});
    BOOST_TEST(v.rc == 0, serial << ": " << v.out << v.err);
  };

  Run json = with({"--generate", "3", "--json"});
  BOOST_REQUIRE_MESSAGE(json.rc == 0, json.err);
  const JsonValue answer = ParseJson(json.out).value();
  const JsonValue* serials = answer.find("serials");
  BOOST_REQUIRE(serials != nullptr);
  BOOST_TEST_REQUIRE(serials->as_array().size() == 3u);
  for (const JsonValue& s : serials->as_array()) verifies(s.as_string());

  Run text = with({"--generate", "2"});
  BOOST_REQUIRE_MESSAGE(text.rc == 0, text.err);
  BOOST_TEST(text.out.find("2 generated serials:") != std::string::npos, text.out);
  std::istringstream lines(text.out.substr(text.out.find("serials:\n") + 9));
  std::vector<std::string> printed;
  for (std::string line; std::getline(lines, line);) printed.push_back(line.substr(2));
  BOOST_TEST_REQUIRE(printed.size() == 2u);
  for (const std::string& s : printed) verifies(s);

  const std::string file = tmp / "serials.txt";
  Run out = with({"--generate", "4", "--serials-out", file});
  BOOST_REQUIRE_MESSAGE(out.rc == 0, out.err);
  BOOST_TEST(out.out.find("4 generated serials written to " + file) != std::string::npos);
  std::ifstream in(file);
  std::vector<std::string> written;
  for (std::string line; std::getline(in, line);) written.push_back(line);
  BOOST_TEST_REQUIRE(written.size() == 4u);
  for (const std::string& s : written) verifies(s);

  // An existing file is never overwritten, and nothing is commissioned (1 pack is left).
  Run exists = with({"--generate", "1", "--serials-out", file, "--json"});
  BOOST_TEST(exists.rc != 0);
  BOOST_TEST(exists.err.find("\"field\":\"serials-out\"") != std::string::npos, exists.err);
  BOOST_TEST(exists.err.find(file) != std::string::npos, exists.err);
  std::ifstream again(file);
  size_t count = 0;
  for (std::string line; std::getline(again, line);) ++count;
  BOOST_TEST(count == 4u);
  Run without = with({"--serials", "A1", "--serials-out", tmp / "other.txt"});
  BOOST_TEST(without.rc != 0);
  BOOST_TEST(without.err.find("cli.usage") != std::string::npos, without.err);
  BOOST_TEST(!std::filesystem::exists(tmp / "other.txt"));
  Run last = with({"--generate", "1", "--json"});
  BOOST_TEST(last.rc == 0, last.err);
}

// Reading trial records never creates a sponsor store: a missing one is named, and the
// directory is left as it was (an empty store created by a read once hid the real one).
BOOST_AUTO_TEST_CASE(trial_reads_never_create_a_sponsor_store_and_name_the_missing_file) {
  TempDir tmp;
  std::string dir = SupplyNodeWithBatch(tmp);
  const std::string candidate = tmp / "ae.ndjson";
  std::ofstream(candidate) << "{}\n";
  const std::string default_store = (std::filesystem::path(dir) / "sponsor-store.sqlite").string();
  const std::string elsewhere = (std::filesystem::path(tmp / "nowhere") / "store.sqlite").string();
  struct Case {
    std::vector<std::string> args;
    std::string looked_for;
  };
  const std::vector<Case> cases = {
      {{"trial", "verify", "--dir", dir, "--trial", "T1", "--file", candidate}, default_store},
      {{"trial", "verify", "--dir", dir, "--trial", "T1", "--file", candidate, "--domain", "AE",
        "--store", tmp / "other.sqlite"},
       tmp / "other.sqlite"},
      {{"trial", "disclose", "--dir", dir, "--trial", "T1", "--domain", "AE", "--key", "S1"},
       default_store},
      {{"trial", "disclose", "--dir", dir, "--trial", "T1", "--domain", "AE", "--key", "S1",
        "--store", elsewhere},
       elsewhere},
      {{"report", "trial", "--dir", dir, "--trial", "T1", "--candidate", candidate}, default_store},
  };
  for (const Case& c : cases) {
    Run run = Cli(c.args);
    BOOST_TEST(run.rc != 0, c.args[1]);
    BOOST_TEST(run.err.find("\"code\":\"trial.store_not_found\"") != std::string::npos, run.err);
    BOOST_TEST(run.err.find("\"field\":\"store\"") != std::string::npos, run.err);
    BOOST_TEST(run.err.find(c.looked_for) != std::string::npos, run.err);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    BOOST_TEST(entry.path().filename().string().find("sponsor-store") == std::string::npos,
               entry.path());
  }
  BOOST_TEST(!std::filesystem::exists(tmp / "other.sqlite"));
  BOOST_TEST(!std::filesystem::exists(tmp / "nowhere"));
}

BOOST_AUTO_TEST_CASE(a_pack_is_registered_commissioned_verified_and_dispensed_from_the_shell) {
  TempDir tmp;
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-supply", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "ph.pem"}).rc == 0);
  Run reg = Cli({"org",
                 "register",
                 "--dir",
                 dir,
                 "--authority-key",
                 authority,
                 "--id",
                 "mfg",
                 "--name",
                 "Maker",
                 "--roles",
                 "manufacturer,dispenser",
                 "--prefixes",
                 "9506000",
                 "--glns",
                 "9506000000008",
                 "--key",
                 tmp / "mfg.pem",
                 "--hold",
                 "--valid-from",
                 "2026-01-01T00:00:00Z"});
  BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    return r;
  };
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1,A2"});
  Run commissioned = run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1",
                          "--location", "9506000000008", "--generate", "3", "--json"});
  BOOST_TEST(ParseJson(commissioned.out).value().find("kind")->as_string() == "commission");

  Run verify = Cli({"verify", "--dir", dir, "--code", "(01)09506000134352(17)280331(10)L1(21)A1"});
  BOOST_TEST(verify.rc == 0);
  BOOST_TEST(verify.out.find("VERIFIED") == 0u);
  run({"dispense", "--as", "mfg", "--code", "(01)09506000134352(21)A1", "--location",
       "9506000000008"});
  Run again = Cli({"dispense", "--dir", dir, "--as", "mfg", "--code", "(01)09506000134352(21)A1",
                   "--location", "9506000000008"});
  BOOST_TEST(again.rc == 1);
  BOOST_TEST(again.err.find("alert.already_decommissioned") != std::string::npos);
  Run not_verified = Cli({"verify", "--dir", dir, "--code", "(01)09506000134352(21)A1", "--json"});
  BOOST_TEST(not_verified.rc == 3);
  BOOST_TEST(!ParseJson(not_verified.out).value().find("verified")->as_bool());
  Run alerts = Cli({"alerts", "--dir", dir, "--json"});
  BOOST_TEST(ParseJson(alerts.out).value().size() == 1u);
  Run history = Cli({"history", "--dir", dir, "--code", "(01)09506000134352(21)A1", "--json"});
  BOOST_TEST(ParseJson(history.out).value().size() == 4u);  // batch, commission, supply, alert

  // The manufacturer investigates the alert and closes it as the slip it was.
  const std::string alert =
      std::to_string(ParseJson(alerts.out).value().as_array()[0].find("index")->as_int());
  BOOST_TEST(ParseJson(alerts.out).value().as_array()[0].find("class")->as_string() == "slip");
  run({"alert", "investigate", "--as", "mfg", "--alert", alert});
  Run bad = Cli({"alert", "close", "--dir", dir, "--as", "mfg", "--alert", alert,
                 "--classification", "fine", "--reason", "x"});
  BOOST_TEST(bad.rc == 1);
  BOOST_TEST(bad.err.find("alert_lifecycle.bad_classification") != std::string::npos);
  run({"alert", "close", "--as", "mfg", "--alert", alert, "--classification", "process_error",
       "--reason", "scanned twice at the till"});
  Run listed = Cli({"alerts", "--dir", dir});
  BOOST_TEST(listed.out.find("slip, closed as process_error: scanned twice at the till") !=
                 std::string::npos,
             listed.out);

  // Revoke the manufacturer's key: its next event is refused.
  Run revoke = Cli({"org", "key-revoke", "--dir", dir, "--authority-key", authority, "--id", "mfg",
                    "--key", tmp / "mfg.pem"});
  BOOST_REQUIRE_MESSAGE(revoke.rc == 0, revoke.err);
  Run late = Cli({"recall", "--dir", dir, "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1",
                  "--reason", "x"});
  BOOST_TEST(late.rc == 1);
  BOOST_TEST(late.err.find("event.key_revoked") != std::string::npos);
  Run added = Cli({"org", "key-add", "--dir", dir, "--authority-key", authority, "--id", "mfg",
                   "--key", tmp / "ph.pem", "--valid-from", "2026-01-01T00:00:00Z"});
  BOOST_REQUIRE_MESSAGE(added.rc == 0, added.err);
  run({"recall", "--as", "mfg", "--key", tmp / "ph.pem", "--gtin", "09506000134352", "--lot", "L1",
       "--reason", "x"});
}

// A token carries only roles the consortium registry grants its organisation; `admin` is
// node-local and only the configured operator organisation may hold it.
BOOST_AUTO_TEST_CASE(token_issue_is_bound_to_the_registry_and_refusals_write_nothing) {
  TempDir tmp;
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-tokens", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  for (auto [id, roles, key] :
       {std::tuple{"apotheke-1", "dispenser", "ph.pem"}, {"operator", "witness", "op.pem"}}) {
    BOOST_REQUIRE(Cli({"keygen", "--out", tmp / key}).rc == 0);
    Run reg =
        Cli({"org", "register", "--dir", dir, "--authority-key", authority, "--id", id, "--name",
             id, "--roles", roles, "--key", tmp / key, "--valid-from", "2026-01-01T00:00:00Z"});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
  }
  struct Case {
    std::string org, roles, code, named;  // `named`: text the message must contain
  };
  const Case refused[] = {
      {"no-such-org", "dispenser", "token.unknown_org", "no-such-org"},
      {"Evil Org/../x", "dispenser", "token.invalid_org", "Evil Org/../x"},
      {"apotheke-1", "regulator", "token.role_not_registered",
       "its registered roles are dispenser"},
      {"apotheke-1", "dispenser,regulator,admin,witness", "token.role_not_registered", "dispenser"},
      {"apotheke-1", "admin", "token.role_not_registered", "operator organisation (none"},
      {"apotheke-1", "pharmacist", "token.unknown_role", "pharmacist"},
  };
  for (const auto& c : refused) {
    BOOST_TEST_INFO(c.org << " " << c.roles);
    Run r = Cli({"token", "issue", "--dir", dir, "--org", c.org, "--roles", c.roles});
    BOOST_TEST(r.rc == 1);
    auto error = ParseJson(r.err);
    BOOST_REQUIRE_MESSAGE(error.has_value(), r.err);
    BOOST_TEST(error->find("error")->find("code")->as_string() == c.code);
    BOOST_TEST(error->find("error")->find("message")->as_string().find(c.named) !=
               std::string::npos);
  }
  // Nothing was written: not even the token database was created.
  BOOST_TEST(!std::filesystem::exists(dir + "/tokens.db"));

  Run ok = Cli({"token", "issue", "--dir", dir, "--org", "apotheke-1", "--roles", "dispenser"});
  BOOST_REQUIRE_MESSAGE(ok.rc == 0, ok.err);
  // Admin for another organisation than the operator is still refused; for the operator
  // it is granted on top of its registry roles.
  Run not_operator = Cli({"token", "issue", "--dir", dir, "--org", "apotheke-1", "--roles", "admin",
                          "--operator-org", "operator"});
  BOOST_TEST(not_operator.err.find("token.role_not_registered") != std::string::npos);
  Run admin = Cli({"token", "issue", "--dir", dir, "--org", "operator", "--roles", "admin,witness",
                   "--operator-org", "operator"});
  BOOST_REQUIRE_MESSAGE(admin.rc == 0, admin.err);
  Run list = Cli({"token", "list", "--dir", dir});
  BOOST_REQUIRE_MESSAGE(list.rc == 0, list.err);
  BOOST_TEST(ParseJson(list.out).value().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
