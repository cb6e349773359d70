// `pedigree trial …`: the clinical-trial workflow on an embedded ledger. Events are signed
// with the acting organisation's key held by this node (`--as ORG`) and carry the Part 11
// manifestation (`--name "Printed Name" --meaning authorship|review|approval|responsibility`).
// Records and salts live in the sponsor store (`--store FILE`, default DIR/sponsor-store.sqlite).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli_common.h"
#include "cli_remote.h"
#include "cli_trial_receipt.h"
#include "cli_trust.h"
#include "pedigree/base/printable.h"
#include "pedigree/base/time.h"
#include "pedigree/demo/trial_sample.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/note.h"
#include "pedigree/reports/trial_report.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

// Everything a trial command needs: parsed options, the node, the store and the signer.
struct TrialContext {
  Args args;
  std::unique_ptr<SupplyNode> node;
  std::unique_ptr<SponsorStore> store;
  TrialSigner signer;
  std::string trial;
  // Set with --server: the node is remote, nothing is opened here, and events are signed
  // here with --key (SubmitEvent).
  std::optional<RemoteClient> remote;

  TrialWorkflow workflow() { return TrialWorkflow(*node, store.get()); }
};

// What a command does with the sponsor store: a command that only reads it never creates
// one (a missing store is trial.store_not_found naming the file looked for).
enum class StoreUse { kNone, kRead, kWrite };

// The sponsor store's path: --store FILE, else DIR/sponsor-store.sqlite when it exists, else
// the node's PostgreSQL database when DIR/storage names one (`pedigree migrate` moves the
// store there with the ledger and sets the file aside), else DIR/sponsor-store.sqlite.
std::string StorePath(const Args& args) {
  if (auto store = args.get("store")) return *store;
  const std::filesystem::path file = std::filesystem::path(args.dir()) / "sponsor-store.sqlite";
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) return file.string();
  std::ifstream recorded(std::filesystem::path(args.dir()) / "storage");
  std::string url;
  if (recorded && std::getline(recorded, url) && !url.empty()) return url;
  return file.string();
}

// Opens what `store` asks for; `signed_command` requires --as, --name and --meaning.
Result<TrialContext> OpenContext(const std::vector<std::string>& argv, size_t words,
                                 std::set<std::string> options, bool signed_command,
                                 StoreUse store_use, std::set<std::string> flags = {},
                                 const CliIo* remote_io = nullptr) {
  const bool remote = remote_io && remote_io->remote;
  // The commands whose event the client builds alone take --key FILE: they sign here, with
  // the organisation's own key (required remotely).
  const bool signs_here = signed_command && options.count("key");
  options.insert({"dir", "trial", "store"});
  if (signed_command) options.insert({"as", "name", "meaning"});
  flags.insert("json");
  PEDIGREE_ASSIGN(args, Args::Parse(argv, words, options, flags));
  TrialContext c{std::move(*args), nullptr, nullptr, {}, {}, std::nullopt};
  PEDIGREE_ASSIGN(trial, c.args.required("trial"));
  c.trial = *trial;
  if (signed_command) {
    PEDIGREE_ASSIGN(org, c.args.required("as"));
    PEDIGREE_ASSIGN(name, c.args.required("name"));
    PEDIGREE_ASSIGN(meaning, c.args.required("meaning"));
    c.signer = TrialSigner{*org, *name, *meaning};
  }
  // Only commands that handle c.remote pass `remote_io` (and only those WorksRemotely
  // names reach here with --server). A signed command without --key then goes to the node's
  // route, which signs with the key it holds for the token's organisation.
  if (remote) {
    if (signs_here && !c.args.get("key")) {
      std::string command = argv[0];
      for (size_t i = 1; i < words && i < argv.size(); ++i) command += " " + argv[i];
      return Fail(RemoteKeyRequired(command));
    }
    // The node's own sponsor store is the one read and written.
    if (c.args.get("store")) {
      return Fail(Error("cli.usage",
                        "--store names a local sponsor store; with --server the node uses its "
                        "own (drop --store)")
                      .at_field("store"));
    }
    PEDIGREE_ASSIGN(client, RemoteClient::Make(*remote_io->remote));
    c.remote = std::move(*client);
    return c;
  }
  // Commands that sign nothing only read the ledger: they work beside a running serve.
  // A read for another organisation (--for) appends its access record.
  const bool appends = signed_command || c.args.get("for").has_value();
  PEDIGREE_ASSIGN(
      node, appends ? SupplyNode::Open(c.args.dir()) : SupplyNode::OpenReadOnly(c.args.dir()));
  c.node = std::move(*node);
  if (store_use != StoreUse::kNone) {
    const std::string path = StorePath(c.args);
    PEDIGREE_ASSIGN(store, store_use == StoreUse::kWrite ? SponsorStore::Open(path)
                                                         : SponsorStore::OpenExisting(path));
    c.store = std::move(*store);
    // A submission a crash left staged is settled against the ledger before any write
    // (docs/trials.md, "Crash recovery"); reads leave the store as it is.
    if (store_use == StoreUse::kWrite) PEDIGREE_TRY(c.workflow().Reconcile());
  }
  return c;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error("io.read", "cannot read " + path).at_field("file"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// {"primary":[..],"secondary":[..]} from a file.
Result<std::pair<std::vector<std::string>, std::vector<std::string>>> ReadOutcomes(
    const std::string& path) {
  PEDIGREE_ASSIGN(text, ReadFile(path));
  auto json = ParseJson(*text);
  if (!json) return std::unexpected(json.error().with_context(path));
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  for (auto [member, list] : {std::pair{"primary", &out.first}, {"secondary", &out.second}}) {
    const JsonValue* items = json->is_object() ? json->find(member) : nullptr;
    if (!items || !items->is_array()) {
      return Fail(Error("trial.bad_outcomes", path + ": needs a '" + member + "' array of texts")
                      .at_field(member));
    }
    for (const JsonValue& item : items->as_array()) {
      if (!item.is_string()) {
        return Fail(Error("trial.bad_outcomes", path + ": every outcome must be a string")
                        .at_field(member));
      }
      list->push_back(item.as_string());
    }
  }
  return out;
}

int Recorded(CliIo& io, const TrialContext& c, const std::string& what, uint64_t index) {
  if (c.args.has("json")) {
    PrintJson(io.out, JsonValue::Object().set("index", JsonValue(static_cast<int64_t>(index))));
  } else {
    io.out << what << ": recorded as ledger entry " << index << "\n";
  }
  return 0;
}

// An event built with TrialWorkflow's builders: remotely signed with --key and posted as any
// other remote write; locally signed with --key when given (the node only sequences, as for
// supply actions), else with the key this node holds for the organisation.
Result<uint64_t> SubmitBuilt(TrialContext& c, JsonValue event) {
  const std::optional<std::string> key_path = c.args.get("key");
  if (c.remote) return SubmitRemote(*c.remote, event, c.signer.org, *key_path);
  if (!key_path) return c.node->SubmitAs(c.signer.org, std::move(event));
  PEDIGREE_ASSIGN(key, log::PrivateKey::LoadPem(*key_path));
  PEDIGREE_ASSIGN(envelope, SignCommand(event, c.signer.org, *key, c.node->Now(), "cli-",
                                        c.node->ledger().origin()));
  return c.node->Submit(std::move(*envelope));
}

// A ledger-only event: kind, trialId and the signature manifestation set as the node sets them.
Result<uint64_t> SubmitEvent(TrialContext& c, std::string_view kind, JsonValue payload) {
  return SubmitBuilt(c, TrialWorkflow::EventPayload(c.signer, kind, c.trial, std::move(payload)));
}

// "/v1/trials/{id}" + `rest`: the remote trial's routes (docs/api.md, "Clinical trials").
std::string TrialTarget(const TrialContext& c, const std::string& rest) {
  return "/v1/trials/" + QueryEncode(c.trial) + rest;
}

// The store-side actions (submit, seal, redact, honour-withdrawals) change the node's sponsor
// store, so the node signs their events with the key it holds for the token's organisation
// (node-held-key mode): it cannot act for another, and --as must name that organisation
// (GET /v1/session says which it is) rather than be silently replaced by it.
Status RequireTokenOrg(const TrialContext& c, const std::string& command) {
  PEDIGREE_ASSIGN(session, c.remote->GetJson("/v1/session"));
  const JsonValue* org = session->find("org");
  if (!org || !org->is_string()) {
    return Fail(Error("client.bad_response", "the node's answer to GET /v1/session names no org")
                    .at_field("server"));
  }
  if (org->as_string() != c.signer.org) {
    return Fail(Error("cli.usage", "--as " + c.signer.org + ": with --server, " + command +
                                       " is signed by the node with the key it holds for the "
                                       "token's organisation, " +
                                       org->as_string() + "; give " + c.signer.org +
                                       "'s token, or --as " + org->as_string())
                    .at_field("as"));
  }
  return Ok();
}

// The body member `signature` a node-signed route takes: the Part 11 manifestation; the
// signing organisation is the token's (RequireTokenOrg).
JsonValue SignatureMember(const TrialSigner& signer) {
  return JsonValue::Object()
      .set("name", JsonValue(signer.name))
      .set("meaning", JsonValue(signer.meaning));
}

// The media type POST …/submissions and …/verify take for the dataset file at `path`,
// decided as ParseTrialFile decides the format: by extension, else by content (an object
// on line 1 followed by a line starting with '[' is NDJSON, another object JSON, anything
// else CSV). The node parses the bytes; the client does not.
std::string DatasetMediaType(const std::string& path, std::string_view bytes) {
  std::string extension = std::filesystem::path(path).extension().string();
  for (char& ch : extension) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (extension == ".json") return "application/json";
  if (extension == ".ndjson" || extension == ".jsonl") return "application/x-ndjson";
  if (extension == ".csv") return "text/csv";
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || bytes[first] != '{') return "text/csv";
  const size_t newline = bytes.find('\n', first);
  const size_t next = newline == std::string_view::npos
                          ? std::string_view::npos
                          : bytes.find_first_not_of(" \t\r", newline + 1);
  if (next != std::string_view::npos && bytes[next] == '[') return "application/x-ndjson";
  return "application/json";
}

// --subjects F: USUBJID,subjectRef per line, the site's salted references as enrolled.
Result<std::map<std::string, std::string>> ReadSubjects(const std::string& path) {
  PEDIGREE_ASSIGN(text, ReadFile(path));
  std::map<std::string, std::string> refs;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t comma = line.find(',');
    if (line.empty()) continue;
    if (comma == std::string::npos) {
      return Fail(Error("cli.usage", "--subjects: line '" + line + "' is not USUBJID,subjectRef")
                      .at_field("subjects"));
    }
    refs[line.substr(0, comma)] = line.substr(comma + 1);
  }
  return refs;
}

// The node's answer member `name` as an integer (0 when absent: the counts printed).
int64_t IntMember(const JsonValue& answer, const char* name) {
  const JsonValue* v = answer.find(name);
  return v && v->is_int() ? v->as_int() : 0;
}

void PrintSubmitted(CliIo& io, const std::string& domain, const std::vector<uint64_t>& indices,
                    int64_t submitted, int64_t replaced, int64_t unchanged) {
  io.out << Printable(domain) << ": " << submitted << " records submitted (" << replaced
         << " replacing earlier ones, " << unchanged << " unchanged) in " << indices.size()
         << " ledger entr" << (indices.size() == 1 ? "y" : "ies");
  if (!indices.empty()) io.out << " from " << indices.front();
  io.out << "\n";
}

// `trial submit --server`: POST /v1/trials/{id}/submissions with the file as its body (the
// node parses it), or, with --subjects, the submission envelope {subjects, contentType,
// data}; the node writes its sponsor store and signs for the token's organisation.
int RemoteSubmit(TrialContext& c, const std::string& file, CliIo& io) {
  if (auto ok = RequireTokenOrg(c, "trial submit"); !ok) return PrintError(io.err, ok.error());
  auto bytes = ReadFile(file);
  if (!bytes) return PrintError(io.err, bytes.error().at_field("file"));
  std::string type = DatasetMediaType(file, *bytes);
  std::string body;
  if (auto subjects_file = c.args.get("subjects")) {
    auto refs = ReadSubjects(*subjects_file);
    if (!refs) return PrintError(io.err, refs.error());
    auto subjects = JsonValue::Object();
    for (const auto& [usubjid, ref] : *refs) subjects.set(usubjid, JsonValue(ref));
    body = Canonicalize(JsonValue::Object()
                            .set("subjects", std::move(subjects))
                            .set("contentType", JsonValue(type))
                            .set("data", JsonValue(std::move(*bytes))));
    type = "application/vnd.pedigree.submission+json";
  } else {
    body = std::move(*bytes);
  }
  std::string target = TrialTarget(c, "/submissions?signatureName=" + QueryEncode(c.signer.name) +
                                          "&signatureMeaning=" + QueryEncode(c.signer.meaning));
  for (const char* name : {"domain", "reason"}) {
    if (auto value = c.args.get(name); value && !value->empty())
      target += std::string("&") + name + "=" + QueryEncode(*value);
  }
  Progress progress(io.err, io.progress, "trial submit: sending " + file + " to the node");
  std::optional<ProgressTicker> ticker(std::in_place, progress);
  auto answer = c.remote->PostJson(target, body, type);
  ticker.reset();
  progress.Finish();
  if (!answer) return PrintError(io.err, answer.error().with_context(file));
  std::vector<uint64_t> indices;
  if (const JsonValue* list = answer->find("indices"); list && list->is_array()) {
    for (const JsonValue& i : list->as_array())
      if (i.is_int() && i.as_int() >= 0) indices.push_back(static_cast<uint64_t>(i.as_int()));
  }
  if (c.args.has("json")) {
    auto out = JsonValue::Object();
    for (const char* name : {"indices", "submitted", "replaced", "unchanged"}) {
      const JsonValue* v = answer->find(name);
      out.set(name, v ? *v : JsonValue());
    }
    PrintJson(io.out, out);
    return 0;
  }
  const JsonValue* domain = answer->find("domain");
  PrintSubmitted(io, domain && domain->is_string() ? domain->as_string() : std::string("?"),
                 indices, IntMember(*answer, "submitted"), IntMember(*answer, "replaced"),
                 IntMember(*answer, "unchanged"));
  return 0;
}

int TrialSample(const std::vector<std::string>& args, CliIo& io) {
  auto a = Args::Parse(args, 2, {"out", "subjects", "seed"});
  if (!a) return PrintError(io.err, a.error());
  auto out = a->required("out");
  if (!out) return PrintError(io.err, out.error());
  SampleStudyOptions options;
  auto subjects = a->number("subjects");
  auto seed = a->number("seed");
  if (!subjects) return PrintError(io.err, subjects.error());
  if (!seed) return PrintError(io.err, seed.error());
  if (*subjects) options.subjects = static_cast<size_t>(**subjects);
  if (*seed) options.seed = **seed;
  SampleStudy study = GenerateSampleStudy(options);
  if (auto written = WriteSampleStudy(study, *out); !written) {
    return PrintError(io.err, written.error());
  }
  io.out << "wrote study " << study.study_id << " to " << *out << ": " << study.subjects
         << " subjects (DM), " << study.adverse_events << " adverse events (AE)\n";
  return 0;
}

int TrialRegister(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"registry", "title", "sites", "arms", "key"}, true,
                       StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto p = JsonValue::Object();
  for (auto [option, member] : {std::pair{"registry", "registryId"}, {"title", "title"}}) {
    auto v = c->args.required(option);
    if (!v) return PrintError(io.err, v.error());
    p.set(member, JsonValue(*v));
  }
  auto sites = JsonValue::Array();
  for (const auto& s : SplitList(c->args.get("sites").value_or(""))) sites.push_back(JsonValue(s));
  p.set("sites", std::move(sites));
  auto arms = JsonValue::Array();
  for (const auto& arm : SplitList(c->args.get("arms").value_or(""))) {
    size_t colon = arm.find(':');
    if (colon == std::string::npos) {
      return PrintError(
          io.err,
          Error("cli.usage", "--arms takes CODE:Name pairs, got '" + arm + "'").at_field("arms"));
    }
    arms.push_back(JsonValue::Object()
                       .set("code", JsonValue(arm.substr(0, colon)))
                       .set("name", JsonValue(arm.substr(colon + 1))));
  }
  p.set("arms", std::move(arms));
  auto index = SubmitEvent(*c, "trial.register", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "trial " + c->trial + " registered", *index);
}

int TrialProtocol(const std::vector<std::string>& argv, CliIo& io) {
  auto c =
      OpenContext(argv, 2, {"file", "version", "outcomes", "key"}, true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto file = c->args.required("file");
  auto outcomes_file = c->args.required("outcomes");
  if (!file) return PrintError(io.err, file.error());
  if (!outcomes_file) return PrintError(io.err, outcomes_file.error());
  auto document = ReadFile(*file);
  if (!document) return PrintError(io.err, document.error());
  auto outcomes = ReadOutcomes(*outcomes_file);
  if (!outcomes) return PrintError(io.err, outcomes.error());
  auto event = TrialWorkflow::ProtocolPayload(c->signer, c->trial, *document,
                                              c->args.get("version").value_or("1.0"),
                                              outcomes->first, outcomes->second);
  if (!event) return PrintError(io.err, event.error());
  auto index = SubmitBuilt(*c, std::move(*event));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "protocol of " + c->trial + " sealed", *index);
}

int TrialSubmit(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"file", "domain", "reason", "subjects"}, true, StoreUse::kWrite,
                       {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto file = c->args.required("file");
  if (!file) return PrintError(io.err, file.error());
  if (c->remote) return RemoteSubmit(*c, *file, io);
  TrialWorkflow workflow = c->workflow();
  if (auto subjects_file = c->args.get("subjects")) {
    auto read = ReadSubjects(*subjects_file);
    if (!read) return PrintError(io.err, read.error());
    auto refs = std::make_shared<std::map<std::string, std::string>>(std::move(*read));
    workflow.SetSubjectRefs([refs](std::string_view usubjid) {
      auto it = refs->find(std::string(usubjid));
      return it == refs->end() ? std::string() : it->second;
    });
  }
  scanner::TrialParseOptions options;
  options.expected_study_id = c->trial;
  options.domain = c->args.get("domain").value_or("");
  // Parsing and signing a large file take seconds: a progress line on a terminal, cleared
  // before anything else is printed.
  Progress progress(io.err, io.progress, "trial submit: parsing " + *file);
  std::optional<ProgressTicker> ticker(std::in_place, progress);
  auto dataset = scanner::ParseTrialFile(*file, options);
  std::optional<Result<SubmissionResult>> submitted;
  if (dataset) {
    progress.Phase("trial submit: signing and submitting " +
                   std::to_string(dataset->records.size()) + " records");
    submitted.emplace(
        workflow.SubmitDataset(c->signer, c->trial, *dataset, c->args.get("reason").value_or("")));
  }
  ticker.reset();
  progress.Finish();
  if (!dataset) return PrintError(io.err, dataset.error().with_context(*file));
  auto& r = *submitted;
  if (!r) return PrintError(io.err, r.error());
  if (c->args.has("json")) {
    auto indices = JsonValue::Array();
    for (uint64_t i : r->indices) indices.push_back(JsonValue(static_cast<int64_t>(i)));
    PrintJson(io.out, JsonValue::Object()
                          .set("indices", std::move(indices))
                          .set("submitted", JsonValue(static_cast<int64_t>(r->submitted)))
                          .set("replaced", JsonValue(static_cast<int64_t>(r->replaced)))
                          .set("unchanged", JsonValue(static_cast<int64_t>(r->unchanged))));
  } else {
    PrintSubmitted(io, dataset->domain, r->indices, static_cast<int64_t>(r->submitted),
                   static_cast<int64_t>(r->replaced), static_cast<int64_t>(r->unchanged));
  }
  return 0;
}

int TrialLock(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"domain", "action", "reason", "approver", "key"}, true,
                       StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto domain = c->args.required("domain");
  auto action = c->args.required("action");
  if (!domain) return PrintError(io.err, domain.error());
  if (!action) return PrintError(io.err, action.error());
  // A lock is a ledger event only (TrialWorkflow::Lock's members): it signs here as well.
  auto p = JsonValue::Object();
  p.set("domain", JsonValue(*domain));
  p.set("action", JsonValue(*action));
  for (const char* name : {"reason", "approver"}) {
    if (auto value = c->args.get(name); value && !value->empty()) p.set(name, JsonValue(*value));
  }
  auto index = SubmitEvent(*c, "trial.lock", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, *domain + " " + *action, *index);
}

int TrialSeal(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"domain"}, true, StoreUse::kWrite, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto domain = c->args.required("domain");
  if (!domain) return PrintError(io.err, domain.error());
  if (c->remote) {
    // The records are in the node's sponsor store: POST /v1/trials/{id}/seals, signed by the
    // node with the key it holds for the token's organisation (node-held-key mode).
    if (auto ok = RequireTokenOrg(*c, "trial seal"); !ok) return PrintError(io.err, ok.error());
    auto answer = c->remote->PostJson(
        TrialTarget(*c, "/seals?domain=" + QueryEncode(*domain)),
        Canonicalize(JsonValue::Object().set("signature", SignatureMember(c->signer))));
    if (!answer) return PrintError(io.err, answer.error());
    auto member = [&](const char* name) {
      const JsonValue* v = answer->find(name);
      return v ? *v : JsonValue();
    };
    if (c->args.has("json")) {
      auto out = JsonValue::Object();
      for (const char* name : {"index", "root", "recordCount", "schemaHash", "algorithm"})
        out.set(name, member(name));
      PrintJson(io.out, out);
    } else {
      const JsonValue index = member("index"), count = member("recordCount"), root = member("root");
      io.out << *domain << " sealed as ledger entry " << (index.is_int() ? index.as_int() : -1)
             << ": " << (count.is_int() ? count.as_int() : 0) << " records, root "
             << (root.is_string() ? root.as_string() : std::string("?")) << "\n";
    }
    return 0;
  }
  auto r = c->workflow().Seal(c->signer, c->trial, *domain);
  if (!r) return PrintError(io.err, r.error());
  if (c->args.has("json")) {
    PrintJson(io.out,
              JsonValue::Object()
                  .set("index", JsonValue(static_cast<int64_t>(r->index)))
                  .set("root", JsonValue(ToHex(r->summary.root)))
                  .set("recordCount", JsonValue(static_cast<int64_t>(r->summary.record_count)))
                  .set("schemaHash", JsonValue(r->summary.schema_hash))
                  .set("algorithm", JsonValue(r->summary.algorithm)));
  } else {
    io.out << *domain << " sealed as ledger entry " << r->index << ": " << r->summary.record_count
           << " records, root " << ToHex(r->summary.root) << "\n";
  }
  return 0;
}

// The verdict of a candidate check, from its JSON form (CandidateCheckJson, also the answer
// of POST /v1/trials/{id}/verify): one renderer for a local and a remote check. `domain`
// may be empty (a remote check of a file that names its own).
void PrintCandidateCheck(std::ostream& out, const JsonValue& report, const std::string& file,
                         const std::string& domain) {
  auto text = [](const JsonValue& o, const char* name) {
    const JsonValue* v = o.find(name);
    return v && v->is_string() ? Printable(v->as_string()) : std::string("null");
  };
  auto list = [](const JsonValue& o, const char* name) -> const JsonArray& {
    static const JsonArray none;
    const JsonValue* v = o.find(name);
    return v && v->is_array() ? v->as_array() : none;
  };
  const JsonValue* identical = report.find("identical");
  out << (identical && identical->is_bool() && identical->as_bool() ? "IDENTICAL" : "CHANGED")
      << "  " << file << " against the " << (domain.empty() ? "" : Printable(domain) + " ")
      << "seal at ledger entry " << IntMember(report, "sealIndex") << " ("
      << IntMember(report, "sealedCount") << " records sealed, "
      << IntMember(report, "candidateCount") << " in the file)\n";
  for (const JsonValue& ch : list(report, "changed")) {
    out << "  changed  " << text(ch, "key") << " (line " << IntMember(ch, "line") << ")";
    const JsonValue* known = ch.find("valuesKnown");
    if (known && known->is_bool() && !known->as_bool()) out << ": values not known (redacted)";
    out << "\n";
    for (const JsonValue& cell : list(ch, "columns")) {
      out << "    " << text(cell, "column") << ": " << text(cell, "sealed") << " -> "
          << text(cell, "candidate") << "\n";
    }
  }
  for (const JsonValue& k : list(report, "added"))
    out << "  added    " << text(k, "key") << " (line " << IntMember(k, "line") << ")\n";
  for (const JsonValue& k : list(report, "deleted")) out << "  deleted  " << text(k, "key") << "\n";
  for (const JsonValue& k : list(report, "unverifiable"))
    out << "  redacted " << text(k, "key") << " (not checkable)\n";
  if (const JsonValue* hash = report.find("fileHash"); hash && hash->is_object()) {
    const JsonValue* matches = hash->find("matches");
    if (!(matches && matches->is_bool() && matches->as_bool())) {
      out << "  file hash " << text(*hash, "candidate") << " differs from the recorded "
          << text(*hash, "recorded") << "\n";
    }
  }
}

// With --server the reader is the token's organisation: --for would name another.
Status RefuseRemoteFor(const TrialContext& c) {
  if (!c.args.get("for")) return Ok();
  return Fail(Error("cli.usage",
                    "--for reads for another organisation on a local store; with --server the "
                    "reader is the token's organisation (drop --for, or use its token)")
                  .at_field("for"));
}

// `trial verify --server`: POST /v1/trials/{id}/verify with the candidate file as its body;
// the node compares it with its seal (and records the read when the token's organisation
// is a grantee, not the sponsor).
int RemoteVerify(TrialContext& c, const std::string& file, CliIo& io) {
  if (auto ok = RefuseRemoteFor(c); !ok) return PrintError(io.err, ok.error());
  auto bytes = ReadFile(file);
  if (!bytes) return PrintError(io.err, bytes.error().at_field("file"));
  std::string query;
  if (auto domain = c.args.get("domain"); domain && !domain->empty())
    query += "&domain=" + QueryEncode(*domain);
  if (auto hex = c.args.get("file-hash")) {
    if (!HashFromHex(*hex)) {
      return PrintError(
          io.err,
          Error("cli.usage", "--file-hash must be 64 hex characters").at_field("file-hash"));
    }
    query += "&byteExact=" + QueryEncode(*hex);
  }
  if (!query.empty()) query[0] = '?';
  const std::string type = DatasetMediaType(file, *bytes);
  auto report = c.remote->PostJson(TrialTarget(c, "/verify" + query), *bytes, type);
  if (!report) return PrintError(io.err, report.error().with_context(file));
  const JsonValue* identical = report->find("identical");
  if (!identical || !identical->is_bool()) {
    return PrintError(
        io.err,
        Error("client.bad_response", "the node's verify answer has no verdict").at_field("server"));
  }
  if (c.args.has("json")) {
    PrintJson(io.out, *report);
  } else {
    PrintCandidateCheck(io.out, *report, file, c.args.get("domain").value_or(""));
  }
  return identical->as_bool() ? 0 : 3;
}

int TrialVerify(const std::vector<std::string>& argv, CliIo& io) {
  auto c =
      OpenContext(argv, 2, {"file", "domain", "file-hash", "for"}, false, StoreUse::kRead, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto file = c->args.required("file");
  if (!file) return PrintError(io.err, file.error());
  if (c->remote) return RemoteVerify(*c, *file, io);
  scanner::TrialParseOptions options;
  options.domain = c->args.get("domain").value_or("");
  auto dataset = scanner::ParseTrialFile(*file, options);
  if (!dataset) return PrintError(io.err, dataset.error().with_context(*file));
  std::optional<Hash> recorded;
  std::string bytes;
  if (auto hex = c->args.get("file-hash")) {
    auto h = HashFromHex(*hex);
    if (!h) {
      return PrintError(
          io.err,
          Error("cli.usage", "--file-hash must be 64 hex characters").at_field("file-hash"));
    }
    recorded = *h;
    auto read = ReadFile(*file);
    if (!read) return PrintError(io.err, read.error());
    bytes = std::move(*read);
  }
  auto check = c->args.get("for") ? c->workflow().VerifyFor(*c->args.get("for"), c->trial, *dataset,
                                                            recorded, bytes)
                                  : c->workflow().Verify(c->trial, *dataset, recorded, bytes);
  if (!check) return PrintError(io.err, check.error());
  JsonValue report = CandidateCheckJson(*check);
  bool identical = report.find("identical")->as_bool();
  if (c->args.has("json")) {
    PrintJson(io.out, report);
  } else {
    PrintCandidateCheck(io.out, report, *file, dataset->domain);
  }
  return identical ? 0 : 3;
}

int TrialDisclose(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"domain", "key", "out", "for"}, false, StoreUse::kRead, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto domain = c->args.required("domain");
  auto key = c->args.required("key");
  if (!domain) return PrintError(io.err, domain.error());
  if (!key) return PrintError(io.err, key.error());
  std::string json;
  if (c->remote) {
    // GET /v1/trials/{id}/disclosures: the node discloses for the token's organisation,
    // checked against its grants and recorded; the file is the node's answer as it came.
    if (auto ok = RefuseRemoteFor(*c); !ok) return PrintError(io.err, ok.error());
    auto reply = c->remote->Get(TrialTarget(
        *c, "/disclosures?domain=" + QueryEncode(*domain) + "&key=" + QueryEncode(*key)));
    if (!reply) return PrintError(io.err, reply.error());
    // Written only when it is a disclosure: trial verify-disclosure checks it in full.
    if (auto parsed = provenance::ParseDisclosure(reply->body); !parsed) {
      return PrintError(io.err,
                        Error("client.bad_response",
                              "the node's answer is not a disclosure: " + parsed.error().message())
                            .at_field("server"));
    }
    json = std::move(reply->body);
    while (!json.empty() && json.back() == '\n') json.pop_back();
  } else {
    auto disclosure = c->args.get("for")
                          ? c->workflow().DiscloseFor(*c->args.get("for"), c->trial, *domain, *key)
                          : c->workflow().Disclose(c->trial, *domain, *key);
    if (!disclosure) return PrintError(io.err, disclosure.error());
    json = provenance::DisclosureToJson(*disclosure);
  }
  if (auto out = c->args.get("out")) {
    std::ofstream f(*out, std::ios::binary | std::ios::trunc);
    f << json << "\n";
    if (!f) return PrintError(io.err, Error("io.write", "cannot write " + *out));
    io.out << "disclosure of " << *key << " written to " << *out << "\n";
  } else {
    io.out << json << "\n";
  }
  return 0;
}

int TrialVerifyDisclosure(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"trust", "policy"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  if (args->positionals().size() != 1) {
    return PrintError(io.err,
                      Error("cli.usage", "usage: trial verify-disclosure FILE --trust VKEY"));
  }
  auto policy = PolicyOption(*args, io);
  if (!policy) return PrintError(io.err, policy.error());
  auto trust = args->required("trust");
  if (!trust) return PrintError(io.err, trust.error());
  auto vkey_text = ResolveVerifierKey(*trust, "trust");
  if (!vkey_text) return PrintError(io.err, vkey_text.error());
  std::string vkey = *vkey_text;
  auto verifier = log::NoteVerifier::Parse(vkey);
  if (!verifier) return PrintError(io.err, verifier.error());
  auto text = ReadInput(args->positionals()[0], io.in);
  if (!text) return PrintError(io.err, text.error());
  auto disclosure = provenance::ParseDisclosure(*text);
  if (!disclosure) return PrintError(io.err, disclosure.error());
  std::vector<log::NoteVerifier> verifiers;
  verifiers.push_back(std::move(*verifier));
  auto verified = provenance::VerifyDisclosure(*disclosure, verifiers);
  if (!verified) {
    PrintError(io.err, verified.error());
    return 4;
  }
  std::optional<log::QuorumEvaluation> quorum;
  if (*policy) {
    auto q = log::EvaluateQuorum(**policy, disclosure->evidence.checkpoint);
    if (!q) {
      PrintError(io.err, Error("checkpoint.quorum",
                               "the disclosure's checkpoint cosignatures do "
                               "not verify: " +
                                   q.error().ToString()));
      return 4;
    }
    if (!q->met) {
      std::string names;
      for (const auto& n : q->cosigned) names += (names.empty() ? "" : ", ") + n;
      PrintError(io.err, Error("checkpoint.quorum",
                               "FAILED: the disclosure's checkpoint is cosigned by " +
                                   (names.empty() ? std::string("no policy witness") : names) +
                                   "; the witness policy needs " + q->requirement));
      return 4;
    }
    quorum = *q;
  }
  if (args->has("json")) {
    auto json =
        JsonValue::Object()
            .set("verified", JsonValue(true))
            .set("key", JsonValue(verified->record_key))
            .set("checkpointSize", JsonValue(static_cast<int64_t>(verified->checkpoint.size)));
    if (quorum) {
      json.set("quorum", JsonValue::Object()
                             .set("requirement", quorum->requirement)
                             .set("cosignedBy", JsonValue::Strings(quorum->cosigned))
                             .set("met", true));
    }
    PrintJson(io.out, json);
  } else {
    // Every value shown is bound by the seal entry, the proofs or the checkpoint
    // signature (VerifyDisclosure), and is shown escaped.
    io.out << "VERIFIED  record " << Printable(verified->record_key) << " of "
           << Printable(disclosure->trial_id) << " " << Printable(disclosure->domain)
           << " is record " << disclosure->leaf_index + 1 << " of " << disclosure->record_count
           << " in the seal with root " << ToHex(disclosure->seal.root) << ", logged at entry "
           << disclosure->evidence.seal_index << " of " << Printable(verified->checkpoint.origin)
           << " (checkpoint size " << verified->checkpoint.size << ")\n  "
           << Printable(disclosure->canonical) << "\n";
    if (quorum) {
      io.out << "  witnessed: the checkpoint meets the policy's quorum " << quorum->requirement
             << "\n";
    }
  }
  return 0;
}

// The entry index a node-signed route answered with.
Result<uint64_t> AnswerIndex(const JsonValue& answer, const std::string& route) {
  const JsonValue* index = answer.find("index");
  if (!index || !index->is_int() || index->as_int() < 0) {
    return Fail(Error("client.bad_response", "the node's answer to " + route + " has no index")
                    .at_field("server"));
  }
  return static_cast<uint64_t>(index->as_int());
}

int TrialRedact(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"domain", "key", "reason"}, true, StoreUse::kWrite, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto domain = c->args.required("domain");
  auto key = c->args.required("key");
  auto reason = c->args.required("reason");
  for (auto* r : {&domain, &key, &reason}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  Result<uint64_t> index;
  if (c->remote) {
    // POST /v1/trials/{id}/redactions: the node deletes the record's data and salt from its
    // store after the ledger acknowledged the trial.redact it signed.
    if (auto ok = RequireTokenOrg(*c, "trial redact"); !ok) return PrintError(io.err, ok.error());
    auto answer = c->remote->PostJson(TrialTarget(*c, "/redactions"),
                                      Canonicalize(JsonValue::Object()
                                                       .set("signature", SignatureMember(c->signer))
                                                       .set("domain", JsonValue(*domain))
                                                       .set("key", JsonValue(*key))
                                                       .set("reason", JsonValue(*reason))));
    index = answer ? AnswerIndex(*answer, "POST …/redactions")
                   : Result<uint64_t>(std::unexpected(answer.error()));
  } else {
    index = c->workflow().Redact(c->signer, c->trial, *domain, *key, *reason);
  }
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "record " + *key + " redacted", *index);
}

int TrialOutcomes(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"reported"}, false, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto file = c->args.required("reported");
  if (!file) return PrintError(io.err, file.error());
  auto reported = ReadOutcomes(*file);
  if (!reported) return PrintError(io.err, reported.error());
  std::vector<std::string> reported_not_sealed, sealed_not_reported, moved;
  if (c->remote) {
    // POST /v1/trials/{id}/outcome-check: the node compares with the protocol seal.
    auto answer = c->remote->PostJson(
        "/v1/trials/" + QueryEncode(c->trial) + "/outcome-check",
        Canonicalize(JsonValue::Object()
                         .set("primary", JsonValue::Strings(reported->first))
                         .set("secondary", JsonValue::Strings(reported->second))));
    if (!answer) return PrintError(io.err, answer.error());
    for (auto [member, out] : {std::pair{"reportedNotSealed", &reported_not_sealed},
                               {"sealedNotReported", &sealed_not_reported},
                               {"moved", &moved}}) {
      const JsonValue* items = answer->find(member);
      if (!items || !items->is_array()) {
        return PrintError(io.err, Error("client.bad_response", std::string("the node's outcome "
                                                                           "check has no ") +
                                                                   member)
                                      .at_field("server"));
      }
      for (const JsonValue& item : items->as_array()) {
        if (item.is_string()) out->push_back(item.as_string());
      }
    }
  } else {
    auto check = c->workflow().CheckOutcomes(c->trial, reported->first, reported->second);
    if (!check) return PrintError(io.err, check.error());
    reported_not_sealed = check->reported_not_sealed;
    sealed_not_reported = check->sealed_not_reported;
    moved = check->moved;
  }
  const bool consistent =
      reported_not_sealed.empty() && sealed_not_reported.empty() && moved.empty();
  if (c->args.has("json")) {
    PrintJson(io.out, JsonValue::Object()
                          .set("consistent", JsonValue(consistent))
                          .set("reportedNotSealed", JsonValue::Strings(reported_not_sealed))
                          .set("sealedNotReported", JsonValue::Strings(sealed_not_reported))
                          .set("moved", JsonValue::Strings(moved)));
  } else {
    io.out << (consistent ? "CONSISTENT" : "OUTCOMES SWITCHED") << "  " << c->trial
           << " against its protocol seal\n";
    for (const auto& o : reported_not_sealed) io.out << "  reported, not sealed: " << o << "\n";
    for (const auto& o : sealed_not_reported) io.out << "  sealed, not reported: " << o << "\n";
    for (const auto& o : moved) io.out << "  moved primary/secondary: " << o << "\n";
  }
  return consistent ? 0 : 3;
}

// Any trial.* or kit.* event from a JSON body (file or -): `trial event KIND`.
int TrialEvent(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"kind", "body", "key"}, true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto kind = c->args.required("kind");
  auto body_path = c->args.required("body");
  if (!kind) return PrintError(io.err, kind.error());
  if (!body_path) return PrintError(io.err, body_path.error());
  auto text = ReadInput(*body_path, io.in);
  if (!text) return PrintError(io.err, text.error());
  auto body = ParseJson(*text, {.integers_only = true});
  if (!body) return PrintError(io.err, body.error());
  if (!body->is_object()) {
    return PrintError(io.err,
                      Error("cli.usage", "--body must hold a JSON object").at_field("body"));
  }
  if (!kind->starts_with("trial.") && !kind->starts_with("kit.")) {
    return PrintError(
        io.err, Error("cli.usage", "--kind must be a trial.* or kit.* kind, got '" + *kind + "'")
                    .at_field("kind"));
  }
  auto index = SubmitEvent(*c, *kind, std::move(*body));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, *kind, *index);
}

// `report trial --trial ID [--outcomes F] [--candidate FILE,..]`: the verified trial report.
int ReportTrial(const std::vector<std::string>& argv, CliIo& io) {
  if (io.remote) {
    // GET /v1/reports/trial/{id}: the ledger's part; comparisons need the sponsor store.
    auto args = Args::Parse(
        argv, 2, {"dir", "trial", "store", "outcomes", "candidate", "format", "o", "out"},
        {"json"});
    if (!args) return PrintError(io.err, args.error());
    for (const char* local : {"outcomes", "candidate", "store"}) {
      if (args->has(local)) {
        return PrintError(io.err, Error("cli.usage", std::string("--") + local +
                                                         " reads local files; with --server the "
                                                         "report is the node's (drop --" +
                                                         local + ")")
                                      .at_field(local));
      }
    }
    auto trial = args->required("trial");
    if (!trial) return PrintError(io.err, trial.error());
    return RemoteReport(*io.remote, "/v1/reports/trial/" + QueryEncode(*trial), *args, io);
  }
  auto c =
      OpenContext(argv, 2, {"outcomes", "candidate", "format", "o", "out"}, false, StoreUse::kNone);
  if (!c) return PrintError(io.err, c.error());
  reports::TrialReportInputs inputs;
  inputs.generated_at = c->node->Now();
  if (auto file = c->args.get("outcomes")) {
    auto reported = ReadOutcomes(*file);
    if (!reported) return PrintError(io.err, reported.error());
    inputs.reported_outcomes = reports::ReportedOutcomes{reported->first, reported->second};
  }
  if (auto files = c->args.get("candidate")) {
    auto store = SponsorStore::OpenExisting(StorePath(c->args));
    if (!store) return PrintError(io.err, store.error());
    c->store = std::move(*store);
    for (const std::string& file : SplitList(*files)) {
      scanner::TrialParseOptions options;
      auto dataset = scanner::ParseTrialFile(file, options);
      if (!dataset) return PrintError(io.err, dataset.error().with_context(file));
      auto check = c->workflow().Verify(c->trial, *dataset);
      if (!check) return PrintError(io.err, check.error().with_context(file));
      inputs.comparisons.push_back(
          reports::DomainComparison{dataset->domain, std::move(check->diff), check->sealed,
                                    std::filesystem::path(file).filename().string()});
    }
  }
  auto report = reports::TrialReport(c->node->ledger(), c->trial, inputs);
  if (!report) return PrintError(io.err, report.error());
  return EmitReport(c->args, *report, io);
}

// --scopes "core:DM,AE;substudy_pk:PK;future_research" as {scope: [domains]}.
Result<JsonValue> ParseScopes(const std::string& text) {
  auto scopes = JsonValue::Object();
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    size_t colon = part.find(':');
    std::string name = part.substr(0, colon);
    if (name.empty()) {
      return Fail(Error("cli.usage", "--scopes: '" + part + "' needs a scope name before ':'")
                      .at_field("scopes"));
    }
    scopes.set(name,
               JsonValue::Strings(colon == std::string::npos ? std::vector<std::string>{}
                                                             : SplitList(part.substr(colon + 1))));
  }
  return scopes;
}

int TrialConsentForm(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2,
                       {"file", "version", "country", "language", "ethics-ref", "approved",
                        "effective", "scopes", "key"},
                       true, StoreUse::kNone, {"mandatory"}, &io);
  if (!c) return PrintError(io.err, c.error());
  std::map<std::string, std::string> v;
  for (const char* name : {"file", "version", "country", "language", "ethics-ref", "approved",
                           "effective", "scopes"}) {
    auto value = c->args.required(name);
    if (!value) return PrintError(io.err, value.error());
    v[name] = *value;
  }
  auto document = ReadFile(v["file"]);
  if (!document) return PrintError(io.err, document.error());
  auto scopes = ParseScopes(v["scopes"]);
  if (!scopes) return PrintError(io.err, scopes.error());
  TrialWorkflow::ConsentForm form{v["version"],
                                  v["country"],
                                  v["language"],
                                  v["ethics-ref"],
                                  v["approved"],
                                  v["effective"],
                                  c->args.has("mandatory"),
                                  std::move(*scopes)};
  auto event = TrialWorkflow::ConsentFormPayload(c->signer, c->trial, *document, form);
  if (!event) return PrintError(io.err, event.error());
  auto index = SubmitBuilt(*c, std::move(*event));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "consent form " + form.version + " of " + c->trial + " recorded", *index);
}

int TrialConsent(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2,
                       {"subject", "icf-version", "consent-time", "granted", "declined", "witness",
                        "representative", "key"},
                       true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto subject = c->args.required("subject");
  auto version = c->args.required("icf-version");
  auto at = c->args.required("consent-time");
  auto granted = c->args.required("granted");
  for (auto* r : {&subject, &version, &at, &granted}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  auto p = JsonValue::Object();
  p.set("subjectRef", JsonValue(*subject));
  p.set("icfVersion", JsonValue(*version));
  p.set("consentTime", JsonValue(*at));
  p.set("scopesGranted", JsonValue::Strings(SplitList(*granted)));
  p.set("scopesDeclined", JsonValue::Strings(SplitList(c->args.get("declined").value_or(""))));
  for (const char* name : {"witness", "representative"}) {
    if (auto value = c->args.get(name)) p.set(name, JsonValue(*value));
  }
  auto index = SubmitEvent(*c, "trial.consent", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "consent to " + *version + " recorded", *index);
}

int TrialWithdraw(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"subject", "time", "data", "key"}, true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto subject = c->args.required("subject");
  auto at = c->args.required("time");
  auto data = c->args.required("data");
  for (auto* r : {&subject, &at, &data}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  auto p = JsonValue::Object();
  p.set("subjectRef", JsonValue(*subject));
  p.set("withdrawalTime", JsonValue(*at));
  p.set("dataChoice", JsonValue(*data));
  auto index = SubmitEvent(*c, "trial.withdraw", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "withdrawal recorded (data: " + *data + ")", *index);
}

int TrialHonourWithdrawals(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {}, true, StoreUse::kWrite, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  Result<uint64_t> done;
  if (c->remote) {
    // POST /v1/trials/{id}/withdrawals/honour: the node redacts in its store.
    if (auto ok = RequireTokenOrg(*c, "trial honour-withdrawals"); !ok)
      return PrintError(io.err, ok.error());
    auto answer = c->remote->PostJson(
        TrialTarget(*c, "/withdrawals/honour"),
        Canonicalize(JsonValue::Object().set("signature", SignatureMember(c->signer))));
    if (!answer) return PrintError(io.err, answer.error());
    const JsonValue* redacted = answer->find("redacted");
    if (!redacted || !redacted->is_int() || redacted->as_int() < 0) {
      return PrintError(io.err, Error("client.bad_response",
                                      "the node's answer to POST …/withdrawals/honour has no "
                                      "redacted count")
                                    .at_field("server"));
    }
    done = static_cast<uint64_t>(redacted->as_int());
  } else {
    done = c->workflow().HonourWithdrawals(c->signer, c->trial);
  }
  if (!done) return PrintError(io.err, done.error());
  if (c->args.has("json")) {
    PrintJson(io.out, JsonValue::Object().set("redacted", JsonValue(static_cast<int64_t>(*done))));
  } else {
    io.out << *done << " records redacted for withdrawals that chose redaction\n";
  }
  return 0;
}

int TrialGrant(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(
      argv, 2,
      {"grant", "grantee", "purpose", "domains", "sites", "subjects", "start", "expiry", "key"},
      true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto p = JsonValue::Object();
  for (auto [option, member] : {std::pair{"grant", "grantId"},
                                {"grantee", "grantee"},
                                {"purpose", "purpose"},
                                {"start", "start"},
                                {"expiry", "expiry"}}) {
    auto value = c->args.required(option);
    if (!value) return PrintError(io.err, value.error());
    p.set(member, JsonValue(*value));
  }
  auto domains = c->args.required("domains");
  if (!domains) return PrintError(io.err, domains.error());
  p.set("domains", JsonValue::Strings(SplitList(*domains)));
  for (const char* name : {"sites", "subjects"}) {
    if (auto value = c->args.get(name)) p.set(name, JsonValue::Strings(SplitList(*value)));
  }
  const std::string id = *c->args.get("grant");
  auto index = SubmitEvent(*c, "trial.grant", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "grant " + id + " to " + *c->args.get("grantee") + " recorded", *index);
}

int TrialRevokeGrant(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {"grant", "reason", "key"}, true, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  auto id = c->args.required("grant");
  if (!id) return PrintError(io.err, id.error());
  auto p = JsonValue::Object();
  p.set("grantId", JsonValue(*id));
  if (auto reason = c->args.get("reason")) p.set("reason", JsonValue(*reason));
  auto index = SubmitEvent(*c, "trial.revoke_grant", std::move(p));
  if (!index) return PrintError(io.err, index.error());
  return Recorded(io, *c, "grant " + *id + " revoked", *index);
}

// `trial grants --server`: GET /v1/trials/{id}/grants, the grants this caller may see (the
// sponsor and regulators all, a grantee its own; docs/api.md). --json prints the node's
// answer; the access record itself is not served, each grant's read count is.
int RemoteGrants(TrialContext& c, CliIo& io) {
  auto answer = c.remote->GetJson("/v1/trials/" + QueryEncode(c.trial) + "/grants");
  if (!answer) return PrintError(io.err, answer.error());
  if (c.args.has("json")) {
    PrintJson(io.out, *answer);
    return 0;
  }
  const JsonValue* grants = answer->find("grants");
  if (!grants || !grants->is_array()) {
    return PrintError(
        io.err,
        Error("client.bad_response", "the node's grants answer has no grants").at_field("server"));
  }
  auto text = [](const JsonValue& g, const char* member) {
    const JsonValue* v = g.find(member);
    return v && v->is_string() ? v->as_string() : std::string();
  };
  auto number = [](const JsonValue& g, const char* member) -> int64_t {
    const JsonValue* v = g.find(member);
    return v && v->is_int() ? v->as_int() : 0;
  };
  io.out << grants->as_array().size() << " grants\n";
  for (const JsonValue& g : grants->as_array()) {
    if (!g.is_object()) continue;
    std::string domains;
    if (const JsonValue* d = g.find("domains"); d && d->is_array()) {
      for (const JsonValue& x : d->as_array())
        if (x.is_string()) domains += (domains.empty() ? "" : ",") + x.as_string();
    }
    const JsonValue* revoked = g.find("revoked");
    const JsonValue* valid = g.find("validNow");
    io.out << "  " << Printable(text(g, "grantId")) << "  " << Printable(text(g, "grantee")) << " ("
           << Printable(text(g, "purpose")) << ") " << Printable(domains) << "  "
           << text(g, "start") << " to " << text(g, "expiry")
           << (revoked && revoked->is_object()
                   ? "  revoked at entry " + std::to_string(number(*revoked, "index"))
                   : std::string(valid && valid->is_bool() && valid->as_bool() ? "  valid now"
                                                                               : ""))
           << "  (entry " << number(g, "index") << ", " << number(g, "accesses") << " reads)\n";
  }
  return 0;
}

// The grant history and the access record, from the ledger alone.
int TrialGrants(const std::vector<std::string>& argv, CliIo& io) {
  auto c = OpenContext(argv, 2, {}, false, StoreUse::kNone, {}, &io);
  if (!c) return PrintError(io.err, c.error());
  if (c->remote) return RemoteGrants(*c, io);
  auto view = provenance::TrialView::Open(c->node->ledger().db_path());
  if (!view) return PrintError(io.err, view.error());
  auto grants = (*view)->Grants(c->trial);
  auto accesses =
      grants ? (*view)->Accesses(c->trial) : Result<std::vector<provenance::AccessRecord>>();
  if (!grants) return PrintError(io.err, grants.error());
  if (!accesses) return PrintError(io.err, accesses.error());
  const int64_t now = c->node->Now();
  if (c->args.has("json")) {
    auto g = JsonValue::Array();
    for (const auto& x : *grants) {
      g.push_back(JsonValue::Object()
                      .set("grantId", JsonValue(x.grant_id))
                      .set("index", JsonValue(static_cast<int64_t>(x.index)))
                      .set("grantee", JsonValue(x.grantee))
                      .set("purpose", JsonValue(x.purpose))
                      .set("domains", JsonValue::Strings(x.domains))
                      .set("start", JsonValue(FormatUtcTime(x.start)))
                      .set("expiry", JsonValue(FormatUtcTime(x.expiry)))
                      .set("validNow", JsonValue(x.valid_at(now)))
                      .set("revoked", x.revoked_index
                                          ? JsonValue(static_cast<int64_t>(*x.revoked_index))
                                          : JsonValue()));
    }
    auto a = JsonValue::Array();
    for (const auto& x : *accesses) {
      a.push_back(JsonValue::Object()
                      .set("index", JsonValue(static_cast<int64_t>(x.index)))
                      .set("time", JsonValue(FormatUtcTime(x.time)))
                      .set("reader", JsonValue(x.reader))
                      .set("grantId", x.grant_id.empty() ? JsonValue() : JsonValue(x.grant_id))
                      .set("domain", JsonValue(x.domain))
                      .set("outcome", JsonValue(x.outcome))
                      .set("leaves", JsonValue::Strings(x.leaves)));
    }
    PrintJson(io.out,
              JsonValue::Object().set("grants", std::move(g)).set("accesses", std::move(a)));
    return 0;
  }
  io.out << grants->size() << " grants\n";
  for (const auto& x : *grants) {
    std::string domains;
    for (const auto& d : x.domains) domains += (domains.empty() ? "" : ",") + d;
    io.out << "  " << Printable(x.grant_id) << "  " << Printable(x.grantee) << " (" << x.purpose
           << ") " << domains << "  " << FormatUtcTime(x.start) << " to " << FormatUtcTime(x.expiry)
           << (x.revoked_index ? "  revoked at entry " + std::to_string(*x.revoked_index)
                               : std::string(x.valid_at(now) ? "  valid now" : ""))
           << "  (entry " << x.index << ")\n";
  }
  io.out << accesses->size() << " accesses\n";
  for (const auto& x : *accesses) {
    io.out << "  entry " << x.index << "  " << FormatUtcTime(x.time) << "  " << Printable(x.reader)
           << "  " << x.domain << "  " << x.outcome
           << (x.grant_id.empty() ? "" : " under " + Printable(x.grant_id)) << "  "
           << x.leaves.size() << " records\n";
  }
  return 0;
}

const std::string kForHelp =
    "  --for ORG      read for another organisation: checked against its grants and recorded\n"
    "                 as trial.access before anything is shown (default: the sponsor's own read)\n";

constexpr const char* kSigner =
    "--as ORG --name \"Printed Name\" --meaning authorship|review|approval|responsibility";

}  // namespace

std::vector<Command> TrialCommands() {
  std::string s = kSigner;
  // Every trial command but sample takes these.
  const std::string common =
      "  --trial ID     the trial (required)\n"
      "  --store F      the sponsor store (default: DIR/sponsor-store.sqlite)\n" +
      kDirHelp + kJsonHelp;
  const std::string signer =
      "  --as ORG       the signing organisation; this node holds its key (required)\n"
      "  --name N       the signer's printed name (required)\n"
      "  --meaning M    authorship, review, approval or responsibility (required)\n";
  // Store-side actions in remote mode (docs/cli.md, "Working against a remote node").
  const std::string node_signs =
      "  remote mode: the node's sponsor store is written and the node signs with the key\n"
      "  it holds for the token's organisation, which --as must name (docs/cli.md)\n";
  // Record reads in remote mode.
  const std::string node_reads =
      "  remote mode: the node reads its sponsor store for the token's organisation, checked\n"
      "  against its grants and recorded as trial.access unless it is the sponsor; --for is\n"
      "  refused (docs/cli.md)\n";
  // The events a client builds alone: signed here with --key, as remotely (docs/cli.md).
  const std::string remote_signer =
      signer +
      "  --key FILE     sign here with ORG's own key, PEM (default: the key this node holds\n"
      "                 for ORG; required in remote mode, docs/cli.md)\n";
  return {
      {"trial sample",
       "trial sample --out DIR [--subjects N] [--seed S]   write the synthetic study", TrialSample,
       "  --out DIR      where to write the study's files (required)\n"
       "  --subjects N   number of subjects, spread over three sites (default: 240)\n"
       "  --seed S       random seed (default: 20261121)\n",
       "trial sample --out ./study --subjects 60"},
      {"trial register",
       "trial register --trial ID --registry EUCT|NCT --title T --sites S,S --arms CODE:Name,.. " +
           s,
       TrialRegister,
       "  --registry R   EUCT or NCT, the public registry of the trial id\n"
       "  --title T      the trial's title\n"
       "  --sites S,..   the sites' ids\n"
       "  --arms CODE:Name,..\n"
       "                 the treatment arms\n" +
           remote_signer + common,
       "trial register --trial 2026-500001-12-00 --registry EUCT --title Study --sites S1,S2 "
       "--arms A:Active,P:Placebo --as sponsor --name \"Dr A\" --meaning approval"},
      {"trial protocol",
       "trial protocol --trial ID --file PROTOCOL --outcomes OUTCOMES.json [--version V] " + s,
       TrialProtocol,
       "  --file F       the protocol document, hashed into the ledger (required)\n"
       "  --outcomes F   the pre-registered outcomes, JSON (required)\n"
       "  --version V    the protocol version (default: 1.0)\n" +
           remote_signer + common,
       "trial protocol --trial T1 --file protocol.pdf --outcomes outcomes.json --as sponsor "
       "--name \"Dr A\" --meaning approval"},
      {"trial submit",
       "trial submit --trial ID --file DATA.csv|json|ndjson [--domain D] [--reason R] " + s +
           " [--store F]",
       TrialSubmit,
       "  --file F       the dataset: CSV, JSON or NDJSON (required)\n"
       "  --domain D     the dataset's domain, e.g. DM or AE (default: from the file)\n"
       "  --reason R     why a changed row changed (default: empty)\n"
       "  --subjects F   USUBJID,subjectRef lines: name each record's subject (required by a\n"
       "                 trial with consent forms)\n" +
           signer + common + node_signs +
           "  (the file is sent as it is and parsed by the node; give --domain when the file\n"
           "  does not name its domain)\n",
       "trial submit --trial T1 --file study/dm.csv --domain DM --as site1 --name \"Dr B\" "
       "--meaning authorship"},
      {"trial lock",
       "trial lock --trial ID --domain D --action soft_lock|hard_lock|unlock [--reason R "
       "--approver NAME] " +
           s,
       TrialLock,
       "  --domain D     the domain to lock (required)\n"
       "  --action A     soft_lock, hard_lock or unlock (required)\n"
       "  --reason R     why (required to unlock)\n"
       "  --approver NAME\n"
       "                 who approved an unlock\n" +
           remote_signer + common,
       "trial lock --trial T1 --domain DM --action hard_lock --as sponsor --name \"Dr A\" "
       "--meaning approval"},
      {"trial seal", "trial seal --trial ID --domain D " + s + " [--store F]", TrialSeal,
       "  --domain D     the locked domain to seal (required)\n" + signer + common + node_signs,
       "trial seal --trial T1 --domain DM --as sponsor --name \"Dr A\" --meaning approval"},
      {"trial verify",
       "trial verify --trial ID --file CANDIDATE [--domain D] [--file-hash HEX] [--store F]   exit "
       "0 identical, 3 changed",
       TrialVerify,
       "  --file F       the candidate dataset to hold against the sealed one (required)\n"
       "  --domain D     the domain (default: from the file)\n"
       "  --file-hash HEX\n"
       "                 the sealed file's hash, when the store is not at hand\n" +
           kForHelp + common + node_reads,
       "trial verify --trial T1 --file dm-received.csv --domain DM"},
      {"trial disclose",
       "trial disclose --trial ID --domain D --key KEY [--out FILE] [--for ORG] [--store F]",
       TrialDisclose,
       "  --domain D     the sealed domain (required)\n"
       "  --key KEY      the record's key (required)\n"
       "  --out FILE     where to write the disclosure (default: standard output)\n" +
           kForHelp + common + node_reads,
       "trial disclose --trial T1 --domain AE --key S1-001-AE1 --out ae1.disclosure.json"},
      {"trial verify-disclosure", "trial verify-disclosure FILE --trust LOG_VKEY [--policy FILE]",
       TrialVerifyDisclosure,
       "  FILE           the disclosure (- for standard input)\n"
       "  --trust VKEY   the log's verifier key, or a file holding it (required)\n" +
           kPolicyHelp + kJsonHelp,
       "trial verify-disclosure ae1.disclosure.json --trust ledger/log.vkey"},
      {"trial redact", "trial redact --trial ID --domain D --key KEY --reason R " + s, TrialRedact,
       "  --domain D     the sealed domain (required)\n"
       "  --key KEY      the record to redact (required)\n"
       "  --reason R     why, recorded on the ledger\n" +
           signer + common + node_signs,
       "trial redact --trial T1 --domain AE --key S1-001-AE1 --reason \"subject withdrew\" --as "
       "sponsor --name \"Dr A\" --meaning responsibility"},
      {"trial outcomes",
       "trial outcomes --trial ID --reported OUTCOMES.json   exit 0 consistent, 3 switched",
       TrialOutcomes, "  --reported F   the outcomes as published, JSON (required)\n" + common,
       "trial outcomes --trial T1 --reported published-outcomes.json"},
      {"report trial",
       "report trial --trial ID [--outcomes REPORTED.json] [--candidate FILE,..] [--format "
       "json|text|html] [-o FILE]   (exit 0 VERIFIED, 3 SUSPECT, 4 FAILED)",
       ReportTrial,
       "  --outcomes F   the outcomes as published, to compare with the registered ones\n"
       "  --candidate FILE,..\n"
       "                 datasets to hold against the sealed ones\n" +
           kReportHelp +
           "  --trial ID     the trial (required)\n"
           "  --store F      the sponsor store (default: DIR/sponsor-store.sqlite)\n" +
           kDirHelp,
       "report trial --trial T1 --format html -o trial.html"},
      {"trial consent-form",
       "trial consent-form --trial ID --file ICF --version V --country CC --language ll "
       "--ethics-ref R --approved YYYY-MM-DD --effective YYYY-MM-DD --scopes "
       "core:DOM,..;SCOPE:DOM,..;SCOPE [--mandatory] " +
           s,
       TrialConsentForm,
       "  --file F       the informed consent form document, hashed into the ledger\n"
       "  --version V    the form's version, unique in the trial (e.g. DE-2.0)\n"
       "  --country CC   ISO 3166-1 alpha-2 country, e.g. DE\n"
       "  --language ll  ISO 639 language, e.g. de\n"
       "  --ethics-ref R the ethics committee's approval reference\n"
       "  --approved D   the approval date; --effective D the date it takes effect\n"
       "  --scopes S     scopes and the domains each covers: core:DM,AE;substudy_pk:PK;samples\n"
       "  --mandatory    every participant must re-consent to this version from --effective\n" +
           remote_signer + common,
       "trial consent-form --trial T1 --file icf-2.0.pdf --version 2.0 --country DE --language "
       "de --ethics-ref EK-117 --approved 2026-10-01 --effective 2026-10-15 --scopes "
       "\"core:DM,AE;substudy_pk:PK;samples\" --mandatory --as sponsor --name \"Dr A\" "
       "--meaning approval"},
      {"trial consent",
       "trial consent --trial ID --subject REF --icf-version V --consent-time T --granted "
       "core,.. [--declined S,..] [--witness N] [--representative N] " +
           s,
       TrialConsent,
       "  --subject REF  the subject's salted reference, as enrolled (64 hex)\n"
       "  --icf-version V\n"
       "                 the consent form version signed\n"
       "  --consent-time T\n"
       "                 when the participant consented, YYYY-MM-DDThh:mm:ssZ\n"
       "  --granted S,.. the scopes granted (core among them)\n"
       "  --declined S,..\n"
       "                 the scopes declined; every scope of the form is one or the other\n"
       "  --witness N    printed name of an impartial witness\n"
       "  --representative N\n"
       "                 printed name of a legally authorised representative\n" +
           remote_signer + common,
       "trial consent --trial T1 --subject 3f2a… --icf-version 2.0 --consent-time "
       "2026-10-20T09:00:00Z --granted core,samples --declined substudy_pk --as site1 --name "
       "\"Dr B\" --meaning authorship"},
      {"trial withdraw",
       "trial withdraw --trial ID --subject REF --time T --data retain|redact " + s, TrialWithdraw,
       "  --subject REF  the subject's salted reference (64 hex)\n"
       "  --time T       when the participant withdrew, YYYY-MM-DDThh:mm:ssZ\n"
       "  --data C       the participant's choice for collected data: retain or redact\n" +
           remote_signer + common,
       "trial withdraw --trial T1 --subject 3f2a… --time 2026-11-20T16:00:00Z --data redact --as "
       "site1 --name \"Dr B\" --meaning authorship"},
      {"trial honour-withdrawals", "trial honour-withdrawals --trial ID " + s + " [--store F]",
       TrialHonourWithdrawals,
       "  Redacts (trial.redact, signed by the sponsor) every record of each participant who\n"
       "  withdrew and chose redaction, and deletes its data and salt from the store.\n" +
           signer + common + node_signs,
       "trial honour-withdrawals --trial T1 --as sponsor --name \"Dr A\" --meaning "
       "responsibility"},
      {"trial grant",
       "trial grant --trial ID --grant G --grantee ORG --purpose P --domains D,.. --start T "
       "--expiry T [--sites S,..] [--subjects REF,..] " +
           s,
       TrialGrant,
       "  --grant G      the grant's id, unique in the trial\n"
       "  --grantee ORG  the registered organisation given read access\n"
       "  --purpose P    monitor, auditor, regulator or data_manager\n"
       "  --domains D,.. the domains it may read\n"
       "  --start T, --expiry T\n"
       "                 the period it is valid, YYYY-MM-DDThh:mm:ssZ (expiry after start)\n"
       "  --sites S,..   only the records of subjects enrolled at these sites\n"
       "  --subjects REF,..\n"
       "                 only the records of these subjects (salted references)\n" +
           remote_signer + common,
       "trial grant --trial T1 --grant MON-1 --grantee cro --purpose monitor --domains DM,AE "
       "--start 2026-11-01T00:00:00Z --expiry 2027-02-01T00:00:00Z --as sponsor --name \"Dr A\" "
       "--meaning approval"},
      {"trial revoke-grant", "trial revoke-grant --trial ID --grant G [--reason R] " + s,
       TrialRevokeGrant,
       "  --grant G      the grant to revoke\n"
       "  --reason R     why, recorded on the ledger\n" +
           remote_signer + common,
       "trial revoke-grant --trial T1 --grant MON-1 --reason \"monitoring visit over\" --as "
       "sponsor --name \"Dr A\" --meaning approval"},
      {"trial grants", "trial grants --trial ID   the grant history and the access record",
       TrialGrants, common, "trial grants --trial T1"},
      {"trial receipt", "trial receipt --trial ID --secret-file FILE|- [-o FILE]", TrialReceipt,
       "  --trial ID     the trial (required)\n"
       "  --secret-file F\n"
       "                 the file holding the participant's subject reference secret, as the\n"
       "                 site handed it out (- for standard input; a final line break is not\n"
       "                 part of it) (required)\n"
       "  -o FILE, --out FILE\n"
       "                 where to write the receipt (default: standard output)\n" +
           kDirHelp,
       "trial receipt --trial T1 --secret-file subject.secret -o receipt.json"},
      {"trial verify-receipt",
       "trial verify-receipt FILE --trust LOG_VKEY [--secret-file F] [--policy FILE] "
       "[--authority PUB] [--witness VKEY,..] [--format text|json|html] [-o FILE]   (exit 0 "
       "VERIFIED, 4 FAILED)",
       TrialVerifyReceipt,
       "  FILE           the receipt (- for standard input)\n"
       "  --secret-file F\n"
       "                 the participant's secret: the receipt must be this subject's\n" +
           kTrustHelp + kPolicyHelp +
           "  --format F     text, json or html (default: text)\n"
           "  -o FILE, --out FILE\n"
           "                 write the report to FILE (default: standard output)\n",
       "trial verify-receipt receipt.json --trust ledger/log.vkey --secret-file subject.secret"},
      {"trial event", "trial event --trial ID --kind trial.*|kit.* --body FILE|- " + s, TrialEvent,
       "  --kind K       the event kind, trial.* or kit.* (required)\n"
       "  --body F       the event's body, JSON (- for standard input) (required)\n" +
           remote_signer + common,
       "trial event --trial T1 --kind kit.shipped --body kit.json --as depot --name \"C D\" "
       "--meaning responsibility"},
  };
}

}  // namespace pedigree::services
