// EPCIS 2.0 commands (docs/epcis.md): `epcis export` writes a pack's, case's or pallet's
// history as an EPCISDocument; `epcis hash` prints the Event Hash ID of each event of a
// document. Exit codes: 0 done, 2 usage, 1 any other error.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/http/api.h"
#include "pedigree/log/ledger.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/supply_node.h"

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

// An EPCIS document file as the EPCIS 2.0 JSON-LD document: XML (2.0 or 1.2, detected by its
// first character '<') through ParseEpcisXml, JSON as it is. `xml` receives the XML's element
// map, so that later errors name the XML line.
Result<JsonValue> ReadDocument(const std::string& text,
                               std::optional<scanner::epcis::XmlDocument>& xml) {
  if (scanner::epcis::LooksLikeXml(text)) {
    PEDIGREE_ASSIGN(parsed, scanner::epcis::ParseEpcisXml(text));
    JsonValue doc = parsed->document;
    xml = std::move(*parsed);
    return doc;
  }
  return ParseJson(text);
}

pedigree::Error Located(const std::optional<scanner::epcis::XmlDocument>& xml,
                        const pedigree::Error& e) {
  return xml ? xml->Locate(e) : e;
}

// `pedigree epcis export CODE [-o FILE] [--format json|xml]`
int EpcisExport(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "o", "out", "format"});
  if (!args) return Refuse(io, args.error());
  if (args->positionals().size() != 1) {
    return Refuse(io,
                  pedigree::Error("cli.usage", "expected exactly one pack, case or pallet code"));
  }
  const std::string format = args->get("format").value_or("json");
  if (format != "json" && format != "xml") {
    return Refuse(io, pedigree::Error("cli.usage", "--format is json or xml, not '" + format + "'")
                          .at_field("format"));
  }
  Result<JsonValue> doc = Fail("cli.internal", "no document");
  if (io.remote) {
    // GET /v1/epcis/events?epc=CODE: the node's ExportEpcisHistory, whole (that query is not
    // paged). Fetched as JSON-LD and written here as the local command writes it, so the XML
    // binding comes from the same converter either way.
    auto client = RemoteClient::Make(*io.remote);
    if (!client) return Refuse(io, client.error());
    auto reply = client->Get("/v1/epcis/events?epc=" + QueryEncode(args->positionals()[0]));
    if (!reply) return Refuse(io, reply.error());
    doc = ParseJson(reply->body);
    const JsonValue* type = doc ? doc->find("type") : nullptr;
    if (!type || !type->is_string() || type->as_string() != "EPCISDocument") {
      return Refuse(io, pedigree::Error("client.bad_response", "the node's answer for '" +
                                                                   args->positionals()[0] +
                                                                   "' is not an EPCISDocument")
                            .at_field("server"));
    }
  } else {
    // A read: it works beside a running `pedigree serve`, as the other local reads do.
    auto l = log::Ledger::Open(args->dir(), {.read_only = true});
    if (!l) return Refuse(io, l.error());
    doc = ExportEpcisHistory(**l, args->positionals()[0], Now());
    if (!doc) return Refuse(io, doc.error());
  }
  std::string text;
  if (format == "xml") {
    auto xml = scanner::epcis::DocumentToXml(*doc);
    if (!xml) return Refuse(io, xml.error());
    text = std::move(*xml);
  } else {
    text = Canonicalize(*doc) + "\n";
  }
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
  std::optional<scanner::epcis::XmlDocument> xml;
  auto doc = ReadDocument(*text, xml);
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
      return Refuse(
          io, Located(xml, e.at_field("/epcisBody/eventList/" + std::to_string(i) + e.field())));
    }
    io.out << (args->has("prehash") ? *pre : scanner::epcis::HashIdOfPreHash(*pre)) << "\n";
  }
  return 0;
}

// Every event of `doc` (or `doc` as one event) mapped to its pedigree payload, as `epcis
// capture` maps them before anything is signed: the first that does not map is the error,
// located in the XML when the document was XML.
Result<std::vector<scanner::epcis::ImportedEvent>> MapDocument(
    const JsonValue& doc, const std::optional<scanner::epcis::XmlDocument>& xml,
    const scanner::epcis::GlnOwner& owner) {
  scanner::epcis::HashOptions options = scanner::epcis::PedigreeHashOptions();
  for (auto& p : scanner::epcis::ContextPrefixes(doc)) options.context.push_back(p);
  std::vector<scanner::epcis::ImportedEvent> imported;
  const JsonValue* body = doc.find("epcisBody");
  const JsonValue* list = body != nullptr ? body->find("eventList") : nullptr;
  if (list != nullptr && list->is_array()) {
    for (size_t i = 0; i < list->as_array().size(); ++i) {
      auto one = scanner::epcis::ImportEvent(list->as_array()[i], options,
                                             "/epcisBody/eventList/" + std::to_string(i), owner);
      if (!one) return Fail(Located(xml, one.error()));
      imported.push_back(std::move(*one));
    }
  } else {
    PEDIGREE_ASSIGN(one, scanner::epcis::ImportEvent(doc, options, "", owner));
    imported.push_back(std::move(*one));
  }
  return imported;
}

// One event's line of the output: {eventID, index, kind, duplicate?}. `duplicate`: the event
// was on the ledger already (or earlier in the document) and appended nothing.
JsonValue EventResult(const scanner::epcis::ImportedEvent& e, uint64_t index, bool duplicate) {
  JsonValue out = JsonValue::Object()
                      .set("eventID", e.event_id)
                      .set("index", static_cast<int64_t>(index))
                      .set("kind", *e.payload.find("kind"));
  if (duplicate) out.set("duplicate", true);
  return out;
}

// A submission: the event's index and the log's size before it was submitted (an index below
// it is a replay).
struct Submitted {
  uint64_t index = 0;
  uint64_t size_before = 0;
};

// --error-behaviour proceed: submits the mapped events in order through `submit` (local or
// remote) and prints {"events": [{eventID, index, kind}…]}; at the first refusal, prints the
// events appended so far and refuses naming the event (those before it stay written).
int SubmitInOrder(std::vector<scanner::epcis::ImportedEvent>& imported, CliIo& io,
                  const std::function<Result<Submitted>(JsonValue& payload)>& submit) {
  JsonValue results = JsonValue::Array();
  for (auto& e : imported) {
    auto index = submit(e.payload);
    if (!index) {
      PrintJson(io.out, JsonValue::Object().set("events", std::move(results)));
      return Refuse(io, index.error().with_context("event " + e.event_id));
    }
    results.push_back(EventResult(e, index->index, index->index < index->size_before));
  }
  PrintJson(io.out, JsonValue::Object().set("events", std::move(results)));
  return 0;
}

// --error-behaviour rollback: `results` of one all-or-nothing submission of `imported`
// (SupplyNode::SubmitGroup*, POST /v1/events/batch). Prints every event's line when all were
// appended (or were replays); else refuses with the refused event's error, naming it and its
// place in the document, and prints nothing: nothing of the document was written.
int PrintGroup(const std::vector<scanner::epcis::ImportedEvent>& imported,
               const std::vector<Result<uint64_t>>& results, uint64_t size_before,
               const std::optional<scanner::epcis::XmlDocument>& xml, CliIo& io) {
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i] || results[i].error().code() == "sequencer.group_aborted") continue;
    const Error& e = results[i].error();
    const std::string pointer = "/epcisBody/eventList/" + std::to_string(i);
    Error at = Error(e).at_field(pointer + (e.field().empty() ? "" : "/" + e.field()));
    return Refuse(io, Located(xml, at).with_context("event " + std::to_string(i) + " (" +
                                                    imported[i].event_id +
                                                    "); nothing of the document was written"));
  }
  JsonValue out = JsonValue::Array();
  std::set<uint64_t> seen;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i]) return Refuse(io, results[i].error());
    out.push_back(EventResult(imported[i], *results[i],
                              *results[i] < size_before || !seen.insert(*results[i]).second));
  }
  PrintJson(io.out, JsonValue::Object().set("events", std::move(out)));
  return 0;
}

// Party GLNs resolved by the node's registry through GET /v1/glns/{gln}, each asked once: a
// GLN nobody registered (404 registry.gln_not_found) is no organisation, as locally.
scanner::epcis::GlnOwner RemoteGlnOwner(const RemoteClient& client) {
  auto cache = std::make_shared<std::map<std::string, std::optional<std::string>>>();
  return [&client, cache](std::string_view gln) -> Result<std::optional<std::string>> {
    const std::string key(gln);
    if (auto it = cache->find(key); it != cache->end()) return it->second;
    auto answer = client.GetJson("/v1/glns/" + QueryEncode(key));
    std::optional<std::string> org;
    if (answer) {
      const JsonValue* id = answer->find("org");
      if (id == nullptr || !id->is_string()) {
        return Fail(Error("client.bad_response",
                          "the node's answer for GLN " + key + " names no organisation")
                        .at_field("server"));
      }
      org = id->as_string();
    } else if (answer.error().code() != "registry.gln_not_found") {
      return Fail(answer.error());
    }
    cache->emplace(key, org);
    return org;
  };
}

// `epcis capture` with --server: mapped here exactly as locally (party GLNs resolved by the
// node's registry, GET /v1/glns/{gln}), each payload signed with the organisation's --key.
// Rollback: the envelopes posted together to POST /v1/events/batch, appended all or nothing;
// proceed: each posted to POST /v1/events (SubmitRemote). The same output as locally.
int RemoteCapture(const RemoteOptions& options, const JsonValue& doc,
                  const std::optional<scanner::epcis::XmlDocument>& xml, const std::string& org,
                  const std::string& key_path, bool rollback, CliIo& io) {
  auto client = RemoteClient::Make(options);
  if (!client) return Refuse(io, client.error());
  auto imported = MapDocument(doc, xml, RemoteGlnOwner(*client));
  if (!imported) return Refuse(io, imported.error());
  if (!rollback) {
    return SubmitInOrder(*imported, io, [&](JsonValue& payload) -> Result<Submitted> {
      // POST /v1/events answers a replay's first index without saying it is one: the line
      // has no `duplicate` here.
      PEDIGREE_ASSIGN(index, SubmitRemote(*client, payload, org, key_path));
      return Submitted{*index, 0};
    });
  }
  auto key = log::PrivateKey::LoadPem(key_path);
  if (!key) return Refuse(io, key.error());
  auto origin = client->Origin();
  if (!origin) return Refuse(io, origin.error());
  JsonValue envelopes = JsonValue::Array();
  for (auto& e : *imported) {
    auto envelope = SignCommand(e.payload, org, *key, Now(), "cli-", *origin);
    if (!envelope) return Refuse(io, envelope.error().with_context("event " + e.event_id));
    auto parsed = ParseJson(*envelope, {.integers_only = true});
    if (!parsed) return Refuse(io, parsed.error());
    envelopes.push_back(std::move(*parsed));
  }
  auto answer = client->PostJson("/v1/events/batch",
                                 Canonicalize(JsonValue::Object().set("envelopes", envelopes)));
  if (!answer) {
    // The node names the refused envelope (/envelopes/{i}): name the event as locally.
    Error e = answer.error();
    const std::string prefix = "envelopes/";
    if (e.field().starts_with(prefix)) {
      size_t i = std::strtoull(e.field().c_str() + prefix.size(), nullptr, 10);
      if (i < imported->size()) {
        return Refuse(
            io,
            Located(xml, Error(e).at_field("/epcisBody/eventList/" + std::to_string(i)))
                .with_context("event " + std::to_string(i) + " (" + (*imported)[i].event_id + ")"));
      }
    }
    return Refuse(io, e);
  }
  const JsonValue* results = answer->find("results");
  if (results == nullptr || !results->is_array() || results->size() != imported->size()) {
    return Refuse(io, Error("client.bad_response",
                            "the node's answer to POST /v1/events/batch has no result per event")
                          .at_field("server"));
  }
  JsonValue out = JsonValue::Array();
  for (size_t i = 0; i < imported->size(); ++i) {
    const JsonValue& r = results->as_array()[i];
    const JsonValue* index = r.find("index");
    const JsonValue* duplicate = r.find("duplicate");
    if (index == nullptr || !index->is_int() || index->as_int() < 0) {
      return Refuse(io, Error("client.bad_response",
                              "the node's answer to POST /v1/events/batch has no index for "
                              "envelope " +
                                  std::to_string(i))
                            .at_field("server"));
    }
    out.push_back(
        EventResult((*imported)[i], static_cast<uint64_t>(index->as_int()),
                    duplicate != nullptr && duplicate->is_bool() && duplicate->as_bool()));
  }
  PrintJson(io.out, JsonValue::Object().set("events", std::move(out)));
  return 0;
}

// `pedigree epcis capture FILE --as ORG [--key FILE] [--error-behaviour rollback|proceed]`:
// every event of the document (or the one event) mapped first, nothing written when one is
// malformed or unsupported; then signed (with --key, else with the key this node holds for
// ORG) and appended: with rollback (the default, as POST /v1/epcis/capture) all in one ledger
// transaction, so that a refusal by the rules of any event writes nothing of the document;
// with proceed one by one, stopping at the first refusal.
int EpcisCapture(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "as", "key", "error-behaviour"});
  if (!args) return Refuse(io, args.error());
  if (args->positionals().size() != 1) {
    return Refuse(io, pedigree::Error("cli.usage", "expected one EPCIS document (- for stdin)"));
  }
  const std::string behaviour = args->get("error-behaviour").value_or("rollback");
  if (behaviour != "rollback" && behaviour != "proceed") {
    return Refuse(io, pedigree::Error("cli.usage",
                                      "--error-behaviour is rollback or proceed, "
                                      "not '" +
                                          behaviour + "'")
                          .at_field("error-behaviour"));
  }
  const bool rollback = behaviour == "rollback";
  auto org = args->required("as");
  if (!org) return Refuse(io, org.error());
  auto text = ReadInput(args->positionals()[0], io.in);
  if (!text) return Refuse(io, text.error());
  std::optional<scanner::epcis::XmlDocument> xml;
  auto doc = ReadDocument(*text, xml);
  if (!doc) return Refuse(io, doc.error());
  if (io.remote) {
    if (!args->get("key")) return Refuse(io, RemoteKeyRequired("epcis capture"));
    return RemoteCapture(*io.remote, *doc, xml, *org, *args->get("key"), rollback, io);
  }
  auto node = SupplyNode::Open(args->dir());
  if (!node) return Refuse(io, node.error());
  // Party GLNs of shipping and receiving events, resolved through the node's registry.
  const scanner::epcis::GlnOwner owner =
      [&node](std::string_view gln) -> Result<std::optional<std::string>> {
    return (*node)->Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
  };
  auto mapped = MapDocument(*doc, xml, owner);
  if (!mapped) return Refuse(io, mapped.error());
  std::vector<scanner::epcis::ImportedEvent>& imported = *mapped;
  std::optional<log::PrivateKey> key;
  if (auto key_path = args->get("key")) {
    auto loaded = log::PrivateKey::LoadPem(*key_path);
    if (!loaded) return Refuse(io, loaded.error());
    key = std::move(*loaded);
  }
  if (rollback) {
    const uint64_t size_before = (*node)->ledger().size();
    std::vector<Result<uint64_t>> results;
    if (!key) {
      std::vector<JsonValue> payloads;
      payloads.reserve(imported.size());
      for (const auto& e : imported) payloads.push_back(e.payload);
      results = (*node)->SubmitGroupAs(*org, std::move(payloads));
    } else {
      std::vector<std::string> envelopes;
      envelopes.reserve(imported.size());
      for (auto& e : imported) {
        auto envelope =
            SignCommand(e.payload, *org, *key, (*node)->Now(), "cli-", (*node)->ledger().origin());
        if (!envelope) return Refuse(io, envelope.error().with_context("event " + e.event_id));
        envelopes.push_back(std::move(*envelope));
      }
      results = (*node)->SubmitGroup(std::move(envelopes));
    }
    return PrintGroup(imported, results, size_before, xml, io);
  }
  return SubmitInOrder(imported, io, [&](JsonValue& payload) -> Result<Submitted> {
    const uint64_t size_before = (*node)->ledger().size();
    if (!key) {
      PEDIGREE_ASSIGN(index, (*node)->SubmitAs(*org, payload));
      return Submitted{*index, size_before};
    }
    PEDIGREE_ASSIGN(envelope, SignCommand(payload, *org, *key, (*node)->Now(), "cli-",
                                          (*node)->ledger().origin()));
    PEDIGREE_ASSIGN(index, (*node)->Submit(std::move(*envelope)));
    return Submitted{*index, size_before};
  });
}

}  // namespace

std::vector<Command> EpcisCommands() {
  return {
      {"epcis export",
       "epcis export CODE [-o FILE] [--format json|xml]   (a pack's, case's or pallet's history "
       "as an EPCIS 2.0 JSON-LD or XML document)",
       EpcisExport,
       "  CODE           the pack's code or the case's or pallet's SSCC, in any scanner form\n"
       "  --format F     json (EPCIS 2.0 JSON-LD, the default) or xml (the EPCIS 2.0 XML binding)\n"
       "  -o FILE, --out FILE\n"
       "                 where to write the document (default: standard output)\n" +
           kDirHelp,
       "epcis export '(01)09506000134352(21)A1' -o a1.epcis.jsonld"},
      {"epcis capture",
       "epcis capture FILE --as ORG [--key FILE] [--error-behaviour rollback|proceed]   (EPCIS "
       "2.0 JSON or XML or 1.2 XML events as signed pedigree events; a re-sent event appends "
       "nothing)",
       EpcisCapture,
       "  FILE           an EPCIS 2.0 JSON-LD document or one event, or an EPCIS 2.0 or 1.2 XML\n"
       "                 EPCISDocument (detected by its first character '<'; - for standard "
       "input)\n"
       "  --as ORG       the organisation recording the events\n"
       "  --key FILE     sign with this PEM key (default: the key this node holds for ORG)\n"
       "  --error-behaviour B\n"
       "                 rollback (default): the document all or nothing, one refused event\n"
       "                 writes none of it; proceed: event by event, stopping at the first\n"
       "                 refused one (those before it stay written)\n" +
           kDirHelp,
       "epcis capture shipment.jsonld --as alpha-pharma"},
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
