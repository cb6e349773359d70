// `pedigree demo --network`: the consortium on one machine. Three C2SP witnesses, a node
// that asks them for cosignatures under a 2-of-3 tlog-policy, the supply-chain scenario run
// on that node, offline verification, a fork attempt and the monitor that catches it.
// See docs/witness.md, "The consortium on one machine".
//
// Every server runs in this process on its own threads, bound to 127.0.0.1 on an ephemeral
// port. In-process rather than child processes of this binary: there is no port to read
// back from a child's output, nothing is left running when a step fails (the destructors
// stop every server in order), and the scenario drives the very SupplyNode the HTTP API
// serves. The protocol is still the real one: the node's witness client, the monitor and
// the fork attempt all talk HTTP to the witnesses, as separate processes would. The mirror is
// made and synchronised by the CLI's own `mirror init` / `mirror sync` (over HTTP from the
// node, with a token of its role), then served from this process as `mirror serve` would.
#include "cli_demo_network.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "pedigree/base/bytes.h"
#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/mirror_server.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/http/witness_server.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/policy.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/replica.h"
#include "pedigree/log/witness.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/usecases/auth.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;

// How long the published checkpoint may take to gather its quorum once the scenario is
// done. The witness client polls every 200 ms and each witness answers in milliseconds on
// loopback; the bound is generous for a loaded CI machine, and its expiry is an error.
constexpr auto kWitnessedWait = std::chrono::seconds(60);

struct Answer {
  int status = 0;
  std::string body;
  std::string witnessed;  // the Pedigree-Witnessed header, when present
};

// One HTTP/1.1 request to 127.0.0.1:`port`.
Result<Answer> Http(const std::string& method, uint16_t port, const std::string& path,
                    const std::string& body = "", const std::string& bearer = "") {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!bearer.empty()) request.set("Authorization", "Bearer " + bearer);
    if (method == "POST") {
      request.setContentType("text/plain");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Answer a;
    a.status = static_cast<int>(response.getStatus());
    a.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    a.witnessed = response.get("Pedigree-Witnessed", "");
    return a;
  } catch (const Poco::Exception& e) {
    return Fail("demo.unexpected", method + " http://127.0.0.1:" + std::to_string(port) + path +
                                       ": " + e.displayText());
  }
}

// An answer's body in one line: "code: message" of a JSON error, else the text itself (a
// 409's size).
std::string Summary(const std::string& body) {
  auto json = ParseJson(body);
  const JsonValue* e = json && json->is_object() ? json->find("error") : nullptr;
  const JsonValue* code = e && e->is_object() ? e->find("code") : nullptr;
  const JsonValue* message = e && e->is_object() ? e->find("message") : nullptr;
  if (code && code->is_string() && message && message->is_string()) {
    return code->as_string() + ": " + message->as_string();
  }
  std::string text = body.substr(0, 200);
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  return text;
}

std::string Url(uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// `text` with every line indented, as the demo quotes what other parties print.
std::string Indent(const std::string& text, const std::string& by = "    ") {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += by + line + "\n";
  return out;
}

// Runs one of the CLI's own commands in this process (the same code as `pedigree NAME ...`;
// a two-word command such as "mirror sync" is matched on argv's first two words, as the CLI
// does) and returns its exit status, with what it printed in `printed`.
int RunCommand(const std::vector<Command>& commands, const std::vector<std::string>& argv,
               std::string& printed) {
  for (const Command& c : commands) {
    const bool two_words = argv.size() >= 2 && c.name == argv[0] + " " + argv[1];
    if (c.name != argv.front() && !two_words) continue;
    std::istringstream in;
    std::ostringstream out, err;
    CliIo io{in, out, err};
    int rc = c.run(argv, io);
    printed = out.str() + err.str();
    return rc;
  }
  printed = "no command " + argv.front();
  return 2;
}

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Fail(Error("cli.io", "cannot write " + path.string()).at_field("dir"));
  return Ok();
}

// A witness of the consortium: its state on disk, and the in-process server.
struct DemoWitness {
  std::string name;  // its name in the policy: w1, w2, w3
  std::string vkey;
  std::unique_ptr<log::Witness> witness;
  std::unique_ptr<HttpServer> server;  // declared last: stops before the witness closes
  std::string url() const { return Url(server->port()); }
};

// Everything running, declared in the order it must be torn down in reverse: the servers
// stop before the witness client they report on, the client before the witnesses it posts
// to and the node it reads, and the node last.
struct Consortium {
  explicit Consortium(DemoLedger l) : ledger(std::move(l)) {}
  DemoLedger ledger;
  std::unique_ptr<TokenStore> tokens;
  std::ofstream client_log;  // the witness client's refusals and failures
  std::vector<DemoWitness> witnesses;
  log::Policy policy;
  std::unique_ptr<WitnessClient> client;
  std::unique_ptr<HttpServer> node_server;
  // The mirror (step 2): the replayed provenance state its rules keep, the copy, its token
  // store and its server, declared so that the server stops before the copy closes.
  std::unique_ptr<provenance::ProvenanceState> mirror_state;
  std::unique_ptr<log::Replica> mirror;
  std::unique_ptr<TokenStore> mirror_tokens;
  std::unique_ptr<HttpServer> mirror_server;
  std::unique_ptr<HttpServer> rogue_server;  // serves the forked checkpoint (step 5)
  // Base URLs of mirrors holding a copy of the log: the monitor reads their checkpoints
  // (steps 4 and 5) beside the log and the witnesses.
  std::vector<std::string> mirror_urls;

  log::Ledger& tlog() { return ledger.node->ledger(); }
  uint16_t node_port() const { return node_server->port(); }
};

ServerConfig LoopbackConfig(size_t threads) {
  ServerConfig config;
  config.bind = "127.0.0.1";
  config.port = 0;
  config.threads = threads;
  return config;
}

// Step 1: three witnesses (keys and state under dir/witness-N), dir/policy.txt and the node.
Status StartNetwork(Consortium& c, const fs::path& dir, std::ostream& out) {
  const std::string log_vkey = c.tlog().VerifierKey();
  out << "\n1. Three witnesses, a 2-of-3 witness policy and the node, on loopback\n";
  for (int i = 1; i <= 3; ++i) {
    DemoWitness w;
    w.name = "w" + std::to_string(i);
    const std::string wdir = (dir / ("witness-" + std::to_string(i))).string();
    PEDIGREE_ASSIGN(
        vkey, log::Witness::Init(wdir, "witness-" + std::to_string(i) + ".demo.pedigree.example"));
    w.vkey = *vkey;
    PEDIGREE_ASSIGN(logged, log::ParseWitnessedLog(log_vkey));
    PEDIGREE_ASSIGN(opened, log::Witness::Open(wdir, {*logged}));
    w.witness = *std::move(opened);
    Router router;
    PEDIGREE_TRY(AddWitnessRoutes(router, *w.witness));
    PEDIGREE_ASSIGN(server, HttpServer::Start(LoopbackConfig(4), std::move(router), nullptr));
    w.server = *std::move(server);
    out << "  " << w.name << "  " << w.url() << "  " << w.vkey << "\n";
    c.witnesses.push_back(std::move(w));
  }

  std::string policy =
      "# pedigree demo --network: the log and its three witnesses\nlog " + log_vkey + "\n";
  for (const DemoWitness& w : c.witnesses) {
    policy += "witness " + w.name + " " + w.vkey + " " + w.url() + "\n";
  }
  policy += "group quorum 2 w1 w2 w3\nquorum quorum\n";
  const fs::path policy_path = dir / "policy.txt";
  PEDIGREE_TRY(WriteFile(policy_path, policy));
  PEDIGREE_ASSIGN(parsed, log::ParsePolicy(policy));
  c.policy = *parsed;
  out << "  policy " << policy_path.string() << ": quorum " << log::DescribeQuorum(c.policy)
      << "\n";

  PEDIGREE_ASSIGN(tokens, TokenStore::Open((dir / "tokens.db").string()));
  c.tokens = *std::move(tokens);
  c.client_log.open(dir / "witness-client.log", std::ios::app);
  auto config = LoopbackConfig(8);
  config.metrics = std::make_shared<MetricsRegistry>();
  WitnessClientOptions wo;
  wo.policy = c.policy;
  wo.metrics = config.metrics;
  wo.log = &c.client_log;
  PEDIGREE_ASSIGN(client, WitnessClient::Start(c.tlog(), std::move(wo)));
  c.client = *std::move(client);
  ApiOptions api_options;
  api_options.witness_client = c.client.get();
  Router router;
  PEDIGREE_TRY(AddApiRoutes(router, *c.ledger.node, api_options));
  PEDIGREE_ASSIGN(server, HttpServer::Start(config, std::move(router), c.tokens.get()));
  c.node_server = *std::move(server);
  out << "  node " << Url(c.node_port()) << "  log " << log_vkey << "\n"
      << "  (the node's witness client logs refusals to " << (dir / "witness-client.log").string()
      << ")\n";
  return Ok();
}

// The published checkpoint once it covers `size` entries and meets the quorum, as anyone
// reading GET /v1/log/checkpoint sees it; an error after kWitnessedWait.
Result<std::pair<std::string, log::QuorumEvaluation>> AwaitWitnessed(Consortium& c, uint64_t size) {
  const auto deadline = std::chrono::steady_clock::now() + kWitnessedWait;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = Http("GET", c.node_port(), "/v1/log/checkpoint");
    if (got && got->status == 200) {
      auto quorum = log::EvaluateQuorum(c.policy, got->body);
      auto text = got->body.substr(0, got->body.find("\n\n") + 1);
      auto checkpoint = log::ParseCheckpoint(text);
      if (quorum && checkpoint && quorum->met && checkpoint->size >= size &&
          got->witnessed == "true") {
        return std::pair{got->body, *quorum};
      }
      last = "size " + (checkpoint ? std::to_string(checkpoint->size) : "?") + ", " +
             std::to_string(quorum ? quorum->cosigned.size() : 0) + " cosignatures";
    } else if (got) {
      last = "HTTP " + std::to_string(got->status) + " " + got->body.substr(0, 200);
    } else {
      last = got.error().message();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string witnesses;
  for (const WitnessStatus& s : c.client->Witnesses()) {
    witnesses += " " + s.name + " size " + std::to_string(s.size) +
                 (s.last_error.empty() ? "" : " (" + s.last_error + ")") + ";";
  }
  return Fail("demo.unexpected", "the published checkpoint did not reach size " +
                                     std::to_string(size) + " with a quorum of " +
                                     log::DescribeQuorum(c.policy) + " within " +
                                     std::to_string(kWitnessedWait.count()) +
                                     " s; last seen: " + last + "; witnesses:" + witnesses);
}

// The node's fork: a checkpoint of `size` whose tree has the last entry replaced, signed with
// the log's own key (which the operator holds). Its root differs from the witnessed one;
// every signature on it is genuine.
Result<std::string> ForkedCheckpoint(Consortium& c, uint64_t size) {
  PEDIGREE_ASSIGN(inclusion, c.tlog().ProveInclusion(size - 1, size));
  const Hash rewritten = log::LeafHash(std::string_view("a rewritten last entry"));
  PEDIGREE_ASSIGN(root, log::RootFromInclusionProof(size - 1, size, rewritten, inclusion->path));
  PEDIGREE_ASSIGN(key,
                  log::PrivateKey::LoadPem((fs::path(c.tlog().dir()) / log::kLogKeyFile).string()));
  log::NoteSigner signer(c.tlog().origin(), *std::move(key));
  return log::SignNote(log::FormatCheckpoint({c.tlog().origin(), size, *root}), signer);
}

// The evidence files the monitor wrote under `dir` (sorted by name).
std::vector<fs::path> EvidenceFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The mirror's organisation in the registry and its cosigner key name.
constexpr const char* kMirrorOrg = "audit-mirror";
constexpr const char* kMirrorName = "mirror.demo.pedigree.example";

// Registers the mirror's organisation with the role `mirror`, signed by the consortium
// authority as the scenario registers the others: the node grants a token only roles the
// registry gives, and the mirror, replaying the registry, knows itself by this entry.
Status RegisterMirrorOrg(Consortium& c) {
  log::PrivateKey key = log::PrivateKey::Generate();
  PEDIGREE_TRY(c.ledger.node->HoldKey(kMirrorOrg, key));
  PEDIGREE_ASSIGN(
      index, c.ledger.node->RegisterOrg(c.ledger.authority, {kMirrorOrg,
                                                             "Consortium audit mirror",
                                                             {"mirror"},
                                                             {},
                                                             {},
                                                             ToBase64(key.public_key().raw())}));
  (void)index;
  return Ok();
}

// `text` in a new file `path` of mode 0600 (a token: readable by its owner only from the
// start, as the remote client's --token-file check demands).
Status WriteSecret(const fs::path& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(Error("cli.io", "cannot create " + path.string()).at_field("dir"));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return Fail(Error("cli.io", "cannot write " + path.string()).at_field("dir"));
  return Ok();
}

// The replica's options for the supply-chain log, as `mirror serve` opens it: the provenance
// rules (their state in c.mirror_state), the authority key read from the replica's own
// metadata, recorded by `mirror init`.
log::ReplicaOptions MirrorOptions(Consortium& c) {
  log::LedgerOptions rules = provenance::ProvenanceLedgerOptions(c.mirror_state, [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  });
  log::ReplicaOptions options;
  options.attach = std::move(rules.attach);
  options.model = rules.model;
  return options;
}

// What the mirror showed once synchronised (step 2).
struct MirrorReport {
  uint64_t size = 0;
  bool verified = false;  // holds the witnessed size, cosigned it, serves it, rules agree
};

// "(01)GTIN(21)SERIAL" -> {GTIN, SERIAL}; empty when the code has another form.
std::pair<std::string, std::string> GtinAndSerial(const std::string& code) {
  if (!code.starts_with("(01)")) return {};
  const size_t serial = code.find("(21)");
  if (serial == std::string::npos) return {};
  return {code.substr(4, serial - 4), code.substr(serial + 4)};
}

// Step 2, the mirror: `mirror init` in dir/mirror with the authority's public key (so it
// replays the provenance rules), `mirror sync` from the node with a token of the mirror role,
// then the copy opened and served on loopback as `mirror serve` serves it. Checks that it
// holds and cosigns `witnessed_size`, that its replayed state agrees with the node's for
// `pack_code`, and that it serves the log's checkpoint with its cosignature; adds its URL to
// c.mirror_urls. An error only when a step cannot run at all; a mirror that runs but
// disagrees is reported as not verified.
Result<MirrorReport> StartMirror(Consortium& c, const fs::path& dir, uint64_t witnessed_size,
                                 const std::string& witnessed_note, const std::string& pack_code,
                                 std::ostream& out) {
  const fs::path mirror_dir = dir / "mirror";
  const fs::path token_path = dir / "mirror.token";
  PEDIGREE_ASSIGN(token, c.tokens->Issue(kMirrorOrg, {"mirror"}, "demo --network mirror"));
  PEDIGREE_TRY(WriteSecret(token_path, *token));
  out << "  the node issues " << kMirrorOrg << " a token of role mirror: " << token_path.string()
      << " (mode 0600)\n";

  const std::string authority = ToBase64(c.ledger.authority.public_key().raw());
  std::string printed;
  const std::vector<std::string> init = {"mirror",
                                         "init",
                                         "--dir",
                                         mirror_dir.string(),
                                         "--name",
                                         kMirrorName,
                                         "--log",
                                         (fs::path(c.tlog().dir()) / "log.vkey").string(),
                                         "--authority-public-key",
                                         authority};
  int rc = RunCommand(MirrorCommands(), init, printed);
  out << "  $ pedigree mirror init --dir " << mirror_dir.string() << " --name " << kMirrorName
      << " --log " << init[7] << " --authority-public-key " << authority << "   (exit " << rc
      << ")\n"
      << Indent(printed);
  if (rc != 0) return Fail("demo.unexpected", "mirror init failed: " + printed);
  const std::string mirror_vkey = printed.substr(0, printed.find('\n'));

  const std::vector<std::string> sync = {"mirror",       "sync",
                                         "--dir",        mirror_dir.string(),
                                         "--from",       Url(c.node_port()),
                                         "--token-file", token_path.string()};
  rc = RunCommand(MirrorCommands(), sync, printed);
  out << "  $ pedigree mirror sync --dir " << mirror_dir.string() << " --from "
      << Url(c.node_port()) << " --token-file " << token_path.string() << "   (exit " << rc << ")\n"
      << Indent(printed);
  if (rc != 0) return Fail("demo.unexpected", "mirror sync failed: " + printed);

  // Open the copy as `mirror serve` does: the model its database records, with the rules.
  PEDIGREE_ASSIGN(replica, log::Replica::Open(mirror_dir.string(), MirrorOptions(c)));
  c.mirror = *std::move(replica);
  PEDIGREE_ASSIGN(latest, c.mirror->LatestCheckpoint());
  PEDIGREE_ASSIGN(tokens, TokenStore::Open((mirror_dir / "tokens.db").string()));
  c.mirror_tokens = *std::move(tokens);
  Router router;
  PEDIGREE_TRY(AddMirrorRoutes(router, *c.mirror));
  PEDIGREE_ASSIGN(server,
                  HttpServer::Start(LoopbackConfig(4), std::move(router), c.mirror_tokens.get()));
  c.mirror_server = *std::move(server);
  const std::string url = Url(c.mirror_server->port());
  c.mirror_urls.push_back(url);

  MirrorReport report;
  report.size = c.mirror->size();
  // Its cosignature: the served checkpoint must be the witnessed tree, signed by the log and
  // cosigned by the mirror's key (cosignature/v1).
  auto served = Http("GET", c.mirror_server->port(), "/v1/log/checkpoint");
  PEDIGREE_ASSIGN(log_key, log::NoteVerifier::Parse(c.tlog().VerifierKey()));
  PEDIGREE_ASSIGN(mirror_key, log::NoteVerifier::Parse(mirror_vkey));
  const std::vector<log::NoteVerifier> keys = {*log_key, *mirror_key};
  bool cosigned = false, same_tree = false;
  std::string cosignature;
  if (served && served->status == 200) {
    if (auto opened = log::OpenNote(served->body, keys)) {
      for (const log::VerifiedSignature& v : opened->verified) {
        cosigned = cosigned || (v.verifier_index == 1 && v.timestamp.has_value());
      }
      same_tree = opened->text == witnessed_note.substr(0, witnessed_note.find("\n\n") + 1);
    }
    std::istringstream lines(served->body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(std::string("\u2014 ") + kMirrorName + " ")) cosignature = line;
    }
  }
  // The rules replayed: the mirror's derived tables, built by its own run of the provenance
  // rules over every entry, agree with the node's for the scenario's pack and name the
  // mirror's organisation with its role.
  const auto [gtin, serial] = GtinAndSerial(pack_code);
  auto node_view =
      provenance::ProvenanceView::Open((fs::path(c.tlog().dir()) / log::kLedgerDbFile).string());
  auto mirror_view = provenance::ProvenanceView::Open((mirror_dir / log::kLedgerDbFile).string());
  bool rules_agree = false;
  size_t pack_events = 0;
  std::string mirror_roles = "none";
  if (node_view && mirror_view) {
    auto node_history = (*node_view)->PackHistory(gtin, serial);
    auto mirror_history = (*mirror_view)->PackHistory(gtin, serial);
    auto roles = (*mirror_view)->OrgRoles(kMirrorOrg);
    rules_agree = node_history && mirror_history && *node_history == *mirror_history &&
                  !mirror_history->empty() && roles && *roles == std::vector<std::string>{"mirror"};
    pack_events = mirror_history ? mirror_history->size() : 0;
    if (roles && !roles->empty()) {
      mirror_roles.clear();
      for (const std::string& r : *roles) mirror_roles += (mirror_roles.empty() ? "" : ", ") + r;
    }
  }
  report.verified =
      report.size == witnessed_size && latest && *latest && cosigned && same_tree && rules_agree;
  out << "  mirror " << url << " (served from " << mirror_dir.string() << ")\n"
      << "    holds " << report.size << " entries: every entry's signature and the tree checked "
      << "against the log's checkpoint of size " << witnessed_size << "\n"
      << "    provenance rules replayed over all " << report.size << " entries: "
      << (rules_agree ? "its state agrees with the node's" : "its state does NOT agree")
      << " (pack " << pack_code << ": " << pack_events << " events; " << kMirrorOrg
      << " has roles: " << mirror_roles << ")\n"
      << "    serves the witnessed checkpoint " << (same_tree ? "" : "NOT ") << "with its "
      << (cosigned ? "valid " : "MISSING ") << "cosignature:\n"
      << "      " << (cosignature.empty() ? "(none)" : cosignature) << "\n";
  return report;
}

// Step 5, the mirror's side: it is closed (the copy's lock released, as `mirror serve` stops)
// and `mirror sync` is run from the rogue copy serving the fork. The mirror must refuse with
// mirror.root_mismatch or mirror.conflict and keep its copy: reopened, the same size and root.
// True when it did.
bool MirrorRefusesFork(Consortium& c, const fs::path& dir, std::ostream& out) {
  const fs::path mirror_dir = dir / "mirror";
  const uint64_t size = c.mirror->size();
  const Hash root = c.mirror->root();
  c.mirror_server->Stop();
  c.mirror_server.reset();
  c.mirror.reset();
  std::string printed;
  const std::string rogue = Url(c.rogue_server->port());
  const int rc = RunCommand(MirrorCommands(),
                            {"mirror", "sync", "--dir", mirror_dir.string(), "--from", rogue,
                             "--token-file", (dir / "mirror.token").string()},
                            printed);
  out << "  $ pedigree mirror sync --dir " << mirror_dir.string() << " --from " << rogue
      << " --token-file " << (dir / "mirror.token").string() << "   (exit " << rc << ")\n"
      << "    " << Summary(printed) << "\n";
  // The error the sync failed with, by its code: the fork's root against the mirror's tree.
  const std::string error = Summary(printed);
  const bool refused = rc != 0 && (error.starts_with("mirror.root_mismatch: ") ||
                                   error.starts_with("mirror.conflict: "));
  auto reopened = log::Replica::Open(mirror_dir.string(), MirrorOptions(c));
  const bool kept = reopened && (*reopened)->size() == size && (*reopened)->root() == root;
  out << "  the mirror " << (refused ? "refused the fork" : "did NOT refuse the fork")
      << "; its copy " << (kept ? "is unchanged" : "CHANGED or cannot be opened") << " (size "
      << size << ")\n";
  if (reopened) c.mirror = *std::move(reopened);
  return refused && kept;
}

int Run(const DemoOptions& options, CliIo& io) {
  std::ostream& out = io.out;
  const fs::path dir = options.dir;
  auto fail = [&](const std::string& step, const Error& e) {
    io.out.flush();
    io.err << "pedigree demo --network: " << step << " failed\n";
    PrintError(io.err, e);
    return 1;
  };
  out << "== pedigree demo --network: a consortium on one machine (127.0.0.1 only)\n";
  auto ledger = CreateDemoLedger(options, out);
  if (!ledger) return fail("creating the ledger", ledger.error());
  Consortium c(*std::move(ledger));
  if (auto ok = StartNetwork(c, dir, out); !ok) return fail("step 1", ok.error());

  // 2. The scenario, on the node the HTTP API serves; the witness client follows the log.
  out << "\n2. The supply-chain scenario runs on the node while it serves\n";
  std::ostringstream narration;  // indented below, as the scenario numbers its own steps
  auto outcome = RunScenario(c.ledger, options, narration);
  out << Indent(narration.str(), "  | ");
  if (!outcome) return fail("step 2 (the scenario)", outcome.error());
  // The mirror's organisation joins the registry before the checkpoint the witnesses cosign,
  // so the mirror's copy of that checkpoint holds its own registration.
  if (auto ok = RegisterMirrorOrg(c); !ok) {
    return fail("step 2 (the mirror's organisation)", ok.error());
  }
  out << "  the consortium authority registers " << kMirrorOrg << " with the role mirror\n";
  const uint64_t size = c.tlog().size();
  auto witnessed = AwaitWitnessed(c, size);
  if (!witnessed) return fail("step 2 (waiting for the quorum)", witnessed.error());
  const std::string& note = witnessed->first;
  const log::QuorumEvaluation& quorum = witnessed->second;
  const uint64_t witnessed_size = log::ParseCheckpoint(note.substr(0, note.find("\n\n") + 1))->size;
  // The quorum needs two; a moment for the third too, so the monitor (step 4) reads three
  // equal checkpoints. A witness still behind then is no failure: the monitor checks it by a
  // consistency proof, and it refuses the fork with 409 rather than 422.
  for (int i = 0; i < 50; ++i) {
    size_t behind = 0;
    for (const WitnessStatus& s : c.client->Witnesses()) behind += s.size < witnessed_size ? 1 : 0;
    if (behind == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string cosigners;
  for (const std::string& n : quorum.cosigned) cosigners += (cosigners.empty() ? "" : ", ") + n;
  const bool witnessed_ok = quorum.met && quorum.cosigned.size() >= 2;
  out << "  the log holds " << size << " entries; the published checkpoint is cosigned by "
      << cosigners << " (" << quorum.cosigned.size() << " of 3, quorum " << quorum.requirement
      << ")\n";

  // The mirror: a consortium member's verified copy, synchronised from the node to the
  // witnessed size and served on loopback; the monitor reads it in steps 4 and 5.
  out << "  a mirror joins: its own verified copy of the log\n";
  auto mirror = StartMirror(c, dir, witnessed_size, note, outcome->pack_code, out);
  if (!mirror) return fail("step 2 (the mirror)", mirror.error());
  out << "  mirror holds " << mirror->size << " entries, verified "
      << (mirror->verified ? "\u2713" : "\u2717") << "\n";

  // 3. The cosigned checkpoint, and a bundle verified offline against the policy.
  out << "\n3. The cosigned checkpoint (GET /v1/log/checkpoint) and offline verification\n"
      << Indent(note);
  auto token = c.tokens->Issue(outcome->pack_maker, {"manufacturer"}, "demo --network");
  if (!token) return fail("step 3 (a token)", token.error());
  std::string query = outcome->pack_code;
  for (std::string from : {"(", ")"}) {
    for (size_t at; (at = query.find(from)) != std::string::npos;) {
      query.replace(at, 1, from == "(" ? "%28" : "%29");
    }
  }
  auto bundle = Http("GET", c.node_port(), "/v1/bundles/pack?code=" + query, "", *token);
  if (!bundle || bundle->status != 200) {
    return fail("step 3 (the bundle)",
                bundle ? Error("demo.unexpected", "GET /v1/bundles/pack answered " +
                                                      std::to_string(bundle->status) + " " +
                                                      bundle->body.substr(0, 300))
                       : bundle.error());
  }
  const fs::path bundle_path = dir / "pack.bundle.json";
  if (auto ok = WriteFile(bundle_path, bundle->body); !ok) return fail("step 3", ok.error());
  const std::string policy_path = (dir / "policy.txt").string();
  std::string printed;
  int rc = RunCommand(ReportCommands(),
                      {"verify-bundle", bundle_path.string(), "--policy", policy_path}, printed);
  const bool offline_ok = rc == 0 && printed.starts_with("VERIFIED");
  out << "  pack " << outcome->pack_code << ": bundle " << bundle_path.string() << "\n"
      << "  $ pedigree verify-bundle " << bundle_path.string() << " --policy " << policy_path
      << "   (exit " << rc << ")\n";
  // The verdict and the checkpoint checks; the full report is verify-bundle's to print.
  std::istringstream report(printed);
  for (std::string line; std::getline(report, line);) {
    if (line.starts_with("VERIFIED") || line.starts_with("SUSPECT") || line.starts_with("FAILED") ||
        line.find(" checkpoint.") != std::string::npos) {
      out << "    " << line << "\n";
    }
  }

  // 4. The monitor over the log, the witnesses and the mirrors: consistent.
  out << "\n4. The monitor: log, the witnesses' monitoring endpoints and the mirrors\n";
  const fs::path monitor_dir = dir / "monitor";
  std::vector<std::string> monitor = {"monitor",
                                      "--log",
                                      Url(c.node_port()),
                                      "--log-key",
                                      (fs::path(c.tlog().dir()) / "log.vkey").string(),
                                      "--state",
                                      monitor_dir.string(),
                                      "--once"};
  for (const DemoWitness& w : c.witnesses) {
    monitor.insert(monitor.end(), {"--witness", w.name + "=" + w.url()});
  }
  for (const std::string& m : c.mirror_urls) monitor.insert(monitor.end(), {"--mirror", m});
  rc = RunCommand(MonitorCommands(), monitor, printed);
  const bool consistent = rc == 0;
  out << Indent(printed) << "  monitor exit " << rc
      << (consistent ? ": consistent" : ": NOT consistent") << "\n";

  // 5. The fork: another tree of the witnessed size, signed with the log key.
  out << "\n5. The node tries to fork: size " << witnessed_size
      << " again, last entry rewritten, signed with the log key\n";
  auto log_key = log::NoteVerifier::Parse(c.tlog().VerifierKey());
  if (!log_key) return fail("step 5 (the log key)", log_key.error());
  auto fork = ForkedCheckpoint(c, witnessed_size);
  if (!fork) return fail("step 5 (signing the fork)", fork.error());
  out << Indent(*fork);
  size_t refused = 0;
  for (const DemoWitness& w : c.witnesses) {
    auto answer = Http("POST", w.server->port(), "/add-checkpoint",
                       log::FormatAddCheckpoint(witnessed_size, {}, *fork));
    if (!answer) return fail("step 5 (posting the fork)", answer.error());
    const bool no = answer->status == 409 || answer->status == 422;
    refused += no ? 1 : 0;
    out << "  " << w.name << " answered " << answer->status << " " << Summary(answer->body)
        << (no ? "  (refused)" : "  (NOT REFUSED)") << "\n";
  }
  // A rogue copy that serves the forked checkpoint where a mirror serves its own: what a
  // victim of the split view would be shown.
  Router rogue;
  const std::string forked = *fork;
  if (auto ok = rogue.Add("GET", "/v1/log/checkpoint", Access::Public(),
                          [forked](const HttpRequest&) {
                            HttpResponse r;
                            r.content_type = "text/plain; charset=utf-8";
                            r.body = forked;
                            return r;
                          });
      !ok) {
    return fail("step 5", ok.error());
  }
  // It knows the node's tokens (it is the operator's own), so the mirror's token opens it.
  auto rogue_server = HttpServer::Start(LoopbackConfig(2), std::move(rogue), c.tokens.get());
  if (!rogue_server) return fail("step 5 (the rogue copy)", rogue_server.error());
  c.rogue_server = *std::move(rogue_server);
  out << "  a rogue copy at " << Url(c.rogue_server->port())
      << " shows the forked checkpoint; the monitor reads it as a mirror:\n";
  monitor.insert(monitor.end(), {"--mirror", Url(c.rogue_server->port())});
  rc = RunCommand(MonitorCommands(), monitor, printed);
  out << Indent(printed);
  bool evidence_ok = false;
  const std::vector<fs::path> evidence = EvidenceFiles(monitor_dir / "evidence");
  for (const fs::path& path : evidence) {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto json = ParseJson(text);
    auto field = [&](const char* side, const char* key) {
      const JsonValue* o = json && json->is_object() ? json->find(side) : nullptr;
      const JsonValue* v = o && o->is_object() ? o->find(key) : nullptr;
      return v && v->is_string() ? v->as_string() : std::string();
    };
    const JsonValue* kind = json && json->is_object() ? json->find("kind") : nullptr;
    if (kind && kind->is_string() && kind->as_string() == "two_roots_for_one_size" &&
        (field("a", "note") == forked || field("b", "note") == forked)) {
      // The evidence stands on its own: both notes open under the log's public key alone,
      // so anyone can see the operator signed two trees of one size.
      const std::vector<log::NoteVerifier> key{*log_key};
      auto a = log::OpenNote(field("a", "note"), key);
      auto b = log::OpenNote(field("b", "note"), key);
      evidence_ok = rc == 4 && a && b;
      out << "  monitor exit " << rc << ": split view (two roots for size " << witnessed_size
          << "); evidence " << path.string() << "\n"
          << "  both of its notes " << (a && b ? "verify" : "do NOT verify")
          << " under the log key alone\n";
    }
  }
  if (!evidence_ok) out << "  monitor exit " << rc << ": NO split-view evidence of the fork\n";
  out << "  the rogue copy offered to the mirror as the node it syncs from:\n";
  const bool mirror_refused = MirrorRefusesFork(c, dir, out);

  // 6. Stop everything (in the order Consortium declares), then the verdict.
  c.rogue_server.reset();
  if (c.mirror_server) c.mirror_server->Stop();
  c.mirror.reset();
  c.node_server->Stop();
  for (DemoWitness& w : c.witnesses) w.server->Stop();
  out << "\n6. Every server stopped\n";
  auto mark = [](bool ok) { return ok ? "\u2713" : "\u2717"; };
  const size_t sources = 1 + c.witnesses.size() + c.mirror_urls.size();
  out << "witnessed " << quorum.cosigned.size() << "-of-3 " << mark(witnessed_ok)
      << ", offline verification " << mark(offline_ok) << ", mirror holds " << mirror->size
      << " entries, verified " << mark(mirror->verified) << ", fork refused by " << refused << "/3 "
      << mark(refused == 3) << " and the mirror " << mark(mirror_refused)
      << ", monitor consistent over " << sources << " sources " << mark(consistent)
      << ", monitor evidence " << mark(evidence_ok) << "\n";
  return witnessed_ok && offline_ok && mirror->verified && refused == 3 && mirror_refused &&
                 consistent && evidence_ok
             ? 0
             : 1;
}

}  // namespace

int RunNetworkDemo(const DemoOptions& options, CliIo& io) { return Run(options, io); }

}  // namespace pedigree::services
