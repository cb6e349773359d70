// `pedigree tiles export` (the log as static C2SP tlog-tiles) and `pedigree monitor` (a
// split-view monitor over the log, witnesses and mirrors). See docs/monitor.md and
// docs/merkle-log.md ("Static export").
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli_common.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/time.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/static_tiles.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

// ---------------------------------------------------------------------------------------
// tiles export

int TilesExport(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir"}, {"json"});
  if (!args) return PrintError(io.err, args.error()), 2;
  if (args->positionals().size() != 1) {
    return PrintError(
               io.err,
               Error("cli.usage", "tiles export needs one output directory").at_field("DIR")),
           2;
  }
  const std::string out_dir = args->positionals()[0];
  const std::string ledger_dir = args->dir();
  // The storage without the ledger's lock: the export runs beside a live node.
  PEDIGREE_TRY_ASSIGN(storage, log::OpenLedgerStorage(ledger_dir));
  PEDIGREE_TRY_ASSIGN(
      vkey, ResolveVerifierKey((fs::path(ledger_dir) / log::kLogVerifierKeyFile).string(), "dir"));
  PEDIGREE_TRY_ASSIGN(verifier, log::NoteVerifier::Parse(*vkey));
  std::vector<log::NoteVerifier> verifiers{*verifier};
  PEDIGREE_TRY_ASSIGN(latest, (*storage)->LatestCheckpoint());
  if (!*latest) {
    return PrintError(
        io.err, Error("storage.not_found", "the ledger in " + ledger_dir +
                                               " has no signed checkpoint yet: run `pedigree log "
                                               "checkpoint` (or fetch /v1/log/checkpoint) first")
                    .at_field("dir"));
  }
  // Verified again here: the export publishes it.
  PEDIGREE_TRY_ASSIGN(opened, log::OpenNote((*latest)->note, verifiers));
  PEDIGREE_TRY_ASSIGN(parsed, log::ParseCheckpoint(opened->text));
  PEDIGREE_TRY_ASSIGN(stats,
                      log::ExportTiles(**storage, (*latest)->note, *parsed, out_dir, verifiers));
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object()
                          .set("dir", JsonValue(out_dir))
                          .set("size", JsonValue(static_cast<int64_t>(stats->size)))
                          .set("written", JsonValue(static_cast<int64_t>(stats->written)))
                          .set("kept", JsonValue(static_cast<int64_t>(stats->kept))));
  } else {
    io.out << "exported " << parsed->origin << " at size " << stats->size << " to " << out_dir
           << ": " << stats->written << " files written, " << stats->kept << " already there\n";
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// HTTP client

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
};

Result<Poco::URI> ParseHttpUrl(const std::string& text, const std::string& option) {
  try {
    Poco::URI uri(text);
    if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty()) {
      return Fail(Error("monitor.bad_source",
                        "--" + option + " '" + text + "' is not an http:// or https:// URL")
                      .at_field(option));
    }
    return uri;
  } catch (const Poco::Exception& e) {
    return Fail(Error("monitor.bad_source",
                      "--" + option + " '" + text + "' is not a URL: " + e.displayText())
                    .at_field(option));
  }
}

// `base` with `path` appended to its path (no double slash).
std::string JoinUrl(const std::string& base, const std::string& path) {
  std::string out = base;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + path;
}

Result<Fetched> SendHttp(const std::string& method, const std::string& url, const std::string& body,
                         const std::string& content_type, int timeout_seconds) {
  try {
    Poco::URI uri(url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      static Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                 Poco::Net::Context::VERIFY_RELAXED, 9, true);
      session =
          std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(timeout_seconds, 0));
    Poco::Net::HTTPRequest request(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    if (!body.empty() || method == "POST") {
      request.setContentType(content_type);
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session->sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    Fetched fetched;
    fetched.status = static_cast<int>(response.getStatus());
    fetched.content_type = response.getContentType();
    // Checkpoints and proofs are small; a source that sends more is not speaking the protocol.
    constexpr size_t kMax = 1 << 20;
    char buffer[8192];
    while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
      fetched.body.append(buffer, static_cast<size_t>(in.gcount()));
      if (fetched.body.size() > kMax) {
        return Fail(Error("monitor.bad_response", method + " " + url + ": body over 1 MiB")
                        .at_field("url"));
      }
    }
    return fetched;
  } catch (const Poco::Exception& e) {
    return Fail(
        Error("monitor.unreachable", method + " " + url + ": " + e.displayText()).at_field("url"));
  } catch (const std::exception& e) {
    return Fail(Error("monitor.unreachable", method + " " + url + ": " + e.what()).at_field("url"));
  }
}

Result<std::string> HttpGet200(const std::string& url, int timeout_seconds) {
  PEDIGREE_ASSIGN(got, SendHttp("GET", url, "", "", timeout_seconds));
  if (got->status != 200) {
    std::string snippet = got->body.substr(0, 200);
    return Fail(Error("monitor.unreachable",
                      "GET " + url + ": HTTP " + std::to_string(got->status) + " " + snippet)
                    .at_field("url"));
  }
  return std::move(got->body);
}

// ---------------------------------------------------------------------------------------
// monitor

struct Source {
  std::string kind;  // log, witness, mirror
  std::string name;
  std::string url;  // the checkpoint URL
};

// A checkpoint that verified under the log key, and where it came from.
struct Observation {
  std::string source;  // "log", "witness NAME", "mirror URL", "state"
  std::string url;
  std::string fetched_at;
  std::string note;  // verbatim
  log::Checkpoint checkpoint;
};

std::string NowUtc() { return FormatUtcTime(static_cast<int64_t>(std::time(nullptr))); }

JsonValue ObservationJson(const Observation& o) {
  return JsonValue::Object()
      .set("source", JsonValue(o.source))
      .set("url", JsonValue(o.url))
      .set("fetched_at", JsonValue(o.fetched_at))
      .set("size", JsonValue(static_cast<int64_t>(o.checkpoint.size)))
      .set("root", JsonValue(ToBase64(o.checkpoint.root)))
      .set("note", JsonValue(o.note));
}

Result<Observation> ObservationFromJson(const JsonValue& v) {
  Observation o;
  auto str = [&](const char* key) -> std::string {
    const JsonValue* f = v.find(key);
    return f && f->is_string() ? f->as_string() : std::string();
  };
  o.source = str("source");
  o.url = str("url");
  o.fetched_at = str("fetched_at");
  o.note = str("note");
  return o;
}

// Opens `note` with the log key: a syntactically valid checkpoint of the log's origin whose
// log signature verifies (other signatures, e.g. witnesses' cosignatures, are ignored).
Result<log::Checkpoint> VerifyLogNote(const std::string& note, const log::NoteVerifier& key,
                                      const std::string& where) {
  std::vector<log::NoteVerifier> verifiers{key};
  auto opened = log::OpenNote(note, verifiers);
  if (!opened) {
    return Fail(Error("monitor.bad_note", where + ": the checkpoint does not verify under " +
                                              key.name() + ": " + opened.error().code() + ": " +
                                              opened.error().message())
                    .at_field("note"));
  }
  auto parsed = log::ParseCheckpoint(opened->text);
  if (!parsed) {
    return Fail(Error("monitor.bad_note",
                      where + ": signed text is not a checkpoint: " + parsed.error().message())
                    .at_field("note"));
  }
  if (parsed->origin != key.name()) {
    return Fail(Error("monitor.bad_note", where + ": checkpoint of origin " + parsed->origin +
                                              ", the log key is " + key.name())
                    .at_field("note"));
  }
  return *parsed;
}

struct MonitorConfig {
  std::string log_url;
  log::NoteVerifier key;
  std::vector<Source> sources;
  std::optional<std::string> state_dir;
  std::string evidence_dir;
  std::optional<std::string> webhook;
  int timeout = 5;
};

struct RoundResult {
  size_t failed_sources = 0;
  size_t split_views = 0;
};

Status WriteAtomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      return Fail(Error("monitor.state", "cannot write " + tmp).at_field("state"));
    }
  }
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    return Fail(Error("monitor.state",
                      "cannot rename " + tmp + " to " + path.string() + ": " + ec.message())
                    .at_field("state"));
  }
  return Ok();
}

// The largest verified checkpoint of earlier rounds, from <state>/latest.json.
Result<std::optional<Observation>> LoadState(const MonitorConfig& config) {
  if (!config.state_dir) return std::optional<Observation>();
  const fs::path path = fs::path(*config.state_dir) / "latest.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Observation>();
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto json = ParseJson(text);
  if (!json || !json->is_object()) {
    return Fail(Error("monitor.state", path.string() + " is not the monitor's state JSON")
                    .at_field("state"));
  }
  PEDIGREE_ASSIGN(o, ObservationFromJson(*json));
  auto cp = VerifyLogNote(o->note, config.key, path.string());
  if (!cp) {
    return Fail(Error("monitor.state", cp.error().message()).at_field("state"));
  }
  o->checkpoint = *cp;
  o->source = "state (" + o->source + ")";
  return std::optional<Observation>(*o);
}

Status SaveState(const MonitorConfig& config, const Observation& o) {
  if (!config.state_dir) return Ok();
  return WriteAtomically(fs::path(*config.state_dir) / "latest.json",
                         Canonicalize(ObservationJson(o)) + "\n");
}

class Round {
 public:
  Round(const MonitorConfig& config, CliIo& io) : config_(config), io_(io) {}

  RoundResult Run() {
    auto state = LoadState(config_);
    if (!state) {
      Report(state.error());
      ++result_.failed_sources;
    } else if (*state) {
      observations_.push_back(**state);
    }
    for (const Source& s : config_.sources) Fetch(s);
    CheckPairs();
    if (result_.split_views == 0 && !observations_.empty()) {
      const Observation* largest = &observations_.front();
      for (const Observation& o : observations_) {
        if (o.checkpoint.size > largest->checkpoint.size) largest = &o;
      }
      Observation saved = *largest;
      if (saved.source.starts_with("state (")) {
        saved.source = saved.source.substr(7, saved.source.size() - 8);
      }
      if (auto ok = SaveState(config_, saved); !ok) {
        Report(ok.error());
        ++result_.failed_sources;
      }
      io_.out << "monitor: consistent, largest verified checkpoint size "
              << largest->checkpoint.size << " from " << largest->source << "\n";
    }
    io_.out << "monitor: round done: " << (config_.sources.size()) << " sources, "
            << result_.failed_sources << " failed, " << result_.split_views << " split views"
            << std::endl;
    return result_;
  }

 private:
  void Report(const Error& e) { io_.err << "monitor: " << e.code() << ": " << e.message() << "\n"; }

  void Fetch(const Source& s) {
    const std::string where = s.kind + (s.name.empty() ? "" : " " + s.name);
    auto body = HttpGet200(s.url, config_.timeout);
    if (!body) {
      Report(body.error());
      ++result_.failed_sources;
      return;
    }
    auto cp = VerifyLogNote(*body, config_.key, where + " (" + s.url + ")");
    if (!cp) {
      Report(cp.error());
      ++result_.failed_sources;
      return;
    }
    io_.out << "monitor: " << where << " size " << cp->size << " root " << ToBase64(cp->root)
            << "\n";
    observations_.push_back({where, s.url, NowUtc(), *body, *cp});
  }

  // RFC 6962 consistency proof from the log, from -> to (from < to).
  Result<std::vector<Hash>> FetchProof(uint64_t from, uint64_t to, std::string* url) {
    *url = JoinUrl(config_.log_url, "/v1/log/proof/consistency?from=" + std::to_string(from) +
                                        "&to=" + std::to_string(to));
    PEDIGREE_ASSIGN(body, HttpGet200(*url, config_.timeout));
    auto json = ParseJson(*body);
    const JsonValue* proof = json && json->is_object() ? json->find("proof") : nullptr;
    if (!proof || !proof->is_array()) {
      return Fail(
          Error("monitor.bad_response", "GET " + *url + ": no \"proof\" array").at_field("proof"));
    }
    std::vector<Hash> hashes;
    for (const JsonValue& h : proof->as_array()) {
      auto hash = h.is_string() ? HashFromBase64(h.as_string()) : Result<Hash>(Hash{});
      if (!h.is_string()) hash = Fail("monitor.bad_response", "a proof hash is not a string");
      if (!hash) {
        return Fail(Error("monitor.bad_response",
                          "GET " + *url + ": a proof hash is not base64 of 32 bytes")
                        .at_field("proof"));
      }
      hashes.push_back(*hash);
    }
    return hashes;
  }

  void CheckPairs() {
    // Distinct (size, root): identical checkpoints need one check.
    std::vector<const Observation*> distinct;
    for (const Observation& o : observations_) {
      bool seen = false;
      for (const Observation* d : distinct) {
        seen = seen ||
               (d->checkpoint.size == o.checkpoint.size && d->checkpoint.root == o.checkpoint.root);
      }
      if (!seen) distinct.push_back(&o);
    }
    std::sort(distinct.begin(), distinct.end(), [](const Observation* a, const Observation* b) {
      return a->checkpoint.size < b->checkpoint.size;
    });
    for (size_t i = 0; i < distinct.size(); ++i) {
      for (size_t j = i + 1; j < distinct.size(); ++j) {
        const Observation& a = *distinct[i];
        const Observation& b = *distinct[j];
        if (a.checkpoint.size == b.checkpoint.size) {
          Evidence("two_roots_for_one_size", a, b, nullptr, "", nullptr);
          continue;
        }
        if (a.checkpoint.size == 0) continue;  // the empty tree precedes every tree
        std::string url;
        auto proof = FetchProof(a.checkpoint.size, b.checkpoint.size, &url);
        if (!proof) {
          Report(proof.error());
          ++result_.failed_sources;
          continue;
        }
        auto ok = log::VerifyConsistency(a.checkpoint.size, b.checkpoint.size, *proof,
                                         a.checkpoint.root, b.checkpoint.root);
        if (!ok) Evidence("inconsistent", a, b, &*proof, url, &ok.error());
      }
    }
  }

  void Evidence(const std::string& kind, const Observation& a, const Observation& b,
                const std::vector<Hash>* proof, const std::string& proof_url,
                const Error* failure) {
    ++result_.split_views;
    const std::string now = NowUtc();
    auto json = JsonValue::Object()
                    .set("type", JsonValue("pedigree-monitor-evidence/v1"))
                    .set("kind", JsonValue(kind))
                    .set("origin", JsonValue(config_.key.name()))
                    .set("log_key", JsonValue(config_.key.ToString()))
                    .set("detected_at", JsonValue(now))
                    .set("a", ObservationJson(a))
                    .set("b", ObservationJson(b));
    if (proof) {
      auto hashes = JsonValue::Array();
      for (const Hash& h : *proof) hashes.push_back(JsonValue(ToBase64(h)));
      auto p = JsonValue::Object()
                   .set("from", JsonValue(static_cast<int64_t>(a.checkpoint.size)))
                   .set("to", JsonValue(static_cast<int64_t>(b.checkpoint.size)))
                   .set("url", JsonValue(proof_url))
                   .set("hashes", hashes);
      if (failure) p.set("failure", JsonValue(failure->code() + ": " + failure->message()));
      json.set("proof", p);
    } else {
      json.set("proof", JsonValue());
    }
    const std::string text = Canonicalize(json) + "\n";
    std::string stamp = now;
    for (char& c : stamp) {
      if (c == ':') c = '-';
    }
    const fs::path path =
        fs::path(config_.evidence_dir) / ("split-view-" + std::to_string(a.checkpoint.size) + "-" +
                                          std::to_string(b.checkpoint.size) + "-" + stamp + "-" +
                                          ToHex(Sha256(text)).substr(0, 8) + ".json");
    io_.out << "monitor: SPLIT VIEW (" << kind << "): " << a.source << " size " << a.checkpoint.size
            << " root " << ToBase64(a.checkpoint.root) << " vs " << b.source << " size "
            << b.checkpoint.size << " root " << ToBase64(b.checkpoint.root);
    if (auto ok = WriteAtomically(path, text); ok) {
      io_.out << "; evidence " << path.string() << "\n";
    } else {
      io_.out << "\n";
      Report(ok.error());
    }
    if (config_.webhook) {
      auto posted = SendHttp("POST", *config_.webhook, text, "application/json", config_.timeout);
      if (!posted) {
        Report(posted.error());
      } else if (posted->status / 100 != 2) {
        Report(Error("monitor.bad_response",
                     "POST " + *config_.webhook + ": HTTP " + std::to_string(posted->status)));
      }
    }
  }

  const MonitorConfig& config_;
  CliIo& io_;
  std::vector<Observation> observations_;
  RoundResult result_;
};

int Monitor(const std::vector<std::string>& argv, CliIo& io) {
  // --witness and --mirror repeat, which Args does not keep: take them out first.
  std::vector<std::string> rest, witnesses, mirrors;
  for (size_t i = 0; i < argv.size(); ++i) {
    if ((argv[i] == "--witness" || argv[i] == "--mirror") && i + 1 < argv.size()) {
      (argv[i] == "--witness" ? witnesses : mirrors).push_back(argv[i + 1]);
      ++i;
    } else if (argv[i].starts_with("--witness=")) {
      witnesses.push_back(argv[i].substr(10));
    } else if (argv[i].starts_with("--mirror=")) {
      mirrors.push_back(argv[i].substr(9));
    } else {
      rest.push_back(argv[i]);
    }
  }
  auto args = Args::Parse(rest, 1,
                          {"log", "log-key", "state", "evidence", "interval", "webhook", "timeout",
                           "witness", "mirror"},
                          {"once"});
  if (!args) return PrintError(io.err, args.error()), 2;
  auto log_url = args->required("log");
  if (!log_url) return PrintError(io.err, log_url.error()), 2;
  if (auto uri = ParseHttpUrl(*log_url, "log"); !uri) return PrintError(io.err, uri.error()), 2;
  auto key_arg = args->required("log-key");
  if (!key_arg) return PrintError(io.err, key_arg.error()), 2;
  auto vkey = ResolveVerifierKey(*key_arg, "log-key");
  std::optional<log::NoteVerifier> key;
  if (vkey) {
    auto parsed = log::NoteVerifier::Parse(*vkey);
    if (parsed && parsed->type() == log::NoteKeyType::kEd25519) key = *parsed;
  }
  if (!key) {
    return PrintError(io.err,
                      Error("monitor.bad_log_key",
                            "--log-key '" + *key_arg +
                                "' is not an Ed25519 log verifier key or a file holding one" +
                                (vkey ? std::string() : ": " + vkey.error().message()))
                          .at_field("log-key")),
           2;
  }
  MonitorConfig config{*log_url, *key};
  config.sources.push_back({"log", "", JoinUrl(*log_url, "/v1/log/checkpoint")});
  const std::string origin_hash = ToHex(Sha256(key->name()));
  for (const std::string& w : witnesses) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return PrintError(io.err, Error("monitor.bad_source", "--witness '" + w + "' is not NAME=URL")
                                    .at_field("witness")),
             2;
    }
    const std::string url = w.substr(eq + 1);
    if (auto uri = ParseHttpUrl(url, "witness"); !uri) return PrintError(io.err, uri.error()), 2;
    config.sources.push_back(
        {"witness", w.substr(0, eq), JoinUrl(url, "/" + origin_hash + "/checkpoint")});
  }
  for (const std::string& m : mirrors) {
    if (auto uri = ParseHttpUrl(m, "mirror"); !uri) return PrintError(io.err, uri.error()), 2;
    config.sources.push_back({"mirror", m, JoinUrl(m, "/v1/log/checkpoint")});
  }
  if (auto hook = args->get("webhook")) {
    if (auto uri = ParseHttpUrl(*hook, "webhook"); !uri) {
      return PrintError(io.err, uri.error()), 2;
    }
    config.webhook = *hook;
  }
  config.state_dir = args->get("state");
  config.evidence_dir =
      args->get("evidence")
          .value_or(config.state_dir ? (fs::path(*config.state_dir) / "evidence").string()
                                     : std::string("pedigree-evidence"));
  auto timeout = args->number("timeout");
  if (!timeout) return PrintError(io.err, timeout.error()), 2;
  if (*timeout) config.timeout = static_cast<int>(std::clamp<uint64_t>(**timeout, 1, 600));
  auto interval = args->number("interval");
  if (!interval) return PrintError(io.err, interval.error()), 2;

  if (args->has("once")) {
    RoundResult r = Round(config, io).Run();
    if (r.split_views > 0) return 4;
    return r.failed_sources > 0 ? 3 : 0;
  }
  const uint64_t seconds = interval->value_or(60);
  if (seconds == 0) {
    return PrintError(
               io.err,
               Error("cli.usage", "--interval must be at least 1 second").at_field("interval")),
           2;
  }
  // Runs until SIGINT or SIGTERM; split views are reported every round they are seen.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  size_t total_split_views = 0;
  for (;;) {
    RoundResult r = Round(config, io).Run();
    total_split_views += r.split_views;
    io.out << "metric pedigree_monitor_split_views_total " << total_split_views
           << " pedigree_monitor_failed_sources " << r.failed_sources << std::endl;
    timespec wait{static_cast<time_t>(seconds), 0};
    int signal = sigtimedwait(&stop_signals, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM) break;
  }
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  return total_split_views > 0 ? 4 : 0;
}

}  // namespace

std::vector<Command> MonitorCommands() {
  return {
      {"tiles export",
       "tiles export DIR [--dir LEDGER]   write the log as static C2SP tlog-tiles files",
       TilesExport,
       "  DIR            the output directory; files already there are kept (immutable)\n"
       "  --json         print {dir, size, written, kept}\n" +
           kDirHelp,
       "tiles export ./public-tiles --dir ./ledger"},
      {"monitor",
       "monitor --log URL --log-key VKEY [--witness NAME=URL..] [--mirror URL..] [--state D] "
       "[--evidence D] [--once | --interval S] [--webhook URL]   detect a split view of the log",
       Monitor,
       "  --log URL      the node's base URL; its /v1/log/checkpoint and consistency proofs "
       "(required)\n"
       "  --log-key VKEY the log's verifier key, or a file holding it (required)\n"
       "  --witness NAME=URL\n"
       "                 a witness's monitoring prefix; GET URL/<sha256(origin)>/checkpoint; "
       "repeat\n"
       "  --mirror URL   a mirror's base URL, serving /v1/log/checkpoint; repeat\n"
       "  --state D      keep the largest verified checkpoint in D/latest.json (default: none)\n"
       "  --evidence D   where split-view evidence files go (default: D/evidence of --state, "
       "else ./pedigree-evidence)\n"
       "  --once         one round; exit 0 consistent, 3 a source failed, 4 split view\n"
       "  --interval S   seconds between rounds when not --once (default: 60)\n"
       "  --webhook URL  POST each evidence file (application/json) to URL\n"
       "  --timeout S    per-request timeout in seconds (default: 5)\n",
       "monitor --log http://127.0.0.1:8080 --log-key ledger/log.vkey --once"},
  };
}

}  // namespace pedigree::services
