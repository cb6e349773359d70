// Report commands: `report pack|container`, `bundle pack|container`, `verify-bundle` and
// `log check-index`. The report is always made
// as JSON by reports::VerifyPack; text and self-contained HTML are made from it.
// Exit codes: 0 VERIFIED, 3 SUSPECT, 4 FAILED (also a bundle that does not parse), 2 usage,
// 1 any other error (no ledger, unreadable file, unknown pack).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "cli_remote.h"
#include "cli_trust.h"
#include "pedigree/log/ledger.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/container_report.h"
#include "pedigree/reports/evidence_index.h"
#include "pedigree/reports/html.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::services {
namespace {

// 3 SUSPECT is returned by EmitReport (cli_common.h), which every report command shares.
constexpr int kExitFailed = 4;
constexpr int kExitUsage = 2;
// Reports and bundles read: they work beside a running `pedigree serve`.
const log::LedgerOptions kReadOnly{.read_only = true};

int Error(CliIo& io, const pedigree::Error& e) {
  PrintError(io.err, e);
  return e.code() == "cli.usage" ? kExitUsage : 1;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status WriteOutput(const std::optional<std::string>& path, const std::string& text, CliIo& io) {
  if (!path || *path == "-") {
    io.out << text;
    return Ok();
  }
  std::ofstream file(*path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Fail(pedigree::Error("cli.io", "cannot write " + *path).at_field("o"));
  return Ok();
}

Result<std::string> OnePositional(const Args& args, const char* what) {
  if (args.positionals().size() != 1) {
    return Fail(pedigree::Error("cli.usage", std::string("expected exactly one ") + what));
  }
  return args.positionals()[0];
}

// `pedigree report pack CODE [--format json|text|html] [-o FILE]`
int ReportPack(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "format", "o", "out", "policy"});
  if (!args) return Error(io, args.error());
  auto code = OnePositional(*args, "pack code (any scanner form)");
  if (!code) return Error(io, code.error());
  if (io.remote) {
    return RemoteReport(*io.remote, "/v1/reports/pack?code=" + QueryEncode(*code), *args, io);
  }
  auto l = log::Ledger::Open(args->dir(), kReadOnly);
  if (!l) return Error(io, l.error());
  auto evidence = reports::GatherPackEvidence(**l, *code);
  if (!evidence) return Error(io, evidence.error());
  auto anchors = reports::LedgerTrustAnchors(**l);
  if (!anchors) return Error(io, anchors.error());
  auto policy = PolicyOption(*args, io);
  if (!policy) return Error(io, policy.error());
  anchors->policy = *policy;
  return EmitReport(*args, reports::VerifyPack(*evidence, *anchors, Now()), io);
}

// `pedigree report container CODE [--format json|text|html] [-o FILE]`: a case or pallet.
int ReportContainer(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "format", "o", "out", "policy"});
  if (!args) return Error(io, args.error());
  auto code = OnePositional(*args, "SSCC (any scanner form)");
  if (!code) return Error(io, code.error());
  if (io.remote) {
    return RemoteReport(*io.remote, "/v1/reports/container?code=" + QueryEncode(*code), *args, io);
  }
  auto l = log::Ledger::Open(args->dir(), kReadOnly);
  if (!l) return Error(io, l.error());
  auto evidence = reports::GatherContainerEvidence(**l, *code);
  if (!evidence) return Error(io, evidence.error());
  auto anchors = reports::LedgerTrustAnchors(**l);
  if (!anchors) return Error(io, anchors.error());
  auto policy = PolicyOption(*args, io);
  if (!policy) return Error(io, policy.error());
  anchors->policy = *policy;
  return EmitReport(*args, reports::VerifyContainer(*evidence, *anchors, Now()), io);
}

// The bundle the node serves (GET /v1/bundles/pack|container), written as it came; the
// summary names the pack and counts the entries as a local bundle's does.
int RemoteBundle(const RemoteOptions& options, bool container, const std::string& code,
                 const std::string& out, CliIo& io) {
  auto client = RemoteClient::Make(options);
  if (!client) return Error(io, client.error());
  auto reply = client->Get(std::string(container ? "/v1/bundles/container" : "/v1/bundles/pack") +
                           "?code=" + QueryEncode(code));
  if (!reply) return Error(io, reply.error());
  auto bundle = ParseJson(reply->body);
  const JsonValue* pack = bundle ? bundle->find("pack") : nullptr;
  const JsonValue* entries = bundle ? bundle->find("entries") : nullptr;
  if (!pack || !pack->is_string() || !entries || !entries->is_array()) {
    return Error(io, pedigree::Error("client.bad_response", "the node's bundle for '" + code +
                                                                "' is not a pedigree bundle")
                         .at_field("server"));
  }
  if (auto ok = WriteOutput(out, reply->body, io); !ok) return Error(io, ok.error());
  auto summary = JsonValue::Object()
                     .set("bundle", out)
                     .set("pack", pack->as_string())
                     .set("entries", entries->as_array().size());
  if (out != "-") PrintJson(io.out, summary);
  return 0;
}

// `pedigree bundle pack|container CODE -o FILE`
int Bundle(const std::vector<std::string>& argv, CliIo& io, bool container) {
  auto args = Args::Parse(argv, 2, {"dir", "o", "out"}, {"json"});
  if (!args) return Error(io, args.error());
  auto code =
      OnePositional(*args, container ? "SSCC (any scanner form)" : "pack code (any scanner form)");
  if (!code) return Error(io, code.error());
  auto out = args->get("o") ? args->get("o") : args->get("out");
  if (!out) return Error(io, pedigree::Error("cli.usage", "missing -o FILE").at_field("o"));
  if (io.remote) return RemoteBundle(*io.remote, container, *code, *out, io);
  auto l = log::Ledger::Open(args->dir(), kReadOnly);
  if (!l) return Error(io, l.error());
  auto evidence = container ? reports::GatherContainerEvidence(**l, *code)
                            : reports::GatherPackEvidence(**l, *code);
  if (!evidence) return Error(io, evidence.error());
  if (auto ok = WriteOutput(out, reports::WriteBundle(*evidence), io); !ok) {
    return Error(io, ok.error());
  }
  auto summary = JsonValue::Object()
                     .set("bundle", *out)
                     .set("pack", evidence->pack)
                     .set("entries", evidence->entries.size());
  if (*out != "-") PrintJson(io.out, summary);
  return 0;
}

Result<std::string> ReadTrimmed(const std::string& path, CliIo& io) {
  PEDIGREE_ASSIGN(text, ReadInput(path, io.in));
  std::string t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

// An authority public key: a PEM "PUBLIC KEY" file, or a file or argument holding base64.
Result<log::PublicKey> AuthorityKey(const std::string& value, CliIo& io) {
  std::string text = value;
  if (std::filesystem::exists(value)) {
    PEDIGREE_ASSIGN(t, ReadTrimmed(value, io));
    text = *t;
  }
  if (text.find("BEGIN PUBLIC KEY") != std::string::npos) return log::PublicKey::FromPem(text);
  PEDIGREE_ASSIGN(raw, FromBase64(text));
  return log::PublicKey::FromRaw(*raw);
}

}  // namespace

Result<reports::TrustAnchors> TrustAnchorsOption(const Args& args, CliIo& io) {
  PEDIGREE_ASSIGN(policy, PolicyOption(args, io));
  // A policy naming one log stands in for --trust; with --trust, the key must be one of its
  // logs when it names any.
  std::optional<log::NoteVerifier> log;
  if (auto trust = args.get("trust")) {
    auto vkey = ResolveVerifierKey(*trust, "trust");
    if (!vkey) return Fail(vkey.error());
    auto parsed = log::NoteVerifier::Parse(*vkey);
    if (!parsed) return Fail(parsed.error().with_context("--trust " + *trust));
    log = *parsed;
  } else if (*policy && (*policy)->logs.size() == 1) {
    log = (*policy)->logs[0].key;
  } else {
    return Fail(pedigree::Error("cli.usage",
                                "missing --trust LOG_VKEY (or a --policy with "
                                "exactly one log line)")
                    .at_field("trust"));
  }
  if (*policy && !(*policy)->logs.empty() &&
      std::none_of((*policy)->logs.begin(), (*policy)->logs.end(),
                   [&](const log::PolicyLog& l) { return l.key.ToString() == log->ToString(); })) {
    return Fail(pedigree::Error("cli.usage", "the --trust key " + log->ToString() +
                                                 " is not one of the --policy file's logs")
                    .at_field("trust"));
  }
  reports::TrustAnchors anchors{*log, std::nullopt, {}, *policy};
  if (auto a = args.get("authority")) {
    auto key = AuthorityKey(*a, io);
    if (!key) return Fail(key.error().with_context("--authority"));
    anchors.authority = *key;
  }
  if (auto w = args.get("witness")) {
    std::stringstream list(*w);
    std::string path;
    while (std::getline(list, path, ',')) {
      auto text = ResolveVerifierKey(path, "witness");
      if (!text) return Fail(text.error());
      auto witness = log::NoteVerifier::Parse(*text);
      if (!witness) return Fail(witness.error().with_context("--witness " + path));
      anchors.witnesses.push_back(*witness);
    }
  }
  return anchors;
}

namespace {

// `pedigree verify-bundle FILE --trust LOG_VKEY_FILE [--authority PUB] [--witness VKEY_FILE,..]
// [--format text|json|html] [-o FILE]`
int VerifyBundle(const std::vector<std::string>& argv, CliIo& io) {
  auto args =
      Args::Parse(argv, 1, {"trust", "authority", "witness", "policy", "format", "o", "out"});
  if (!args) return Error(io, args.error());
  auto file = OnePositional(*args, "bundle file");
  if (!file) return Error(io, file.error());
  auto anchors = TrustAnchorsOption(*args, io);
  if (!anchors) return Error(io, anchors.error());
  auto bytes = ReadInput(*file, io.in);
  if (!bytes) return Error(io, bytes.error());
  auto evidence = reports::ReadBundle(*bytes);
  if (!evidence) {
    PrintError(io.err, evidence.error());
    return kExitFailed;
  }
  // A container's bundle names its SSCC's Digital Link URI as the subject.
  const bool container = evidence->pack.starts_with("https://id.gs1.org/00/");
  return EmitReport(*args,
                    container ? reports::VerifyContainer(*evidence, *anchors, Now())
                              : reports::VerifyPack(*evidence, *anchors, Now()),
                    io, "text");
}

// `pedigree log check-index FILE [--dir DIR]`: holds the evidence index signed in FILE (a bundle,
// or any JSON object with its members evidenceIndex and evidenceIndexSignature) against this
// ledger. Exit 0 when the index lists exactly the entries the log selects for its subject at its
// size, 4 when the log key signed a false index (omitted entries: the operator's misbehaviour,
// provable by this signed file), 1 on other errors (also a signature not by this log's key).
int LogCheckIndex(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir"}, {"json"});
  if (!args) return Error(io, args.error());
  auto file = OnePositional(*args, "file holding a signed evidence index (a bundle)");
  if (!file) return Error(io, file.error());
  auto bytes = ReadInput(*file, io.in);
  if (!bytes) return Error(io, bytes.error());
  auto json = ParseJson(*bytes, {.integers_only = true});
  if (!json || !json->is_object()) {
    return Error(io, pedigree::Error("bundle.json", *file + " is not a JSON object"));
  }
  const JsonValue* index = json->find("evidenceIndex");
  const JsonValue* signature = json->find("evidenceIndexSignature");
  if (!index || !index->is_string() || !signature || !signature->is_string()) {
    return Error(io, pedigree::Error("bundle.missing_field",
                                     *file + " holds no evidenceIndex and evidenceIndexSignature "
                                             "(a pedigree-bundle/v1 has none)")
                         .at_field("evidenceIndex"));
  }
  auto l = log::Ledger::Open(args->dir(), kReadOnly);
  if (!l) return Error(io, l.error());
  auto check = reports::CheckEvidenceIndex(**l, index->as_string(), signature->as_string());
  if (!check) return Error(io, check.error());
  auto list = [](const std::vector<uint64_t>& v) {
    auto a = JsonValue::Array();
    for (uint64_t i : v) a.push_back(i);
    return a;
  };
  PrintJson(io.out, JsonValue::Object()
                        .set("result", check->holds() ? "HOLDS" : "FALSE")
                        .set("subject", check->index.subject)
                        .set("origin", check->index.origin)
                        .set("size", check->index.size)
                        .set("listed", check->index.entries.size())
                        .set("omitted", list(check->omitted))
                        .set("unselected", list(check->unselected)));
  return check->holds() ? 0 : kExitFailed;
}

}  // namespace

std::vector<Command> ReportCommands() {
  return {
      {"report pack",
       "report pack CODE [--policy FILE] [--format json|text|html] [-o FILE]   (exit 0 "
       "VERIFIED, 3 SUSPECT, 4 FAILED)",
       ReportPack,
       "  CODE           the pack's code in any scanner form (GS1 element string, Digital Link)\n" +
           kPolicyHelp + kReportHelp + kDirHelp,
       "report pack '(01)09506000134352(21)A1' --format text"},
      {"report container",
       "report container SSCC [--policy FILE] [--format json|text|html] [-o FILE]   (a case or "
       "pallet; exit codes as report pack)",
       ReportContainer,
       "  SSCC           the case's or pallet's SSCC in any scanner form\n" + kPolicyHelp +
           kReportHelp + kDirHelp,
       "report container '(00)095060001000000017' --format html -o pallet.html"},
      {"bundle pack", "bundle pack CODE -o FILE   (offline bundle pedigree-bundle/v2)",
       [](const std::vector<std::string>& argv, CliIo& io) { return Bundle(argv, io, false); },
       "  CODE           the pack's code in any scanner form\n"
       "  -o FILE, --out FILE\n"
       "                 where to write the bundle (default: standard output)\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "bundle pack '(01)09506000134352(21)A1' -o a1.bundle.json"},
      {"bundle container", "bundle container SSCC -o FILE   (a case's or pallet's offline bundle)",
       [](const std::vector<std::string>& argv, CliIo& io) { return Bundle(argv, io, true); },
       "  SSCC           the case's or pallet's SSCC in any scanner form\n"
       "  -o FILE, --out FILE\n"
       "                 where to write the bundle (default: standard output)\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "bundle container '(00)095060001000000017' -o pallet.bundle.json"},
      {"verify-bundle",
       "verify-bundle FILE --trust LOG_VKEY [--policy FILE] [--authority PUB] [--witness "
       "VKEY,..] [--format text|json|html] [-o FILE]",
       VerifyBundle,
       "  FILE           the bundle (- for standard input)\n"
       "  --trust VKEY   the log's verifier key, or a file holding it (required unless the\n"
       "                 --policy file has exactly one log line)\n"
       "  --authority PUB\n"
       "                 the consortium authority's public key: PEM or base64, or a file\n"
       "  --witness VKEY,..\n"
       "                 witness verifier keys (or files) whose cosignatures must be present\n"
       "  --format F     text, json or html (default: text; --json: alias for --format json)\n"
       "  -o FILE, --out FILE\n"
       "                 write the report to FILE (default: standard output)\n" +
           kPolicyHelp,
       "verify-bundle a1.bundle.json --trust ledger/log.vkey"},
      {"log check-index",
       "log check-index FILE   hold a bundle's signed evidence index against this ledger (exit 0 "
       "it holds, 4 the log signed a false index)",
       LogCheckIndex,
       "  FILE           a bundle, or a JSON object with evidenceIndex and its signature\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "log check-index a1.bundle.json --dir ./ledger"},
  };
}

}  // namespace pedigree::services
