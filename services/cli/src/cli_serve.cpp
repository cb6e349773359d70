// `pedigree serve` (the HTTP API over a supply-chain ledger) and `pedigree token`.
#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli_cluster.h"
#include "cli_common.h"
#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/token_grants.h"
#include "pedigree/usecases/trial_store.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

// The PostgreSQL database the directory records (D/storage, docs/storage.md); empty for
// SQLite.
std::string RecordedStorage(const std::string& dir) {
  std::ifstream recorded(dir + "/storage");
  std::string url;
  if (recorded && std::getline(recorded, url) && !url.empty()) return url;
  return {};
}

// The node's tokens: tokens.db in its directory, or its PostgreSQL database when the
// directory records one.
std::string TokensPath(const std::string& dir) {
  std::string url = RecordedStorage(dir);
  return url.empty() ? dir + "/tokens.db" : url;
}

// Settings come from, in rising precedence: defaults, the config file (`key = value`
// lines, # comments), PEDIGREE_<KEY> environment variables, command-line options.
struct ServeSettings {
  std::map<std::string, std::string> values = {
      {"bind", "127.0.0.1"},
      {"port", "8080"},
      {"threads", "32"},
      // The event-driven front (docs/api.md, "Limits"): requests waiting for a worker
      // thread, event loops (0: one per core), the request deadlines in seconds and the
      // open connections per client address (0: no cap).
      {"max_queued", "256"},
      {"io_threads", "0"},
      {"header_timeout", "10"},
      {"body_timeout", "60"},
      {"max_connections_per_address", "256"},
      // Audits, report builds and dataset uploads run on their own small pool.
      {"expensive_threads", "2"},
      {"expensive_queued", "8"},
      {"max_body_bytes", "1048576"},
      {"rate_limit", "0"},
      {"tls_cert", ""},
      {"tls_key", ""},
      {"responder_gln", ""},
      {"access_log", ""},
      // The sponsor's off-ledger trial record store (SQLite file); empty = none, and the
      // trial endpoints that need records answer 409 trial.no_store.
      {"sponsor_store", ""},
      {"max_dataset_bytes", "268435456"},
      // The organisation that runs this node: the only one whose tokens may hold the
      // node-local role admin (docs/api.md, "Authentication"); empty = nobody.
      {"operator_org", ""},
      // Alerts recorded per (refused organisation, alert code) per hour (docs/alerts.md,
      // "Rate limit"); further refusals are answered but not recorded.
      {"alert_limit", "10"},
      // How far an event's own time may lie ahead of / behind the log's sequencing time
      // (docs/operations.md, "Event time"), in seconds.
      {"time_future_skew", "300"},
      {"time_offline_buffer", "259200"},
      // A C2SP tlog-policy file: the witnesses to ask for cosignatures and the quorum a
      // checkpoint needs before GET /v1/log/checkpoint publishes it (docs/witness.md).
      {"witness_policy", ""},
      {"witness_timeout_ms", "1000"},
      {"witness_fail_open", "false"},
      // The web app's sessions (docs/web.md, "Sessions"), in seconds: ended after this
      // long without a request, and this long after sign-in whatever the use.
      {"session_idle_timeout", "1800"},
      {"session_lifetime", "43200"},
      // Several nodes on one PostgreSQL database (docs/deployment.md): the URL other nodes
      // forward writes to while this one leads (empty: http(s)://bind:port), and how often a
      // follower looks for a free sequencer lease, in milliseconds.
      {"advertise_url", ""},
      {"lease_poll_ms", "500"},
  };
};

// What each setting means, for `serve --help` and pedigree.conf.example (in the order shown).
struct SettingHelp {
  const char* key;
  const char* meaning;
};
constexpr SettingHelp kSettingHelp[] = {
    {"bind", "address to listen on"},
    {"port", "TCP port (0: any free port)"},
    {"threads", "worker threads running requests, 1..1024"},
    {"max_queued", "requests waiting for a worker; one more gets 503 (1..1000000)"},
    {"io_threads", "event loops serving the connections (0: one per core)"},
    {"header_timeout", "seconds a request head may take to arrive (408 after)"},
    {"body_timeout", "seconds a request body may take to arrive (408 after)"},
    {"max_connections_per_address", "open connections per client address (0: no cap)"},
    {"expensive_threads", "threads for audits, report builds and dataset uploads"},
    {"expensive_queued", "expensive requests waiting; one more gets 503 (1..1000000)"},
    {"tls_cert", "PEM certificate chain; with tls_key serves HTTPS"},
    {"tls_key", "PEM private key of tls_cert"},
    {"max_body_bytes", "largest request body accepted"},
    {"max_dataset_bytes", "largest trial dataset upload accepted"},
    {"rate_limit", "requests per second per token, burst one second (0: off)"},
    {"access_log", "file to append one line per request to (empty: none)"},
    {"responder_gln", "GLN this node answers verification requests as"},
    {"sponsor_store", "the sponsor's trial record store, SQLite (empty: none)"},
    {"operator_org", "registry organisation whose tokens may hold the admin role"},
    {"alert_limit", "alerts recorded per refused organisation and code per hour"},
    {"time_future_skew", "seconds an event's time may lie ahead of the log's"},
    {"time_offline_buffer", "seconds an event's time may lie behind the log's"},
    {"witness_policy", "C2SP tlog-policy file of the witnesses to ask (empty: none)"},
    {"witness_timeout_ms", "timeout of each add-checkpoint request, milliseconds"},
    {"witness_fail_open", "true: publish checkpoints without quorum, saying so"},
    {"session_idle_timeout", "web app session ends after this many seconds unused"},
    {"session_lifetime", "web app session ends this many seconds after sign-in"},
    {"advertise_url", "URL other nodes on the database forward writes to (PostgreSQL)"},
    {"lease_poll_ms", "milliseconds between a follower's looks for a free lease"},
};

std::string SettingNames(const ServeSettings& s) {
  std::string names;
  for (const auto& [k, v] : s.values) names += (names.empty() ? "" : ", ") + k;
  return names;
}

Status LoadConfigFile(const std::string& path, ServeSettings& s) {
  std::ifstream in(path);
  if (!in)
    return Fail(Error("config.not_found", "cannot read config file " + path).at_field("config"));
  std::string line;
  for (uint64_t n = 1; std::getline(in, line); ++n) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    auto trim = [](std::string t) {
      t.erase(0, t.find_first_not_of(" \t\r"));
      t.erase(t.find_last_not_of(" \t\r") + 1);
      return t;
    };
    line = trim(line);
    if (line.empty()) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) {
      return Fail(Error("config.syntax", "expected 'key = value' in " + path).at_line_column(n, 1));
    }
    std::string key = trim(line.substr(0, eq));
    if (!s.values.count(key)) {
      return Fail(Error("config.unknown_key", "unknown setting '" + key + "' in " + path +
                                                  "; the settings are " + SettingNames(s))
                      .at_line_column(n, 1)
                      .at_field(key));
    }
    s.values[key] = trim(line.substr(eq + 1));
  }
  return Ok();
}

// The numeric settings and the values each accepts; every other setting is text.
struct NumberRule {
  const char* key;
  double min, max;
  bool whole;  // an integer, written with digits only
};
constexpr NumberRule kNumberRules[] = {
    {"port", 0, 65535, true},
    {"threads", 1, 1024, true},
    {"max_queued", 1, 1e6, true},
    {"io_threads", 0, 256, true},
    {"header_timeout", 1, 3600, true},
    {"body_timeout", 1, 86400, true},
    {"max_connections_per_address", 0, 1e6, true},
    {"expensive_threads", 1, 256, true},
    {"expensive_queued", 1, 1e6, true},
    {"max_body_bytes", 1, 1LL << 30, true},
    {"max_dataset_bytes", 1, 1LL << 34, true},
    {"rate_limit", 0, 1e6, false},
    {"alert_limit", 0, 1e6, true},
    {"time_future_skew", 0, 86400, true},
    {"time_offline_buffer", 0, 366 * 86400, true},
    {"witness_timeout_ms", 1, 60000, true},
    {"session_idle_timeout", 60, 86400, true},
    {"session_lifetime", 60, 30 * 86400, true},
    {"lease_poll_ms", 50, 60000, true},
};

Error BadValue(const NumberRule& rule, const std::string& value, const std::string& expected) {
  return Error("config.bad_value",
               "setting " + std::string(rule.key) + " is '" + value + "'; expected " + expected)
      .at_field(rule.key);
}

// The setting as a number within its rule's range: digits only for whole numbers, a plain
// decimal (no sign, exponent, nan or inf) otherwise.
Result<double> NumberSetting(const ServeSettings& s, const std::string& key) {
  const NumberRule* rule = nullptr;
  for (const auto& r : kNumberRules) {
    if (key == r.key) rule = &r;
  }
  assert(rule != nullptr);
  const std::string& v = s.values.at(key);
  const std::string range = std::to_string(static_cast<long long>(rule->min)) + " to " +
                            std::to_string(static_cast<long long>(rule->max));
  const std::string expected = (rule->whole ? "a whole number from " : "a number from ") + range;
  const bool digits_only = !v.empty() && std::all_of(v.begin(), v.end(), [&](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (!rule->whole && c == '.');
  });
  if (!digits_only || v.front() == '.' || v.back() == '.' ||
      std::count(v.begin(), v.end(), '.') > 1) {
    return Fail(BadValue(*rule, v, expected));
  }
  double n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(n) || n < rule->min ||
      n > rule->max) {
    return Fail(BadValue(*rule, v, expected));
  }
  return n;
}

Result<size_t> SizeSetting(const ServeSettings& s, const std::string& key) {
  PEDIGREE_ASSIGN(n, NumberSetting(s, key));
  return static_cast<size_t>(*n);
}

// The settings from the config file (--config), the environment and those of `args`'
// options that name a setting; options not parsed into `args` are simply absent.
Status LoadSettings(const Args& args, ServeSettings& settings) {
  if (auto config = args.get("config")) PEDIGREE_TRY(LoadConfigFile(*config, settings));
  for (auto& [k, v] : settings.values) {
    std::string env = "PEDIGREE_" + k;
    std::transform(env.begin(), env.end(), env.begin(), ::toupper);
    if (const char* e = std::getenv(env.c_str())) v = e;
    std::string opt = k;
    std::replace(opt.begin(), opt.end(), '_', '-');
    if (auto cli = args.get(opt)) v = *cli;
  }
  const std::string& fail_open = settings.values["witness_fail_open"];
  if (fail_open != "true" && fail_open != "false") {
    return Fail(Error("config.bad_value",
                      "setting witness_fail_open is '" + fail_open + "'; expected true or false")
                    .at_field("witness_fail_open"));
  }
  if (const std::string& url = settings.values["advertise_url"]; !url.empty()) {
    const bool http = url.starts_with("http://") || url.starts_with("https://");
    if (!http || url.find_first_of(" \t\r\n?#") != std::string::npos || url.back() == '/') {
      return Fail(Error("config.bad_value", "setting advertise_url is '" + url +
                                                "'; expected http(s)://host:port without a "
                                                "path's trailing slash, query or fragment")
                      .at_field("advertise_url"));
    }
  }
  const std::string& op = settings.values["operator_org"];
  if (!op.empty() && !IsRegistryOrgId(op)) {
    return Fail(Error("config.bad_value",
                      "setting operator_org is '" + op + "'; expected a registry organisation id")
                    .at_field("operator_org"));
  }
  return Ok();
}

int Serve(const std::vector<std::string>& argv, CliIo& io) {
  std::set<std::string> options = {"dir", "config"};
  ServeSettings settings;
  for (const auto& [k, v] : settings.values) {
    std::string opt = k;
    std::replace(opt.begin(), opt.end(), '_', '-');
    options.insert(opt);
  }
  auto args = Args::Parse(argv, 1, options, {"check"});
  if (!args) return PrintError(io.err, args.error());
  if (auto ok = LoadSettings(*args, settings); !ok) return PrintError(io.err, ok.error());
  ServerConfig config;
  config.bind = settings.values["bind"];
  auto port = SizeSetting(settings, "port");
  auto threads = SizeSetting(settings, "threads");
  auto max_body = SizeSetting(settings, "max_body_bytes");
  auto max_dataset = SizeSetting(settings, "max_dataset_bytes");
  for (auto* r : {&port, &threads, &max_body, &max_dataset}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  auto rate_limit = NumberSetting(settings, "rate_limit");
  if (!rate_limit) return PrintError(io.err, rate_limit.error());
  auto alert_limit = NumberSetting(settings, "alert_limit");
  if (!alert_limit) return PrintError(io.err, alert_limit.error());
  auto future_skew = SizeSetting(settings, "time_future_skew");
  auto offline_buffer = SizeSetting(settings, "time_offline_buffer");
  auto witness_timeout = SizeSetting(settings, "witness_timeout_ms");
  auto session_idle = SizeSetting(settings, "session_idle_timeout");
  auto session_lifetime = SizeSetting(settings, "session_lifetime");
  auto lease_poll = SizeSetting(settings, "lease_poll_ms");
  for (auto* r : {&future_skew, &offline_buffer, &witness_timeout, &session_idle, &session_lifetime,
                  &lease_poll}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  // An idle timeout past the lifetime would never apply: most likely the two were swapped.
  if (*session_idle > *session_lifetime) {
    return PrintError(io.err,
                      Error("config.bad_value", "setting session_idle_timeout is '" +
                                                    settings.values["session_idle_timeout"] +
                                                    "'; expected at most session_lifetime (" +
                                                    settings.values["session_lifetime"] + ")")
                          .at_field("session_idle_timeout"));
  }
  auto max_queued = SizeSetting(settings, "max_queued");
  auto io_threads = SizeSetting(settings, "io_threads");
  auto header_timeout = SizeSetting(settings, "header_timeout");
  auto body_timeout = SizeSetting(settings, "body_timeout");
  auto per_address = SizeSetting(settings, "max_connections_per_address");
  auto expensive_threads = SizeSetting(settings, "expensive_threads");
  auto expensive_queued = SizeSetting(settings, "expensive_queued");
  for (auto* r : {&max_queued, &io_threads, &header_timeout, &body_timeout, &per_address,
                  &expensive_threads, &expensive_queued}) {
    if (!*r) return PrintError(io.err, r->error());
  }
  config.expensive_threads = *expensive_threads;
  config.expensive_queued = *expensive_queued;
  config.max_queued = *max_queued;
  config.io_threads = *io_threads;
  config.header_timeout = std::chrono::seconds(*header_timeout);
  config.body_timeout = std::chrono::seconds(*body_timeout);
  config.max_connections_per_address = *per_address;
  config.port = static_cast<uint16_t>(*port);
  config.threads = *threads;
  config.max_body_bytes = *max_body;
  // Uploads' bodies go to unlinked files next to the ledger: the disk sized for the data.
  config.spool_dir = args->dir();
  config.rate_limit_per_second_per_token = *rate_limit;
  if (!settings.values["tls_cert"].empty()) config.tls_cert_file = settings.values["tls_cert"];
  if (!settings.values["tls_key"].empty()) config.tls_key_file = settings.values["tls_key"];
  std::ofstream access_log;
  if (!settings.values["access_log"].empty()) {
    access_log.open(settings.values["access_log"], std::ios::app);
    config.access_log = &access_log;
  }
  std::optional<log::Policy> witness_policy;
  if (const std::string& path = settings.values["witness_policy"]; !path.empty()) {
    auto text = ReadInput(path, io.in);
    if (!text) return PrintError(io.err, text.error());
    auto parsed = log::ParsePolicy(*text);
    if (!parsed) {
      return PrintError(io.err, parsed.error().at_field("witness_policy").with_context(path));
    }
    witness_policy = std::move(*parsed);
  }
  // --check: the settings are valid; serve nothing (what an operator runs after an edit).
  if (args->has("check")) {
    io.out << "pedigree serve: settings valid\n";
    return 0;
  }

  // Signals are blocked before any thread starts so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // On PostgreSQL the node is one of possibly several on the database, the sequencer or
  // a follower (cli_cluster.h; docs/deployment.md, "Several nodes on one database").
  if (const std::string storage = RecordedStorage(args->dir()); !storage.empty()) {
    const provenance::TimeBounds bounds = {.future_skew = static_cast<int64_t>(*future_skew),
                                           .offline_buffer = static_cast<int64_t>(*offline_buffer)};
    auto tokens = TokenStore::Open(TokensPath(args->dir()));
    if (!tokens) return PrintError(io.err, tokens.error());
    std::unique_ptr<SponsorStore> sponsor_store;
    if (!settings.values["sponsor_store"].empty()) {
      auto opened = SponsorStore::Open(settings.values["sponsor_store"]);
      if (!opened) return PrintError(io.err, opened.error());
      sponsor_store = std::move(*opened);
    }
    ApiOptions api_options;
    api_options.responder_gln = settings.values["responder_gln"];
    api_options.sponsor_store = sponsor_store.get();
    api_options.max_dataset_bytes = *max_dataset;
    config.metrics = std::make_shared<MetricsRegistry>();
    const std::string dir = args->dir();
    const std::string operator_org = settings.values["operator_org"];
    const int64_t alerts = static_cast<int64_t>(*alert_limit);
    const bool fail_open = settings.values["witness_fail_open"] == "true";
    const auto timeout = std::chrono::milliseconds(*witness_timeout);
    ClusterOptions co;
    co.conninfo = storage;
    co.poll = std::chrono::milliseconds(*lease_poll);
    co.log = &std::cerr;
    co.forward_checkpoint = witness_policy.has_value();
    co.open_leader = [&, dir, bounds, alerts]() -> Result<std::unique_ptr<SupplyNode>> {
      PEDIGREE_ASSIGN(opened, SupplyNode::Open(dir, bounds));
      (*opened)->SetAlertLimit(alerts);
      // Before any write: settle submissions a crash (of any leader) left staged.
      if (sponsor_store) PEDIGREE_TRY(TrialWorkflow(**opened, sponsor_store.get()).Reconcile());
      return opened;
    };
    co.open_follower = [dir] { return SupplyNode::OpenReadOnly(dir); };
    co.build = [&, operator_org, fail_open, timeout](ClusterGeneration& gen) -> Status {
      ApiOptions options = api_options;
      // Only the leader asks witnesses; followers forward GET /v1/log/checkpoint to it.
      if (gen.leader && witness_policy) {
        const std::string vkey = gen.node->ledger().VerifierKey();
        if (!witness_policy->logs.empty() &&
            std::none_of(witness_policy->logs.begin(), witness_policy->logs.end(),
                         [&](const log::PolicyLog& l) { return l.key.ToString() == vkey; })) {
          return Fail(Error("config.bad_value",
                            "no log line of the witness_policy names this log's key " + vkey)
                          .at_field("witness_policy"));
        }
        WitnessClientOptions wo;
        wo.policy = *witness_policy;
        wo.timeout = timeout;
        wo.fail_open = fail_open;
        wo.metrics = config.metrics;
        wo.log = &std::cerr;
        PEDIGREE_ASSIGN(started, WitnessClient::Start(gen.node->ledger(), std::move(wo)));
        gen.witness_client = std::move(*started);
        options.witness_client = gen.witness_client.get();
      }
      PEDIGREE_TRY(AddApiRoutes(gen.router, *gen.node, options));
      gen.grants = RegistryGrants(*gen.node, operator_org);
      return Ok();
    };
    auto cluster = ClusterNode::Start(std::move(co));
    if (!cluster) return PrintError(io.err, cluster.error());
    auto router = (*cluster)->Routes();
    if (!router) return PrintError(io.err, router.error());
    if (auto ok = AddWebAppRoutes(*router); !ok) return PrintError(io.err, ok.error());
    config.sessions = SessionPolicy{.idle_timeout = std::chrono::seconds(*session_idle),
                                    .lifetime = std::chrono::seconds(*session_lifetime)};
    config.granted_roles = (*cluster)->Grants();
    ClusterNode* c = cluster->get();
    config.metrics->AddGauge("pedigree_ledger_entries", "Entries in the log", [c] {
      auto gen = c->Current();
      return gen ? static_cast<double>(gen->node->ledger().size()) : 0.0;
    });
    auto server = HttpServer::Start(config, std::move(*router), tokens->get());
    if (!server) return PrintError(io.err, server.error());
    const std::string scheme = (*server)->tls() ? "https" : "http";
    std::string advertise = settings.values["advertise_url"];
    if (advertise.empty()) {
      advertise = scheme + "://" + config.bind + ":" + std::to_string((*server)->port());
    }
    if (auto ok = (*cluster)->Run(advertise); !ok) return PrintError(io.err, ok.error());
    io.out << "pedigree serving " << dir << " on " << scheme << "://" << config.bind << ":"
           << (*server)->port() << "  (log " << (*cluster)->Current()->node->ledger().VerifierKey()
           << ")" << std::endl;
    int signal = 0;
    sigwait(&stop_signals, &signal);
    io.out << "signal " << signal << ": finishing in-flight requests and commits" << std::endl;
    (*server)->Stop();
    cluster->reset();  // the leader's sequencer drains its queue and commits
    sponsor_store.reset();
    io.out << "stopped" << std::endl;
    return 0;
  }

  auto node =
      SupplyNode::Open(args->dir(), {.future_skew = static_cast<int64_t>(*future_skew),
                                     .offline_buffer = static_cast<int64_t>(*offline_buffer)});
  if (!node) return PrintError(io.err, node.error());
  (*node)->SetAlertLimit(static_cast<int64_t>(*alert_limit));
  auto tokens = TokenStore::Open(TokensPath(args->dir()));
  if (!tokens) return PrintError(io.err, tokens.error());
  std::unique_ptr<SponsorStore> sponsor_store;
  if (!settings.values["sponsor_store"].empty()) {
    auto opened = SponsorStore::Open(settings.values["sponsor_store"]);
    if (!opened) return PrintError(io.err, opened.error());
    sponsor_store = std::move(*opened);
    // Before any request: settle submissions a crash left staged (docs/trials.md).
    auto settled = TrialWorkflow(**node, sponsor_store.get()).Reconcile();
    if (!settled) return PrintError(io.err, settled.error());
  }
  ApiOptions api_options;
  api_options.responder_gln = settings.values["responder_gln"];
  api_options.sponsor_store = sponsor_store.get();
  api_options.max_dataset_bytes = *max_dataset;
  config.metrics = std::make_shared<MetricsRegistry>();
  // Off the write path: its own thread asks the witnesses and never holds up an append.
  std::unique_ptr<WitnessClient> witness_client;
  if (witness_policy) {
    const std::string vkey = (*node)->ledger().VerifierKey();
    if (!witness_policy->logs.empty() &&
        std::none_of(witness_policy->logs.begin(), witness_policy->logs.end(),
                     [&](const log::PolicyLog& l) { return l.key.ToString() == vkey; })) {
      return PrintError(io.err,
                        Error("config.bad_value",
                              "no log line of the witness_policy names this log's key " + vkey)
                            .at_field("witness_policy"));
    }
    WitnessClientOptions wo;
    wo.policy = *std::move(witness_policy);
    wo.timeout = std::chrono::milliseconds(*witness_timeout);
    wo.fail_open = settings.values["witness_fail_open"] == "true";
    wo.metrics = config.metrics;
    wo.log = &std::cerr;
    auto started = WitnessClient::Start((*node)->ledger(), std::move(wo));
    if (!started) return PrintError(io.err, started.error());
    witness_client = std::move(*started);
    api_options.witness_client = witness_client.get();
  }
  Router router;
  if (auto ok = AddApiRoutes(router, **node, api_options); !ok) {
    return PrintError(io.err, ok.error());
  }
  if (auto ok = AddWebAppRoutes(router); !ok) return PrintError(io.err, ok.error());
  config.sessions = SessionPolicy{.idle_timeout = std::chrono::seconds(*session_idle),
                                  .lifetime = std::chrono::seconds(*session_lifetime)};
  config.granted_roles = RegistryGrants(**node, settings.values["operator_org"]);
  SupplyNode* n = node->get();
  config.metrics->AddGauge("pedigree_ledger_entries", "Entries in the log",
                           [n] { return static_cast<double>(n->ledger().size()); });
  auto server = HttpServer::Start(config, std::move(router), tokens->get());
  if (!server) return PrintError(io.err, server.error());
  io.out << "pedigree serving " << args->dir() << " on " << ((*server)->tls() ? "https" : "http")
         << "://" << config.bind << ":" << (*server)->port() << "  (log "
         << (*node)->ledger().VerifierKey() << ")" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  io.out << "signal " << signal << ": finishing in-flight requests and commits" << std::endl;
  (*server)->Stop();
  witness_client.reset();
  node->reset();  // the sequencer drains its queue and commits before the ledger closes
  sponsor_store.reset();
  io.out << "stopped" << std::endl;
  return 0;
}

// The registry roles of `org` on the node's ledger, read without opening the ledger for
// writing (a running `serve` holds it). An organisation the registry does not know has none.
// On PostgreSQL the directory records the database in D/storage (docs/storage.md).
Result<std::vector<std::string>> RegistryRoles(const std::string& dir, const std::string& org) {
  std::string db = dir + "/" + log::kLedgerDbFile;
  std::ifstream recorded(dir + "/storage");
  std::string url;
  if (recorded && std::getline(recorded, url) && !url.empty()) {
    db = url;
  } else if (!std::filesystem::exists(db)) {
    return Fail(Error("storage.io", "no supply-chain ledger in " + dir).at_field("dir"));
  }
  PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(db));
  return (*view)->OrgRoles(org);
}

int TokenIssue(const std::vector<std::string>& argv, CliIo& io) {
  auto args =
      Args::Parse(argv, 2, {"dir", "org", "roles", "label", "config", "operator-org"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto org = args->required("org");
  auto roles = args->required("roles");
  if (!org) return PrintError(io.err, org.error());
  if (!roles) return PrintError(io.err, roles.error());
  ServeSettings settings;
  if (auto ok = LoadSettings(*args, settings); !ok) return PrintError(io.err, ok.error());
  std::set<std::string> role_set;
  std::stringstream in(*roles);
  for (std::string r; std::getline(in, r, ',');) {
    if (!r.empty()) role_set.insert(r);
  }
  // Everything is checked against the registry before the token store is even opened,
  // so a refused request writes nothing; the id is checked before it reaches a query.
  std::vector<std::string> registry_roles;
  if (IsRegistryOrgId(*org)) {
    auto read = RegistryRoles(args->dir(), *org);
    if (!read) return PrintError(io.err, read.error());
    registry_roles = std::move(*read);
  }
  if (auto ok = CheckTokenGrant(*org, role_set, registry_roles, settings.values["operator_org"]);
      !ok) {
    return PrintError(io.err, ok.error());
  }
  auto store = TokenStore::Open(TokensPath(args->dir()));
  if (!store) return PrintError(io.err, store.error());
  auto token = (*store)->Issue(*org, role_set, args->get("label").value_or(""));
  if (!token) return PrintError(io.err, token.error());
  auto out = JsonValue::Object();
  out.set("org", JsonValue(*org));
  out.set("token", JsonValue(*token));
  out.set("note", JsonValue("shown once; only its hash is stored"));
  PrintJson(io.out, out);
  return 0;
}

int TokenRevoke(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "id"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto id = args->required("id");
  if (!id) return PrintError(io.err, id.error());
  auto store = TokenStore::Open(TokensPath(args->dir()));
  if (!store) return PrintError(io.err, store.error());
  if (auto ok = (*store)->Revoke(*id); !ok) return PrintError(io.err, ok.error());
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object().set("revoked", JsonValue(*id)));
  } else {
    io.out << "revoked " << *id << "\n";
  }
  return 0;
}

int TokenList(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "org"}, {"json"});
  if (!args) return PrintError(io.err, args.error());
  auto store = TokenStore::Open(TokensPath(args->dir()));
  if (!store) return PrintError(io.err, store.error());
  auto list = (*store)->List(args->get("org"));
  if (!list) return PrintError(io.err, list.error());
  auto out = JsonValue::Array();
  for (const auto& t : *list) {
    auto e = JsonValue::Object();
    e.set("id", JsonValue(t.token_id));
    e.set("org", JsonValue(t.org_id));
    auto roles = JsonValue::Array();
    for (const auto& r : t.roles) roles.push_back(JsonValue(r));
    e.set("roles", roles);
    e.set("label", JsonValue(t.label));
    e.set("revoked", JsonValue(t.revoked_at.has_value()));
    out.push_back(e);
  }
  PrintJson(io.out, out);
  return 0;
}

// `serve --help`: every setting as its option, with its default.
std::string ServeOptionsHelp() {
  ServeSettings defaults;
  std::string text = kDirHelp +
                     "  --config FILE  settings file, 'key = value' lines, # comments\n"
                     "                 (see pedigree.conf.example)\n"
                     "  --check        check the settings and exit, serving nothing\n";
  for (const SettingHelp& h : kSettingHelp) {
    std::string opt = h.key;
    std::replace(opt.begin(), opt.end(), '_', '-');
    std::string env = "PEDIGREE_" + std::string(h.key);
    std::transform(env.begin(), env.end(), env.begin(), ::toupper);
    const std::string& d = defaults.values.at(h.key);
    text += "  --" + opt + " V\n                 " + h.meaning + "; $" + env +
            " (default: " + (d.empty() ? "empty" : d) + ")\n";
  }
  return text;
}

}  // namespace

std::string ServeConfigExample() {
  ServeSettings defaults;
  std::string text =
      "## pedigree serve settings: pedigree serve --config /etc/pedigree/pedigree.conf\n"
      "## One 'key = value' a line; # starts a comment. Precedence, rising: defaults, this\n"
      "## file, PEDIGREE_<KEY> environment variables, --key-name options (docs/operations.md).\n"
      "## Every setting is shown with its default: remove the leading '# ' to set it.\n"
      "## Check an edit with: pedigree serve --config FILE --check\n\n";
  for (const SettingHelp& h : kSettingHelp) {
    std::string line = "# " + std::string(h.key) + " = " + defaults.values.at(h.key);
    line.resize(std::max<size_t>(line.size() + 2, 34), ' ');
    text += line + "# " + h.meaning + "\n";
  }
  return text;
}

std::vector<Command> ServeCommands() {
  return {
      {"serve",
       "serve [--config FILE] [--bind A] [--port P] [--tls-cert F --tls-key F] ...  HTTP API",
       Serve, ServeOptionsHelp(),
       "serve --dir /var/lib/pedigree --config /etc/pedigree/pedigree.conf"},
      {"token issue",
       "token issue --org ORG --roles R,.. [--label L] [--operator-org ORG]   new API token "
       "(shown once) for roles the registry grants ORG",
       TokenIssue,
       "  --org ORG      the registry organisation the token acts for (required)\n"
       "  --roles R,..   roles the registry grants ORG (admin: only the operator's)\n"
       "                 (required)\n"
       "  --label L      a note to tell tokens apart (default: empty)\n"
       "  --operator-org ORG\n"
       "                 the node's operator organisation (default: the operator_org\n"
       "                 setting of --config)\n"
       "  --config FILE  serve settings to read operator_org from\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "token issue --org acme --roles manufacturer --label line-1"},
      {"token revoke", "token revoke --id ID", TokenRevoke,
       "  --id ID        the token's id, as token list shows it (required)\n" + kDirHelp +
           kJsonHelp,
       "token revoke --id 3f9c2a"},
      {"token list", "token list [--org ORG]", TokenList,
       "  --org ORG      only this organisation's tokens (default: all)\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "token list --org acme"},
  };
}

}  // namespace pedigree::services
