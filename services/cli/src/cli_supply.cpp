// Supply-chain commands on an embedded ledger: `pedigree <action> --as ORG ...` signs
// with the organisation's key held by this node (see `pedigree org hold-key`), or
// with --key FILE. Human output by default, --json for scripts.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli_common.h"
#include "cli_lists.h"
#include "cli_remote.h"
#include "pedigree/base/printable.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

// How one option becomes one payload member.
enum class Field { kString, kInt, kList };
struct OptionField {
  const char* option;  // --option
  const char* member;  // payload member
  Field type;
  bool required;
};

// The CLI's options for one supply action (pedigree/usecases/supply_actions.h).
struct ActionSpec {
  std::string name;  // SupplyAction::name
  std::vector<OptionField> fields;
  std::string usage;
  std::string example;  // arguments after "pedigree NAME --as ORG"
};

const std::vector<ActionSpec>& Actions() {
  static const std::vector<ActionSpec> actions = {
      {"product register",
       {{"gtin", "gtin", Field::kString, true},
        {"name", "name", Field::kString, true},
        {"form", "form", Field::kString, false},
        {"strength", "strength", Field::kString, false},
        {"nhrn", "nhrn", Field::kString, false},
        {"temp-min", "tempMin", Field::kInt, false},
        {"temp-max", "tempMax", Field::kInt, false}},
       "--gtin G --name N [--temp-min T --temp-max T (tenths °C)]",
       "--gtin 09506000134352 --name \"Amoxicillin 500 mg\" --temp-min 20 --temp-max 250"},
      {"batch register",
       {{"gtin", "gtin", Field::kString, true},
        {"lot", "lot", Field::kString, true},
        {"expiry", "expiry", Field::kString, true},
        {"quantity", "quantity", Field::kInt, true}},
       "--gtin G --lot L --expiry YYYY-MM-DD --quantity N",
       "--gtin 09506000134352 --lot L001 --expiry 2027-12-31 --quantity 1000"},
      {"commission",
       {{"gtin", "gtin", Field::kString, true},
        {"lot", "lot", Field::kString, true},
        {"location", "location", Field::kString, true},
        {"serials", "serials", Field::kList, false}},
       "--gtin G --lot L --location GLN (--serials A,B,.. | --generate N [--serials-out FILE])",
       "--gtin 09506000134352 --lot L001 --location 9506000000018 --generate 10 "
       "--serials-out serials.txt"},
      {"aggregate",
       {{"parent", "parent", Field::kString, true}, {"children", "children", Field::kList, true}},
       "--parent SSCC --children CODE,CODE,..|@FILE",
       "--parent 095060001000000017 --children @serials.txt"},
      {"disaggregate",
       {{"parent", "parent", Field::kString, true}, {"children", "children", Field::kList, false}},
       "--parent SSCC [--children CODE,..|@FILE]",
       "--parent 095060001000000017"},
      {"ship",
       {{"code", "code", Field::kList, true},
        {"to", "to", Field::kString, true},
        {"to-location", "toLocation", Field::kString, true},
        {"despatch-advice", "despatchAdvice", Field::kString, true}},
       "--code CODE[,CODE..]|@FILE --to ORG --to-location GLN --despatch-advice DA",
       "--code 095060001000000017 --to wholesaler --to-location 9506000000025 "
       "--despatch-advice DA-1"},
      {"receive",
       {{"from", "from", Field::kString, true},
        {"despatch-advice", "despatchAdvice", Field::kString, true},
        {"location", "location", Field::kString, true}},
       "--from ORG --despatch-advice DA --location GLN",
       "--from acme --despatch-advice DA-1 --location 9506000000025"},
      {"dispense",
       {{"code", "code", Field::kList, true}, {"location", "location", Field::kString, true}},
       "--code CODE --location GLN",
       "--code '(01)09506000134352(21)A1' --location 9506000000032"},
      {"decommission",
       {{"code", "code", Field::kList, true},
        {"status", "status", Field::kString, true},
        {"location", "location", Field::kString, true}},
       "--code CODE --status destroyed|stolen|sample|free_sample|locked|exported|checked_out "
       "--location GLN",
       "--code '(01)09506000134352(21)A1' --status destroyed --location 9506000000032"},
      {"undo",
       {{"code", "code", Field::kList, true}, {"location", "location", Field::kString, true}},
       "--code CODE --location GLN",
       "--code '(01)09506000134352(21)A1' --location 9506000000032"},
      {"recall",
       {{"gtin", "gtin", Field::kString, true},
        {"lot", "lot", Field::kString, true},
        {"reason", "reason", Field::kString, true}},
       "--gtin G --lot L --reason TEXT",
       "--gtin 09506000134352 --lot L001 --reason \"out of specification\""},
      {"alert investigate", {{"alert", "alert", Field::kInt, true}}, "--alert INDEX", "--alert 42"},
      {"alert close",
       {{"alert", "alert", Field::kInt, true},
        {"classification", "classification", Field::kString, true},
        {"reason", "reason", Field::kString, true}},
       "--alert INDEX --classification technical_error|process_error|confirmed_falsification "
       "--reason TEXT",
       "--alert 42 --classification technical_error --reason \"misread label\""},
  };
  return actions;
}

Result<JsonValue> BuildPayload(const ActionSpec& spec, const Args& args) {
  auto p = JsonValue::Object();
  for (const OptionField& f : spec.fields) {
    auto value = args.get(f.option);
    if (!value) {
      if (f.required)
        return Fail(Error("cli.usage", std::string("missing required option --") + f.option)
                        .at_field(f.option));
      continue;
    }
    switch (f.type) {
      case Field::kString:
        p.set(f.member, JsonValue(*value));
        break;
      case Field::kInt: {
        PEDIGREE_ASSIGN(n, ParseJson(*value, {.integers_only = true}));
        if (!n->is_int())
          return Fail(Error("cli.usage", std::string("--") + f.option + " must be an integer")
                          .at_field(f.option));
        p.set(f.member, *n);
        break;
      }
      case Field::kList:
        // Codes in any scanner form, comma- or newline-separated or @FILE (cli_lists.h).
        if (std::string_view(f.member) == "serials") {
          PEDIGREE_ASSIGN(items, ReadListOption(f.option, *value));
          std::vector<std::string> serials;
          for (const ListItem& item : *items) serials.push_back(item.text);
          p.set(f.member, JsonValue::Strings(serials));
        } else {
          PEDIGREE_ASSIGN(epcs, ReadEpcListOption(f.option, *value));
          p.set(f.member, JsonValue::Strings(*epcs));
        }
        break;
    }
  }
  if (args.get("generate")) {
    PEDIGREE_ASSIGN(count, args.number("generate"));
    p.set("generate", JsonValue(static_cast<int64_t>(**count)));
  }
  if (auto id = args.get("client-id")) p.set("clientId", JsonValue(*id));
  return ActionPayload(ActionNamed(spec.name), std::move(p));
}

// An action's help, from its option table: every payload option, then those all actions take.
std::string ActionOptionsHelp(const ActionSpec& spec) {
  std::string text = "  --as ORG       the acting organisation (required)\n";
  for (const OptionField& f : spec.fields) {
    std::string line = "  --" + std::string(f.option) + " V";
    line.resize(std::max<size_t>(line.size() + 1, 17), ' ');
    text += line + "payload member " + f.member +
            (f.type == Field::kInt    ? ", an integer"
             : f.type == Field::kList ? ", a list: A,B,.. or @FILE"
                                      : "") +
            (f.required ? " (required)" : "") + "\n";
  }
  return text +
         "  --key FILE     sign with this PEM key (default: the key this node holds for ORG;\n"
         "                 required in remote mode, docs/cli.md)\n"
         "  --client-id ID the request's idempotency id (default: none)\n"
         "  --generate N   generate N serials (commission; default: none)\n"
         "  --serials-out FILE\n"
         "                 write the generated serials to FILE, one a line\n" +
         kDirHelp + kJsonHelp;
}

int RunAction(const ActionSpec& spec, const std::vector<std::string>& argv, CliIo& io) {
  std::set<std::string> options = {"dir", "as", "key", "client-id", "generate", "serials-out"};
  for (const OptionField& f : spec.fields) options.insert(f.option);
  size_t words = spec.name.find(' ') == std::string::npos ? 1 : 2;
  auto args = Args::Parse(argv, words, options, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto org = args->required("as");
  if (!org) return PrintError(io.err, org.error());
  // Against a remote node the organisation signs here: the node never sees its key.
  std::optional<RemoteClient> remote;
  if (io.remote) {
    if (!args->get("key")) {
      return PrintError(io.err, RemoteKeyRequired(spec.name));
    }
    auto client = RemoteClient::Make(*io.remote);
    if (!client) return PrintError(io.err, client.error());
    remote = std::move(*client);
  }
  auto payload = BuildPayload(spec, *args);
  if (!payload) return PrintError(io.err, payload.error());
  // The serials `--generate N` drew; the user needs them to print labels.
  std::vector<std::string> generated;
  if (args->get("generate")) {
    if (const JsonValue* serials = payload->find("serials"); serials && serials->is_array()) {
      for (const JsonValue& s : serials->as_array()) generated.push_back(s.as_string());
    }
  }
  std::optional<std::string> serials_out = args->get("serials-out");
  if (serials_out && !args->get("generate")) {
    return PrintError(
        io.err, Error("cli.usage", "--serials-out needs --generate N").at_field("serials-out"));
  }
  // Created (exclusively) before the event is submitted: an existing file is refused and a
  // file that cannot be created stops the command before anything reaches the ledger.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> serials_file(nullptr, &std::fclose);
  if (serials_out) {
    if (std::filesystem::exists(*serials_out) || std::filesystem::is_symlink(*serials_out)) {
      return PrintError(io.err, Error("cli.usage", "--serials-out " + *serials_out +
                                                       " already exists; it is not overwritten")
                                    .at_field("serials-out"));
    }
    serials_file.reset(std::fopen(serials_out->c_str(), "wx"));
    if (!serials_file) {
      return PrintError(
          io.err,
          Error("cli.io", "cannot create --serials-out " + *serials_out).at_field("serials-out"));
    }
  }
  Result<uint64_t> index = Fail("cli.internal", "not submitted");
  // Commissioning 10^6 generated serials takes seconds: a progress line on a terminal.
  Progress progress(
      io.err, io.progress,
      spec.name + ": signing and appending" +
          (generated.empty() ? "" : " " + std::to_string(generated.size()) + " packs"));
  std::optional<ProgressTicker> ticker(std::in_place, progress);
  if (remote) {
    index = SubmitRemote(*remote, *payload, *org, *args->get("key"));
  } else if (auto node = SupplyNode::Open(args->dir()); !node) {
    index = std::unexpected(node.error());
  } else if (auto key_path = args->get("key")) {
    // Sign here with the given key file; the node only sequences.
    auto key = log::PrivateKey::LoadPem(*key_path);
    if (!key) return PrintError(io.err, key.error());
    auto envelope =
        SignCommand(*payload, *org, *key, (*node)->Now(), "cli-", (*node)->ledger().origin());
    if (!envelope) return PrintError(io.err, envelope.error());
    index = (*node)->Submit(std::move(*envelope));
  } else {
    index = (*node)->SubmitAs(*org, std::move(*payload));
  }
  ticker.reset();
  progress.Finish();
  if (!index) {
    if (serials_file) {
      serials_file.reset();
      std::filesystem::remove(*serials_out);
    }
    return PrintError(io.err, index.error());
  }
  if (serials_file) {
    std::string lines;
    for (const std::string& s : generated) lines += s + "\n";
    if (std::fwrite(lines.data(), 1, lines.size(), serials_file.get()) != lines.size() ||
        std::fclose(serials_file.release()) != 0) {
      return PrintError(io.err, Error("cli.io", "entry " + std::to_string(*index) +
                                                    " is recorded but --serials-out " +
                                                    *serials_out + " could not be written")
                                    .at_field("serials-out"));
    }
  }
  if (args->has("json")) {
    auto out = JsonValue::Object();
    out.set("index", JsonValue(static_cast<int64_t>(*index)));
    out.set("kind", JsonValue(ActionNamed(spec.name).kind));
    if (!generated.empty()) out.set("serials", JsonValue::Strings(generated));
    PrintJson(io.out, out);
  } else {
    io.out << spec.name << ": recorded as ledger entry " << *index << "\n";
    if (serials_out) {
      io.out << "  " << generated.size() << " generated serials written to " << *serials_out
             << "\n";
    } else if (!generated.empty()) {
      io.out << "  " << generated.size() << " generated serials:\n";
      for (const std::string& s : generated) io.out << "  " << s << "\n";
    }
  }
  return 0;
}

// A verify answer (VerifyAnswerJson, the same locally and from GET /v1/verify) for people.
// What the scan and the ledger's payloads say reaches the terminal escaped.
void PrintVerifyText(std::ostream& out, const JsonValue& v) {
  auto str = [&v](const char* k) {
    const JsonValue* x = v.find(k);
    return x && x->is_string() ? Printable(x->as_string()) : std::string();
  };
  const JsonValue* verified = v.find("verified");
  out << (verified && verified->is_bool() && verified->as_bool() ? "VERIFIED" : "NOT VERIFIED")
      << "  " << str("packId") << "\n"
      << "  product " << str("product") << ", batch " << str("lot") << ", expiry " << str("expiry")
      << ", status " << str("status") << (str("holder").empty() ? "" : ", held by " + str("holder"))
      << "\n";
  if (!str("batchStatus").empty()) {
    out << "  batch " << str("batchStatus");
    if (str("batchStatus") != "active") {
      const JsonValue* entry = v.find("batchStatusEntry");
      out << ": " << str("batchStatusReason") << " (batch.status entry "
          << (entry && entry->is_int() ? entry->as_int() : 0) << ")";
    }
    out << "\n";
  }
  if (!str("custodyHint").empty()) out << "  custody: " << str("custodyHint") << "\n";
  if (const JsonValue* reasons = v.find("reasons"); reasons && reasons->is_array()) {
    for (const JsonValue& r : reasons->as_array()) {
      auto rs = [&r](const char* k) {
        const JsonValue* x = r.find(k);
        return x && x->is_string() ? Printable(x->as_string()) : std::string();
      };
      out << "  " << rs("code") << ": " << rs("message") << "\n    next: " << rs("nextStep")
          << "\n";
    }
  }
  if (const JsonValue* hints = v.find("scanHints"); hints && hints->is_array()) {
    for (const JsonValue& h : hints->as_array()) {
      if (h.is_string()) out << "  hint: " << Printable(h.as_string()) << "\n";
    }
  }
}

int Verify(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "code", "as"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto code = args->required("code");
  if (!code) return PrintError(io.err, code.error());
  // The custody hint is relative to --as ORG; without it the answer has none.
  const std::string as = args->get("as").value_or("");
  if (!as.empty() && !IsRegistryOrgId(as)) {
    return PrintError(io.err, Error("cli.usage", "--as '" + as +
                                                     "' is not an organisation id (a-z, 0-9, '.', "
                                                     "'-', 1 to 63 characters)")
                                  .at_field("as"));
  }
  Result<JsonValue> answer = Fail("cli.internal", "not verified");
  if (io.remote) {
    // The node answers for the token's organisation; --as is not another's to claim.
    if (!as.empty()) {
      return PrintError(io.err, Error("cli.usage",
                                      "with --server the custody hint is for your token's "
                                      "organisation; drop --as")
                                    .at_field("as"));
    }
    auto client = RemoteClient::Make(*io.remote);
    if (!client) return PrintError(io.err, client.error());
    answer = client->GetJson("/v1/verify?code=" + QueryEncode(*code));
  } else {
    auto node = SupplyNode::OpenReadOnly(args->dir());
    if (!node) return PrintError(io.err, node.error());
    auto v = (*node)->Verify(*code, as);
    if (!v) return PrintError(io.err, v.error());
    answer = VerifyAnswerJson(*v, (*node)->Now());
  }
  if (!answer) return PrintError(io.err, answer.error());
  if (args->has("json")) {
    PrintJson(io.out, *answer);
  } else {
    PrintVerifyText(io.out, *answer);
  }
  const JsonValue* verified = answer->find("verified");
  return verified && verified->is_bool() && verified->as_bool() ? 0 : 3;
}

// One alert as `pedigree alerts` shows it: "open", "investigating" or "closed as
// <classification>: <reason>".
void PrintAlertText(std::ostream& out, const JsonValue& a) {
  auto str = [&a](const char* k) {
    const JsonValue* x = a.find(k);
    return x && x->is_string() ? Printable(x->as_string()) : std::string();
  };
  const JsonValue* index = a.find("index");
  const JsonValue* suppressed = a.find("suppressed");
  int64_t left_out = suppressed && suppressed->is_int() ? suppressed->as_int() : 0;
  std::string state = str("state");
  if (!str("classification").empty()) state += " as " + str("classification");
  out << str("time") << "  #" << (index && index->is_int() ? index->as_int() : 0) << "  "
      << std::left << std::setw(24) << str("code") << std::setw(18)
      << (str("org").empty() ? str("concern") : str("org")) << str("message") << "\n      "
      << str("class") << ", " << state << (str("reason").empty() ? "" : ": " + str("reason"))
      << (left_out > 0 ? " (" + std::to_string(left_out) + " like it before were not recorded)"
                       : "")
      << "\n";
}

int Alerts(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "org", "limit"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto limit = args->number("limit");
  if (!limit) return PrintError(io.err, limit.error());
  auto list = JsonValue::Array();
  if (io.remote) {
    // The node shows what the token's roles allow (GET /v1/alerts); --org filters that.
    auto client = RemoteClient::Make(*io.remote);
    if (!client) return PrintError(io.err, client.error());
    auto answer = client->GetJson("/v1/alerts?limit=" + std::to_string(limit->value_or(50)));
    if (!answer) return PrintError(io.err, answer.error());
    const JsonValue* alerts = answer->find("alerts");
    if (!alerts || !alerts->is_array()) {
      return PrintError(
          io.err,
          Error("client.bad_response", "GET /v1/alerts answered no alerts").at_field("server"));
    }
    const std::string org = args->get("org").value_or("");
    for (const JsonValue& a : alerts->as_array()) {
      const JsonValue* about = a.find("org");
      if (!org.empty() && !(about && about->is_string() && about->as_string() == org)) continue;
      list.push_back(a);
    }
  } else {
    auto node = SupplyNode::OpenReadOnly(args->dir());
    if (!node) return PrintError(io.err, node.error());
    auto alerts = (*node)->Read([&](provenance::ProvenanceView& v) {
      return v.Alerts(args->get("org").value_or(""), limit->value_or(50));
    });
    if (!alerts) return PrintError(io.err, alerts.error());
    for (const auto& a : *alerts) {
      auto e = JsonValue::Object();
      e.set("index", JsonValue(static_cast<int64_t>(a.index)));
      e.set("code", JsonValue(a.code));
      e.set("org", JsonValue(a.subject_org));
      e.set("message", JsonValue(a.message));
      e.set("time", JsonValue(FormatUtcTime(a.time)));
      e.set("class", JsonValue(a.alert_class));
      e.set("state", JsonValue(a.state));
      if (!a.classification.empty()) e.set("classification", JsonValue(a.classification));
      if (!a.reason.empty()) e.set("reason", JsonValue(a.reason));
      if (a.suppressed > 0) e.set("suppressed", JsonValue(a.suppressed));
      e.set("weighs", JsonValue(a.Weighs()));
      list.push_back(e);
    }
  }
  if (args->has("json")) {
    PrintJson(io.out, list);
  } else {
    for (const JsonValue& a : list.as_array()) PrintAlertText(io.out, a);
  }
  return 0;
}

// The events of a history (index, payload): one line each, or --json [{index, payload}].
void PrintHistory(std::ostream& out, const std::vector<std::pair<uint64_t, JsonValue>>& events,
                  bool json) {
  auto list = JsonValue::Array();
  for (const auto& [index, p] : events) {
    if (json) {
      auto e = JsonValue::Object();
      e.set("index", JsonValue(static_cast<int64_t>(index)));
      e.set("payload", p);
      list.push_back(e);
    } else {
      auto str = [&p](const char* k) {
        const JsonValue* v = p.find(k);
        return v && v->is_string() ? Printable(v->as_string()) : std::string();
      };
      out << "#" << std::left << std::setw(7) << index << str("time") << "  " << std::setw(16)
          << str("kind") << std::setw(18) << str("org") << str("status") << str("to") << str("code")
          << str("parent") << "\n";
    }
  }
  if (json) PrintJson(out, list);
}

// `history` against a remote node: the pack's or container's events as the node shows
// them (GET /v1/packs/{gtin}/{serial}, GET /v1/containers/{sscc}: index, kind, org, time
// and the members that say where the pack went); who may see them is the node's rule.
int RemoteHistory(const RemoteOptions& options, const Args& args,
                  const std::optional<provenance::Sscc>& sscc,
                  const std::optional<provenance::PackId>& pack, CliIo& io) {
  auto client = RemoteClient::Make(options);
  if (!client) return PrintError(io.err, client.error());
  auto answer = sscc ? client->GetJson("/v1/containers/" + QueryEncode(sscc->value()))
                     : client->GetJson("/v1/packs/" + QueryEncode(pack->gtin().value()) + "/" +
                                       QueryEncode(pack->serial().value()));
  if (!answer) return PrintError(io.err, answer.error());
  const JsonValue* listed = answer->find("events");
  if (!listed || !listed->is_array()) {
    return PrintError(
        io.err,
        Error("client.bad_response", "the node's history has no events").at_field("server"));
  }
  std::vector<std::pair<uint64_t, JsonValue>> events;
  for (const JsonValue& e : listed->as_array()) {
    const JsonValue* index = e.find("index");
    if (!index || !index->is_int() || index->as_int() < 0) {
      return PrintError(
          io.err, Error("client.bad_response", "a history event has no index").at_field("server"));
    }
    // The node's summary of the event (its members the caller may see); a member's own
    // entry is GET /v1/log/entries/{index} (`log entry`), which shows only entries naming it.
    JsonValue payload = JsonValue::Object();
    for (const auto& [name, value] : e.as_object()) {
      if (name != "index") payload.set(name, value);
    }
    events.emplace_back(static_cast<uint64_t>(index->as_int()), std::move(payload));
  }
  PrintHistory(io.out, events, args.has("json"));
  return 0;
}

// `pedigree history CODE` (or --code CODE): a pack's events, or with an SSCC in any scanner
// form a case's or pallet's (its aggregations, contents changes and shipments at any depth).
int History(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "code"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  std::optional<std::string> code = args->get("code");
  if (!code && args->positionals().size() == 1) code = args->positionals()[0];
  if (!code || args->positionals().size() > (args->has("code") ? 0u : 1u)) {
    return PrintError(io.err,
                      Error("cli.usage", "history needs one pack code or SSCC").at_field("code"));
  }
  std::optional<provenance::Sscc> sscc;
  std::optional<provenance::PackId> pack;
  auto data = scanner::ParseGs1(*code);
  if (data && data->pack_id()) {
    pack = data->pack_id();
  } else if (auto container = reports::ParseContainerCode(*code)) {
    sscc = *container;
  } else if (container.error().code() != "report.not_a_container") {
    return PrintError(io.err, container.error());  // also a bad SSCC check digit
  } else {
    return PrintError(
        io.err,
        Error("scan.not_a_pack", "the code names no pack, case or pallet").at_field("code"));
  }
  if (io.remote) return RemoteHistory(*io.remote, *args, sscc, pack, io);
  auto node = SupplyNode::OpenReadOnly(args->dir());
  if (!node) return PrintError(io.err, node.error());
  auto history = (*node)->Read([&](provenance::ProvenanceView& v) {
    return sscc ? v.ContainerHistory(sscc->value())
                : v.PackHistory(pack->gtin().value(), pack->serial().value());
  });
  if (!history) return PrintError(io.err, history.error());
  if (history->empty()) {
    return PrintError(
        io.err,
        sscc
            ? Error("container.not_found", "no case or pallet " + sscc->value() + " on this ledger")
            : Error("pack.not_found", "no pack " + pack->DigitalLinkUri() + " on this ledger"));
  }
  std::vector<std::pair<uint64_t, JsonValue>> events;
  for (uint64_t index : *history) {
    auto entry = (*node)->ledger().Entry(index);
    if (!entry) return PrintError(io.err, entry.error());
    auto env = ParseJson(*entry);
    if (!env) return PrintError(io.err, env.error());
    events.emplace_back(index, *env->find("payload"));
  }
  PrintHistory(io.out, events, args->has("json"));
  return 0;
}

// The organisation key a registry command names: --key FILE (private, so --hold can keep
// it) or --public-key BASE64.
struct NamedKey {
  std::string public_b64;
  std::optional<log::PrivateKey> private_key;
};

Result<NamedKey> KeyFromArgs(const Args& args) {
  NamedKey named;
  if (auto k = args.get("key")) {
    PEDIGREE_ASSIGN(loaded, log::PrivateKey::LoadPem(*k));
    named.public_b64 = ToBase64(loaded->public_key().raw());
    named.private_key = std::move(*loaded);
  } else if (auto pk = args.get("public-key")) {
    named.public_b64 = *pk;
  } else {
    return Fail(Error("cli.usage", "give the organisation's --key FILE or --public-key BASE64")
                    .at_field("key"));
  }
  return named;
}

// Signs a registry payload with the authority key file and submits it.
Result<uint64_t> SubmitAsAuthority(SupplyNode& node, const std::string& authority_key_path,
                                   const std::string& kind, const std::string& client_id,
                                   JsonValue p) {
  PEDIGREE_ASSIGN(authority, log::PrivateKey::LoadPem(authority_key_path));
  return node.SubmitAsAuthority(*authority, kind, client_id, std::move(p));
}

// With --server, a registry event is built here, signed with the consortium authority key
// (org "authority", as SupplyNode::SubmitAsAuthority signs it) and posted to POST /v1/events
// through SubmitRemote. The node takes it on that route's checks: a token for another
// organisation than the event's passes only with the admin role (the operator's), and the
// ledger's rules accept registry events only under the authority's signature.
Result<uint64_t> SubmitAsAuthorityRemote(const RemoteOptions& options,
                                         const std::string& authority_key_path,
                                         const std::string& kind, const std::string& client_id,
                                         JsonValue p) {
  PEDIGREE_ASSIGN(client, RemoteClient::Make(options));
  p.set("kind", JsonValue(kind));
  p.set("clientId", JsonValue(client_id));
  return SubmitRemote(*client, p, "authority", authority_key_path);
}

// --hold keeps the organisation's private key on the node; a client never sends one.
Error RemoteHoldRefused(const std::string& command) {
  return Error("cli.usage",
               "--hold keeps the organisation's private key on the node, and a "
               "remote client never sends a private key: run " +
                   command + " --hold on the node (--dir), or give --public-key")
      .at_field("hold");
}

// The time registry events default to: the node's clock locally, this machine's remotely
// (the node checks it against its time bounds, as for every remote write).
int64_t ClientNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int OrgKey(const std::vector<std::string>& argv, CliIo& io, bool revoke) {
  // A revocation takes no validity period and holds no key.
  auto args =
      revoke
          ? Args::Parse(argv, 2, {"dir", "authority-key", "id", "public-key", "key", "revoked-at"},
                        {"json"})
          : Args::Parse(
                argv, 2,
                {"dir", "authority-key", "id", "public-key", "key", "valid-from", "valid-until"},
                {"hold", "json"});
  if (!args) return PrintError(io.err, args.error());
  for (const char* required : {"authority-key", "id"}) {
    if (!args->has(required))
      return PrintError(io.err,
                        Error("cli.usage", std::string("missing required option --") + required)
                            .at_field(required));
  }
  auto key = KeyFromArgs(*args);
  if (!key) return PrintError(io.err, key.error());
  const std::string kind = revoke ? "org.key_revoke" : "org.key_add";
  if (io.remote && args->has("hold")) return PrintError(io.err, RemoteHoldRefused("org key-add"));
  Result<std::unique_ptr<SupplyNode>> node = Fail("cli.internal", "no local node");
  if (!io.remote) {
    node = SupplyNode::Open(args->dir());
    if (!node) return PrintError(io.err, node.error());
  }
  std::string id = *args->get("id");
  std::string now = FormatUtcTime(io.remote ? ClientNow() : (*node)->Now());
  auto p = JsonValue::Object();
  p.set("id", JsonValue(id));
  p.set("key", JsonValue(key->public_b64));
  if (revoke) {
    p.set("revokedAt", JsonValue(args->get("revoked-at").value_or(now)));
  } else {
    p.set("validFrom", JsonValue(args->get("valid-from").value_or(now)));
    if (auto until = args->get("valid-until")) p.set("validUntil", JsonValue(*until));
  }
  const std::string client_id = kind + "-" + id + "-" + key->public_b64.substr(0, 16);
  auto index =
      io.remote
          ? SubmitAsAuthorityRemote(*io.remote, *args->get("authority-key"), kind, client_id, p)
          : SubmitAsAuthority(**node, *args->get("authority-key"), kind, client_id, p);
  if (!index) return PrintError(io.err, index.error());
  if (!io.remote && !revoke && args->has("hold") && key->private_key) {
    if (auto held = (*node)->HoldKey(id, *key->private_key); !held)
      return PrintError(io.err, held.error());
  }
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object()
                          .set("kind", JsonValue(kind))
                          .set("id", JsonValue(id))
                          .set("index", JsonValue(static_cast<int64_t>(*index))));
    return 0;
  }
  io.out << kind << ": " << id << " recorded as ledger entry " << *index << "\n";
  return 0;
}

// org device-add / device-revoke: a data logger of an organisation, registered by the
// authority like every registry row (docs/epcis.md, "Device-signed sensor data"). The
// logger's key is public only: its private key stays in the logger.
int OrgDevice(const std::vector<std::string>& argv, CliIo& io, bool revoke) {
  auto args =
      revoke
          ? Args::Parse(argv, 2, {"dir", "authority-key", "id", "device", "revoked-at"}, {"json"})
          : Args::Parse(
                argv, 2,
                {"dir", "authority-key", "id", "device", "public-key", "public-key-file", "label"},
                {"json"});
  if (!args) return PrintError(io.err, args.error());
  for (const char* required : {"authority-key", "id", "device"}) {
    if (!args->has(required))
      return PrintError(io.err,
                        Error("cli.usage", std::string("missing required option --") + required)
                            .at_field(required));
  }
  std::string public_b64;
  if (!revoke) {
    if (auto pk = args->get("public-key")) {
      public_b64 = *pk;
    } else if (auto file = args->get("public-key-file")) {
      std::ifstream in(*file);
      std::stringstream pem;
      pem << in.rdbuf();
      auto key = log::PublicKey::FromPem(pem.str());
      if (!in || !key) {
        return PrintError(io.err, Error("cli.usage", "--public-key-file " + *file +
                                                         " is no readable PEM Ed25519 public key")
                                      .at_field("public-key-file"));
      }
      public_b64 = ToBase64(key->raw());
    } else {
      return PrintError(io.err, Error("cli.usage",
                                      "give the logger's --public-key BASE64 or --public-key-file "
                                      "PEM")
                                    .at_field("public-key"));
    }
  }
  Result<std::unique_ptr<SupplyNode>> node = Fail("cli.internal", "no local node");
  if (!io.remote) {
    node = SupplyNode::Open(args->dir());
    if (!node) return PrintError(io.err, node.error());
  }
  const std::string kind = revoke ? "org.device_revoke" : "org.device_add";
  const std::string id = *args->get("id");
  const std::string device = *args->get("device");
  auto p = JsonValue::Object();
  p.set("id", JsonValue(id));
  p.set("device", JsonValue(device));
  if (revoke) {
    p.set("revokedAt",
          JsonValue(args->get("revoked-at")
                        .value_or(FormatUtcTime(io.remote ? ClientNow() : (*node)->Now()))));
  } else {
    p.set("key", JsonValue(public_b64));
    if (auto label = args->get("label")) p.set("label", JsonValue(*label));
  }
  // One registration and one revocation per deviceID: the id makes a retry idempotent.
  const std::string client_id = kind + "-" + ToHex(Sha256(id + "\n" + device)).substr(0, 32);
  auto index =
      io.remote
          ? SubmitAsAuthorityRemote(*io.remote, *args->get("authority-key"), kind, client_id, p)
          : SubmitAsAuthority(**node, *args->get("authority-key"), kind, client_id, p);
  if (!index) return PrintError(io.err, index.error());
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object()
                          .set("kind", JsonValue(kind))
                          .set("id", JsonValue(id))
                          .set("device", JsonValue(device))
                          .set("index", JsonValue(static_cast<int64_t>(*index))));
    return 0;
  }
  io.out << kind << ": " << device << " of " << id << " recorded as ledger entry " << *index
         << "\n";
  return 0;
}

int OrgRegister(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2,
                          {"dir", "authority-key", "id", "name", "roles", "prefixes", "glns",
                           "public-key", "key", "valid-from"},
                          {"hold", "json"});
  if (!args) return PrintError(io.err, args.error());
  for (const char* required : {"authority-key", "id", "name", "roles"}) {
    if (!args->has(required))
      return PrintError(io.err,
                        Error("cli.usage", std::string("missing required option --") + required)
                            .at_field(required));
  }
  auto named = KeyFromArgs(*args);
  if (!named) return PrintError(io.err, named.error());
  if (io.remote && args->has("hold")) return PrintError(io.err, RemoteHoldRefused("org register"));
  Result<std::unique_ptr<SupplyNode>> node = Fail("cli.internal", "no local node");
  if (!io.remote) {
    node = SupplyNode::Open(args->dir());
    if (!node) return PrintError(io.err, node.error());
  }
  auto key = JsonValue::Object();
  key.set("key", JsonValue(named->public_b64));
  key.set("validFrom",
          JsonValue(args->get("valid-from")
                        .value_or(FormatUtcTime(io.remote ? ClientNow() : (*node)->Now()))));
  auto keys = JsonValue::Array();
  keys.push_back(key);
  auto p = JsonValue::Object();
  p.set("id", JsonValue(*args->get("id")));
  p.set("name", JsonValue(*args->get("name")));
  p.set("roles", JsonValue::Strings(SplitList(*args->get("roles"))));
  if (auto v = args->get("prefixes")) p.set("companyPrefixes", JsonValue::Strings(SplitList(*v)));
  if (auto v = args->get("glns")) p.set("glns", JsonValue::Strings(SplitList(*v)));
  p.set("keys", keys);
  const std::string client_id = "register-" + *args->get("id");
  auto index = io.remote ? SubmitAsAuthorityRemote(*io.remote, *args->get("authority-key"),
                                                   "org.register", client_id, p)
                         : SubmitAsAuthority(**node, *args->get("authority-key"), "org.register",
                                             client_id, p);
  if (!index) return PrintError(io.err, index.error());
  std::optional<log::PrivateKey>& org_key = named->private_key;
  if (!io.remote && args->has("hold") && org_key) {
    if (auto held = (*node)->HoldKey(*args->get("id"), *org_key); !held)
      return PrintError(io.err, held.error());
  }
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object()
                          .set("kind", JsonValue("org.register"))
                          .set("id", JsonValue(*args->get("id")))
                          .set("index", JsonValue(static_cast<int64_t>(*index)))
                          .set("held", JsonValue(args->has("hold"))));
    return 0;
  }
  io.out << "org register: " << *args->get("id") << " recorded as ledger entry " << *index
         << (args->has("hold") ? "; this node holds its key" : "") << "\n";
  return 0;
}

}  // namespace

std::vector<Command> SupplyCommands() {
  std::vector<Command> commands;
  for (const ActionSpec& spec : Actions()) {
    commands.push_back({spec.name, spec.name + " --as ORG " + spec.usage + " [--key FILE] [--json]",
                        [&spec](const std::vector<std::string>& argv, CliIo& io) {
                          return RunAction(spec, argv, io);
                        },
                        ActionOptionsHelp(spec), spec.name + " --as acme " + spec.example});
  }
  commands.push_back({"org register",
                      "org register --authority-key FILE --id ID --name N --roles R,.. [--prefixes "
                      "P,..] [--glns G,..] "
                      "(--key FILE [--hold] | --public-key B64)",
                      OrgRegister,
                      "  --authority-key FILE\n"
                      "                 the consortium authority's private key, PEM (required)\n"
                      "  --id ID        the organisation's registry id (required)\n"
                      "  --name N       its legal name (required)\n"
                      "  --roles R,..   its roles (required): manufacturer, wholesaler, dispenser\n"
                      "                 (pharmacies), sponsor, site, regulator, witness, mirror\n"
                      "  --prefixes P,..\n"
                      "                 GS1 company prefixes it may commission under\n"
                      "  --glns G,..    its locations\n"
                      "  --key FILE     its signing key, PEM (or --public-key)\n"
                      "  --hold         this node keeps --key to sign for the organisation\n"
                      "  --public-key B64\n"
                      "                 its public key, when the node does not hold the key\n"
                      "  --valid-from T the key's start, RFC 3339 (default: now)\n" +
                          kDirHelp + kJsonHelp,
                      "org register --authority-key authority-key.pem --id acme --name \"Acme "
                      "Pharma\" --roles manufacturer --prefixes 9506000 --key acme.pem --hold"});
  commands.push_back(
      {"org key-add",
       "org key-add --authority-key FILE --id ID (--key FILE [--hold] | --public-key B64) "
       "[--valid-from T] [--valid-until T]",
       [](const std::vector<std::string>& a, CliIo& io) { return OrgKey(a, io, false); },
       "  --authority-key FILE\n"
       "                 the consortium authority's private key, PEM (required)\n"
       "  --id ID        the organisation (required)\n"
       "  --key FILE     the new key, PEM (or --public-key)\n"
       "  --hold         this node keeps --key to sign for the organisation\n"
       "  --public-key B64\n"
       "                 the new public key\n"
       "  --valid-from T the key's start, RFC 3339 (default: now)\n"
       "  --valid-until T\n"
       "                 the key's end (default: none)\n" +
           kDirHelp + kJsonHelp,
       "org key-add --authority-key authority-key.pem --id acme --key acme-2027.pem --hold"});
  commands.push_back(
      {"org key-revoke",
       "org key-revoke --authority-key FILE --id ID (--key FILE | --public-key B64) [--revoked-at "
       "T]",
       [](const std::vector<std::string>& a, CliIo& io) { return OrgKey(a, io, true); },
       "  --authority-key FILE\n"
       "                 the consortium authority's private key, PEM (required)\n"
       "  --id ID        the organisation (required)\n"
       "  --key FILE     the key to revoke, PEM (or --public-key)\n"
       "  --public-key B64\n"
       "                 the public key to revoke\n"
       "  --revoked-at T when it stops being valid, RFC 3339 (default: now)\n" +
           kDirHelp + kJsonHelp,
       "org key-revoke --authority-key authority-key.pem --id acme --public-key "
       "MCowBQYDK2VwAyEA..."});
  commands.push_back(
      {"org device-add",
       "org device-add --authority-key FILE --id ID --device URI (--public-key B64 | "
       "--public-key-file PEM) [--label TEXT]",
       [](const std::vector<std::string>& a, CliIo& io) { return OrgDevice(a, io, false); },
       "  --authority-key FILE\n"
       "                 the consortium authority's private key, PEM (required)\n"
       "  --id ID        the organisation that runs the logger (required)\n"
       "  --device URI   the logger's EPCIS deviceID, e.g. urn:epc:id:giai:9506000.L1 (required)\n"
       "  --public-key B64\n"
       "                 the logger's Ed25519 public key (or --public-key-file)\n"
       "  --public-key-file PEM\n"
       "                 the logger's public key as a PEM SubjectPublicKeyInfo\n"
       "  --label TEXT   a name for people (default: none)\n" +
           kDirHelp + kJsonHelp,
       "org device-add --authority-key authority-key.pem --id acme --device "
       "urn:epc:id:giai:9506000.L1 --public-key-file logger-l1.pub.pem --label \"reefer 7\""});
  commands.push_back(
      {"org device-revoke",
       "org device-revoke --authority-key FILE --id ID --device URI [--revoked-at T]",
       [](const std::vector<std::string>& a, CliIo& io) { return OrgDevice(a, io, true); },
       "  --authority-key FILE\n"
       "                 the consortium authority's private key, PEM (required)\n"
       "  --id ID        the organisation (required)\n"
       "  --device URI   the logger's deviceID (required)\n"
       "  --revoked-at T from when its signatures no longer count, RFC 3339 (default: now)\n" +
           kDirHelp + kJsonHelp,
       "org device-revoke --authority-key authority-key.pem --id acme --device "
       "urn:epc:id:giai:9506000.L1"});
  commands.push_back(
      {"verify",
       "verify --code CODE [--json]           verdict for a scanned code (exit 3: not verified)",
       Verify,
       "  --code CODE    the scanned code in any scanner form (required)\n"
       "  --as ORG       the asking organisation, for its custody hint (default: none)\n" +
           kDirHelp + kJsonHelp,
       "verify --code '(01)09506000134352(21)A1(10)L001(17)271231'"});
  commands.push_back({"alerts", "alerts [--org ORG] [--limit N] [--json]", Alerts,
                      "  --org ORG      only alerts about this organisation (default: all)\n"
                      "  --limit N      at most N alerts, newest first (default: 50)\n" +
                          kDirHelp + kJsonHelp,
                      "alerts --org acme --limit 10 --json"});
  commands.push_back({"history",
                      "history CODE [--json]                every event of a pack, case or pallet",
                      History,
                      "  CODE, --code CODE\n"
                      "                 the pack, case or pallet in any scanner form\n" +
                          kDirHelp + kJsonHelp,
                      "history '(00)095060001000000017'"});
  return commands;
}

}  // namespace pedigree::services
