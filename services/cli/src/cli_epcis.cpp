// EPCIS 2.0 commands (docs/epcis.md): `epcis export` writes a pack's, case's or pallet's
// history as an EPCISDocument; `epcis hash` prints the Event Hash ID of each event of a
// document. Exit codes: 0 done, 2 usage, 1 any other error.
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "pedigree/http/api.h"
#include "pedigree/log/ledger.h"
#include "pedigree/scanner/epcis.h"

namespace pedigree::services {

namespace {

constexpr int kExitUsage = 2;

int Refuse(CliIo& io, const pedigree::Error& e) {
  PrintError(io.err, e);
  return e.code() == "cli.usage" ? kExitUsage : 1;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `pedigree epcis export CODE [-o FILE]`
int EpcisExport(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "o", "out"});
  if (!args) return Refuse(io, args.error());
  if (args->positionals().size() != 1) {
    return Refuse(io,
                  pedigree::Error("cli.usage", "expected exactly one pack, case or pallet code"));
  }
  auto l = log::Ledger::Open(args->dir());
  if (!l) return Refuse(io, l.error());
  auto doc = ExportEpcisHistory(**l, args->positionals()[0], Now());
  if (!doc) return Refuse(io, doc.error());
  std::string text = Canonicalize(*doc) + "\n";
  std::optional<std::string> out = args->get("o");
  if (!out) out = args->get("out");
  if (!out || *out == "-") {
    io.out << text;
    return 0;
  }
  std::ofstream file(*out, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return Refuse(io, pedigree::Error("cli.io", "cannot write " + *out).at_field("o"));
  return 0;
}

// `pedigree epcis hash FILE [--profile cbv2.0|epcis2.js] [--prehash]`
int EpcisHash(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"profile"}, {"prehash"});
  if (!args) return Refuse(io, args.error());
  if (args->positionals().size() != 1) {
    return Refuse(io, pedigree::Error("cli.usage", "expected one EPCIS document (- for stdin)"));
  }
  std::string profile = args->get("profile").value_or("cbv2.0");
  if (profile != "cbv2.0" && profile != "epcis2.js") {
    return Refuse(
        io, pedigree::Error("cli.usage", "--profile is cbv2.0 or epcis2.js, not '" + profile + "'")
                .at_field("profile"));
  }
  auto text = ReadInput(args->positionals()[0], io.in);
  if (!text) return Refuse(io, text.error());
  auto doc = ParseJson(*text);
  if (!doc) return Refuse(io, doc.error());
  scanner::epcis::HashOptions options = scanner::epcis::PedigreeHashOptions(
      profile == "epcis2.js" ? scanner::epcis::HashProfile::kEpcis2Js
                             : scanner::epcis::HashProfile::kCbv20);
  for (auto& p : scanner::epcis::ContextPrefixes(*doc)) options.context.push_back(p);
  // A document, or a single event.
  std::vector<const JsonValue*> events;
  const JsonValue* body = doc->find("epcisBody");
  const JsonValue* list = body != nullptr ? body->find("eventList") : nullptr;
  if (list != nullptr && list->is_array()) {
    for (const JsonValue& e : list->as_array()) events.push_back(&e);
  } else {
    events.push_back(&*doc);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    auto pre = scanner::epcis::EventPreHash(*events[i], options);
    if (!pre) {
      pedigree::Error e = pre.error();
      return Refuse(io, e.at_field("/epcisBody/eventList/" + std::to_string(i) + e.field()));
    }
    io.out << (args->has("prehash") ? *pre : scanner::epcis::HashIdOfPreHash(*pre)) << "\n";
  }
  return 0;
}

}  // namespace

std::vector<Command> EpcisCommands() {
  return {
      {"epcis export",
       "epcis export CODE [-o FILE]   (a pack's, case's or pallet's history as an EPCIS 2.0 "
       "JSON-LD document)",
       EpcisExport,
       "  CODE           the pack's code or the case's or pallet's SSCC, in any scanner form\n"
       "  -o FILE, --out FILE\n"
       "                 where to write the document (default: standard output)\n" +
           kDirHelp,
       "epcis export '(01)09506000134352(21)A1' -o a1.epcis.jsonld"},
      {"epcis hash",
       "epcis hash FILE [--profile cbv2.0|epcis2.js] [--prehash]   (the Event Hash ID of each "
       "event, one per line)",
       EpcisHash,
       "  FILE           an EPCIS 2.0 JSON-LD document or one event (- for standard input)\n"
       "  --profile P    cbv2.0 (default; the CBV 2.0 standard) or epcis2.js (the order of\n"
       "                 the epcis2.js 2.7.3 library, for comparing with it)\n"
       "  --prehash      print the canonical pre-hash strings instead of the hashes\n",
       "epcis hash a1.epcis.jsonld"},
  };
}

}  // namespace pedigree::services
