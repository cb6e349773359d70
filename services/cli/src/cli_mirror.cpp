// `pedigree mirror init|sync`: a verified copy of a node's log (docs/mirror.md). The copy is a
// log::Replica; this file fetches what it checks over the node's C2SP tlog-tiles endpoints.
#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/base/bytes.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/mirror_server.h"
#include "pedigree/log/replica.h"
#include "pedigree/log/static_tiles.h"
#include "pedigree/log/tiles.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/usecases/auth.h"

namespace pedigree::services {
namespace {

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())
// The same for a usage error (exit 2).
#define PEDIGREE_USAGE_ASSIGN(var, expr) \
  auto var = (expr);                     \
  if (!var) return PrintError(io.err, var.error()), 2

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The replica's options for the model its database records: the provenance rules for a
// supply-chain log (state must outlive the replica), none for a plain log.
Result<log::ReplicaOptions> OptionsForModel(const std::string& model,
                                            std::unique_ptr<provenance::ProvenanceState>& state,
                                            std::optional<log::PublicKey> authority = {}) {
  log::ReplicaOptions options;
  if (model.empty()) return options;
  if (model != provenance::kModelName) {
    return Fail("mirror.config", "this program cannot replay the model '" + model + "'");
  }
  log::LedgerOptions ledger = provenance::ProvenanceLedgerOptions(state, Now, authority);
  options.attach = std::move(ledger.attach);
  options.model = ledger.model;
  options.initial_meta = std::move(ledger.initial_meta);
  return options;
}

// The model a replica's database records ("" for a plain log), read before opening it.
Result<std::string> RecordedModel(const std::string& dir) {
  auto storage = log::OpenLedgerStorage(dir, 16);
  if (!storage) {
    if (storage.error().code() == "storage.not_found") {
      return Fail(Error("mirror.not_found", "no mirror in " + dir + " (run `pedigree mirror init`)")
                      .at_field("dir"));
    }
    return std::unexpected(storage.error());
  }
  auto model = (*storage)->GetMeta("model");
  if (!model && model.error().code() == "storage.not_found") return std::string();
  return model;
}

int MirrorInit(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_USAGE_ASSIGN(
      args, Args::Parse(argv, 2, {"dir", "name", "log", "authority-public-key"}, {"json"}));
  PEDIGREE_USAGE_ASSIGN(dir, args->required("dir"));
  PEDIGREE_USAGE_ASSIGN(name, args->required("name"));
  PEDIGREE_USAGE_ASSIGN(log_arg, args->required("log"));
  PEDIGREE_USAGE_ASSIGN(vkey, ResolveVerifierKey(*log_arg, "log"));
  std::optional<log::PublicKey> authority;
  if (auto b64 = args->get("authority-public-key")) {
    auto raw = FromBase64(*b64);
    std::optional<log::PublicKey> key;
    if (raw) {
      if (auto parsed = log::PublicKey::FromRaw(*raw)) key = *parsed;
    }
    if (!key) {
      return PrintError(io.err, Error("mirror.config", "--authority-public-key '" + *b64 +
                                                           "' is not a base64 Ed25519 public key")
                                    .at_field("authority-public-key")),
             2;
    }
    authority = *key;
  }
  std::unique_ptr<provenance::ProvenanceState> state;
  PEDIGREE_TRY_ASSIGN(options,
                      OptionsForModel(authority ? provenance::kModelName : "", state, authority));
  PEDIGREE_TRY_ASSIGN(replica, log::Replica::Create(*dir, *name, *vkey, std::move(*options)));
  if (args->has("json")) {
    auto out = JsonValue::Object();
    out.set("dir", JsonValue(*dir));
    out.set("origin", JsonValue((*replica)->origin()));
    out.set("model", JsonValue(std::string(authority ? provenance::kModelName : "")));
    out.set("verifier_key", JsonValue((*replica)->VerifierKey()));
    PrintJson(io.out, out);
  } else {
    io.out << (*replica)->VerifierKey() << "\n";
  }
  return 0;
}

struct SyncStats {
  uint64_t size_before = 0;
  uint64_t size = 0;
  uint64_t bundles = 0;
  uint64_t bytes = 0;
};

// Pulls the node's latest checkpoint and every entry the replica lacks, in entry bundles of
// 256, each batch of bundles checked by Replica::AppendBatches against the checkpoint (the
// consistency proof from the batch's end is computed from the node's hash tiles: untrusted,
// verified).
Result<SyncStats> Sync(log::Replica& replica, const RemoteClient& node) {
  SyncStats stats;
  stats.size_before = replica.size();
  PEDIGREE_ASSIGN(reply, node.Get("/v1/log/checkpoint"));
  const std::string note = reply->body;
  stats.bytes += note.size();
  PEDIGREE_ASSIGN(checkpoint, replica.VerifyCheckpoint(note));
  log::TileHashReader tiles(
      [&](const std::string& path) -> Result<Bytes> {
        PEDIGREE_ASSIGN(tile, node.Get("/v1/log/" + path));
        stats.bytes += tile->body.size();
        return Bytes(tile->body.begin(), tile->body.end());
      },
      checkpoint->size);
  // Bundles are fetched one request each and committed 16 at a time: one transaction (and
  // one fsync) per 4096 entries instead of per 256, all checked as one batch. AppendBatches
  // fetches the next batch and checks it while the previous one commits; with nothing to
  // fetch it checks that the node's tree of the mirror's size has the mirror's root.
  constexpr uint64_t kBundlesPerBatch = 16;
  auto fetch = [&](uint64_t at) -> Result<log::ReplicaBatch> {
    log::ReplicaBatch batch;
    uint64_t end = at;
    for (uint64_t b = 0; b < kBundlesPerBatch && end < checkpoint->size; ++b) {
      const uint64_t n = end / log::kTileWidth;
      const uint64_t bundle_end = std::min<uint64_t>((n + 1) * log::kTileWidth, checkpoint->size);
      const auto width = static_cast<uint32_t>(bundle_end - n * log::kTileWidth);
      PEDIGREE_ASSIGN(bundle, node.Get("/v1/log/" + log::EntryBundlePath(n, width)));
      stats.bytes += bundle->body.size();
      stats.bundles++;
      PEDIGREE_ASSIGN(entries, log::DecodeEntryBundle(AsBytes(bundle->body), width));
      // A first bundle the mirror holds part of (it stopped mid-bundle): only the rest.
      const auto skip = static_cast<ptrdiff_t>(end - n * log::kTileWidth);
      for (auto it = entries->begin() + skip; it != entries->end(); ++it) {
        batch.leaves.push_back(std::move(*it));
      }
      end = bundle_end;
    }
    if (end < checkpoint->size) {
      PEDIGREE_ASSIGN(p, log::ConsistencyProof(end, checkpoint->size, tiles));
      batch.proof = std::move(*p);
    }
    return batch;
  };
  PEDIGREE_ASSIGN(appended, replica.AppendBatches(note, fetch));
  (void)appended;
  stats.size = replica.size();
  return stats;
}

// The node `url` as a RemoteClient, through the remote client's own option handling (token
// file permissions, --ca, the loopback rule for http).
Result<RemoteClient> NodeClient(const Args& args, const std::string& url) {
  std::vector<std::string> remote_args = {"mirror", "--server", url};
  for (const char* option : {"token", "token-file", "ca"}) {
    if (auto v = args.get(option)) {
      remote_args.push_back(std::string("--") + option);
      remote_args.push_back(*v);
    }
  }
  if (args.has("insecure-http")) remote_args.push_back("--insecure-http");
  PEDIGREE_ASSIGN(remote, TakeRemoteOptions(remote_args));
  return RemoteClient::Make(**remote);
}

std::string SyncLine(const log::Replica& replica, const SyncStats& stats, double seconds) {
  std::ostringstream line;
  line << "mirrored " << replica.origin() << ": size " << stats.size_before << " -> " << stats.size
       << " (" << stats.size - stats.size_before << " entries in " << stats.bundles << " bundles, "
       << stats.bytes << " bytes, " << seconds << " s); checkpoint cosigned";
  return line.str();
}

int MirrorSync(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_USAGE_ASSIGN(args, Args::Parse(argv, 2, {"dir", "from", "token", "token-file", "ca"},
                                          {"json", "insecure-http"}));
  PEDIGREE_USAGE_ASSIGN(dir, args->required("dir"));
  PEDIGREE_USAGE_ASSIGN(from, args->required("from"));
  PEDIGREE_USAGE_ASSIGN(client, NodeClient(*args, *from));

  PEDIGREE_TRY_ASSIGN(model, RecordedModel(*dir));
  std::unique_ptr<provenance::ProvenanceState> state;
  PEDIGREE_TRY_ASSIGN(options, OptionsForModel(*model, state));
  PEDIGREE_TRY_ASSIGN(replica, log::Replica::Open(*dir, std::move(*options)));
  const auto started = std::chrono::steady_clock::now();
  PEDIGREE_TRY_ASSIGN(stats, Sync(**replica, *client));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto latest = (*replica)->LatestCheckpoint();
  auto out = JsonValue::Object();
  out.set("dir", JsonValue(*dir));
  out.set("from", JsonValue(*from));
  out.set("origin", JsonValue((*replica)->origin()));
  out.set("size_before", JsonValue(static_cast<int64_t>(stats->size_before)));
  out.set("size", JsonValue(static_cast<int64_t>(stats->size)));
  out.set("entries", JsonValue(static_cast<int64_t>(stats->size - stats->size_before)));
  out.set("bundles", JsonValue(static_cast<int64_t>(stats->bundles)));
  out.set("bytes", JsonValue(static_cast<int64_t>(stats->bytes)));
  out.set("seconds", JsonValue(seconds));
  out.set("root", JsonValue(ToBase64((*replica)->root())));
  if (latest && *latest) out.set("checkpoint", JsonValue((**latest).note));
  if (args->has("json")) {
    PrintJson(io.out, out);
  } else {
    io.out << SyncLine(**replica, *stats, seconds) << " from " << *from << "\n";
  }
  return 0;
}

int MirrorServe(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_USAGE_ASSIGN(
      args, Args::Parse(argv, 2,
                        {"dir", "port", "bind", "pull", "token", "token-file", "ca", "interval",
                         "threads", "access-log", "tls-cert", "tls-key"},
                        {"insecure-http"}));
  PEDIGREE_USAGE_ASSIGN(dir, args->required("dir"));
  PEDIGREE_USAGE_ASSIGN(port, args->number("port"));
  PEDIGREE_USAGE_ASSIGN(interval, args->number("interval"));
  PEDIGREE_USAGE_ASSIGN(threads, args->number("threads"));
  if (*port && **port > 65535) {
    return PrintError(io.err, Error("cli.usage", "--port must be 0..65535").at_field("port")), 2;
  }
  std::optional<RemoteClient> node;
  if (auto pull = args->get("pull")) {
    PEDIGREE_USAGE_ASSIGN(client, NodeClient(*args, *pull));
    node = std::move(*client);
  }
  ServerConfig config;
  config.bind = args->get("bind").value_or("127.0.0.1");
  config.port = static_cast<uint16_t>(port->value_or(0));
  config.threads = static_cast<size_t>(threads->value_or(8));
  if (auto cert = args->get("tls-cert")) config.tls_cert_file = *cert;
  if (auto key = args->get("tls-key")) config.tls_key_file = *key;
  std::ofstream access_log;
  if (auto path = args->get("access-log")) {
    access_log.open(*path, std::ios::app);
    config.access_log = &access_log;
  }

  PEDIGREE_TRY_ASSIGN(model, RecordedModel(*dir));
  std::unique_ptr<provenance::ProvenanceState> state;
  PEDIGREE_TRY_ASSIGN(options, OptionsForModel(*model, state));
  PEDIGREE_TRY_ASSIGN(replica, log::Replica::Open(*dir, std::move(*options)));
  // Tokens are issued on the mirror's directory (`pedigree token issue --dir D`); for a
  // supply-chain log the roles a token keeps are those the mirror's own copy of the registry
  // grants now, as on the node.
  PEDIGREE_TRY_ASSIGN(tokens, TokenStore::Open(*dir + "/tokens.db"));
  if (!model->empty()) {
    const std::string db = *dir + "/" + log::kLedgerDbFile;
    config.granted_roles = [db](const std::string& org) -> Result<std::set<std::string>> {
      PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(db));
      PEDIGREE_ASSIGN(roles, (*view)->OrgRoles(org));
      return std::set<std::string>(roles->begin(), roles->end());
    };
  }
  Router router;
  if (auto ok = AddMirrorRoutes(router, **replica); !ok) return PrintError(io.err, ok.error());
  // A supply-chain mirror also answers the node's read-only API from its copy (verify,
  // reports, bundles), as a reader beside the replica that writes it.
  std::unique_ptr<SupplyNode> api_node;
  if (!model->empty()) {
    PEDIGREE_TRY_ASSIGN(opened, SupplyNode::OpenMirror(*dir));
    api_node = std::move(*opened);
    if (auto ok = AddMirrorApiRoutes(router, *api_node, (*replica)->VerifierKey()); !ok) {
      return PrintError(io.err, ok.error());
    }
  }
  // C2SP tlog-mirror push mode (add-checkpoint, add-entries): docs/mirror.md "Push mode".
  if (auto ok = AddMirrorPushRoutes(router, **replica); !ok) return PrintError(io.err, ok.error());

  // Signals are blocked before any thread starts so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto server = HttpServer::Start(config, std::move(router), tokens->get());
  if (!server) {
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    return PrintError(io.err, server.error());
  }
  std::mutex mu;
  std::condition_variable wake;
  bool stopping = false;
  io.out << "mirror " << (*replica)->VerifierKey() << " serving "
         << ((*server)->tls() ? "https" : "http") << "://" << config.bind << ":"
         << (*server)->port() << " for " << (*replica)->origin() << std::endl;
  // The pull loop: one sync per interval; a failure is reported and retried at the next, the
  // copy staying at its last verified bundle (and served as such).
  std::thread puller;
  if (node) {
    puller = std::thread([&] {
      const auto period = std::chrono::seconds(std::max<uint64_t>(1, interval->value_or(60)));
      std::unique_lock lock(mu);
      while (!stopping) {
        lock.unlock();
        const auto started = std::chrono::steady_clock::now();
        auto stats = Sync(**replica, *node);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        lock.lock();
        // The API's view adopts the newly cosigned checkpoint, so its answers follow the copy.
        if (stats && api_node) {
          if (auto refreshed = api_node->ledger().Refresh(); !refreshed) {
            stats = std::unexpected(refreshed.error());
          }
        }
        if (stats) {
          io.out << SyncLine(**replica, *stats, seconds) << std::endl;
        } else {
          io.err << "pull: " << stats.error().ToString() << std::endl;
        }
        wake.wait_for(lock, period, [&] { return stopping; });
      }
    });
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  {
    std::lock_guard lock(mu);
    stopping = true;
    io.out << "signal " << signal << ": finishing in-flight requests" << std::endl;
  }
  wake.notify_all();
  if (puller.joinable()) puller.join();
  (*server)->Stop();
  io.out << "stopped" << std::endl;
  return 0;
}

}  // namespace

std::vector<Command> MirrorCommands() {
  return {
      {"mirror init",
       "mirror init --dir D --name NAME --log VKEY [--authority-public-key B64]   new mirror of "
       "a log; prints the mirror's cosigner key",
       MirrorInit,
       "  --dir D        the mirror's directory (required; must not hold a mirror)\n"
       "  --name NAME    the mirror's cosigner key name (required)\n"
       "  --log VKEY     the mirrored log's verifier key, or a file holding it (required)\n"
       "  --authority-public-key B64\n"
       "                 the consortium authority key: the log is a supply-chain ledger and\n"
       "                 the mirror replays its provenance rules (without it: a plain log)\n"
       "  --json         print {dir, origin, model, verifier_key}\n",
       "mirror init --dir ./mirror --name mirror.example.org --log ./ledger/log.vkey"},
      {"mirror sync",
       "mirror sync --dir D --from URL [--token-file F | --token T] [--ca F]   pull a node's log "
       "once, verified",
       MirrorSync,
       "  --dir D        the mirror's directory, from mirror init (required)\n"
       "  --from URL     the node, http(s)://host[:port][/prefix]; http only to a loopback\n"
       "                 host unless --insecure-http (required)\n"
       "  --token-file F a token of an organisation with the mirror (or regulator) role\n"
       "  --token T      the token itself\n"
       "  --ca F         CA certificates (PEM) that the node's TLS certificate chains to\n"
       "  --insecure-http\n"
       "                 allow plain http to a host that is not loopback\n"
       "  --json         print {size_before, size, entries, bundles, bytes, seconds, root,\n"
       "                 checkpoint}\n",
       "mirror sync --dir ./mirror --from https://node.example.org --token-file mirror.token"},
      {"mirror serve",
       "mirror serve --dir D [--port P] [--bind A] [--pull URL --token-file F [--interval S]]   "
       "serve the copy as C2SP tiles and the node's read-only API; optionally keep pulling",
       MirrorServe,
       "  --dir D        the mirror's directory, from mirror init (required)\n"
       "  --bind A       address to listen on (default: 127.0.0.1)\n"
       "  --port P       TCP port (default: 0, any free port; printed)\n"
       "  --pull URL     the node to sync from, once at start and every --interval\n"
       "  --interval S   seconds between pulls (default: 60)\n"
       "  --token-file F, --token T, --ca F, --insecure-http\n"
       "                 for --pull, as for mirror sync\n"
       "  --threads N    request threads (default: 8)\n"
       "  --tls-cert F --tls-key F\n"
       "                 serve HTTPS with this PEM certificate chain and key\n"
       "  --access-log F append one line per request to F (default: none)\n",
       "mirror serve --dir ./mirror --port 8444 --pull https://node.example.org "
       "--token-file mirror.token --interval 30"},
  };
}

}  // namespace pedigree::services
