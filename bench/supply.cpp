// The supply-chain performance targets of the issue, measured on loopback:
//   verify   GET /v1/verify over HTTP (dispenser token, keep-alive), driven by wrk:
//            target >= 10k requests/s with p99 <= 10 ms. References: the in-process
//            SupplyNode::Verify rate on the same codes, and wrk against GET /healthz.
//   dispense POST /v1/dispense (node-signed, committed before the 201), each request a
//            different active pack: target >= 5k requests/s with p99 <= 50 ms.
//            References: in-process SubmitAs throughput, raw Ed25519 sign+verify.
//   recall   ProvenanceView::RecallReach of one batch of --packs packs (default 10^6):
//            target <= 1 s; plus storage bytes per ledger entry (target <= 1 KB).
// wrk (/usr/bin/wrk) and the server share the machine, so rates are pessimistic.
//
// usage: bench_supply [verify|dispense|recall|all] [--packs N] [--seconds S]
//                     [--connections C] [--wrk-threads T] [--server-threads N]
//                     [--storage postgresql://…]  (the node's data in that empty database,
//                     e.g. one of tests/common/pg_cluster.sh; SQLite by default)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/supply_node.h"

namespace {

namespace fs = std::filesystem;
using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::bench::Die;
using pedigree::bench::Must;
using pedigree::bench::Report;
using pedigree::bench::Stopwatch;

const std::string kGtin = "09506000134352";
const std::string kLot = "LOT1";

struct Options {
  std::string what = "all";
  int64_t recall_packs = 1'000'000;
  int seconds = 5;
  int connections = 32;
  int wrk_threads = 2;
  int server_threads = 0;  // 0: connections + 8
  int64_t verify_packs = 20'000;
  int64_t dispense_packs = 60'000;
};

// --storage: where the nodes keep their data (empty: SQLite in their directory).
std::string g_storage;

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string WithCheckDigit(const std::string& body) {
  return body + std::to_string(provenance::Gs1CheckDigit(body));
}
JsonValue Event(const std::string& kind) {
  auto p = JsonValue::Object();
  p.set("kind", JsonValue(kind));
  return p;
}
std::string PackUri(const std::string& serial) {
  return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
}

struct Org {
  std::string id, role, prefix;
  std::string gln() const { return WithCheckDigit(prefix + std::string(12 - prefix.size(), '0')); }
};
const Org kMfg{"mfg", "manufacturer", "9506000"};
const Org kPharmacy{"ph1", "dispenser", "4000001"};
const Org kWholesalers[] = {{"ws1", "wholesaler", "4012345"},
                            {"ws2", "wholesaler", "4012346"},
                            {"ws3", "wholesaler", "4012347"}};

// A node in a temporary directory with a manufacturer, a pharmacy and three
// wholesalers (keys held by the node), one product and its batches.
class Chain {
 public:
  Chain() {
    char tmpl[] = "/tmp/bench_supply.XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir_ = tmpl;
    node_ = Must(SupplyNode::Create((dir_ / "ledger").string(), "bench.example/supply",
                                    authority_.public_key(), {}, g_storage),
                 "create node");
    Register(kMfg);
    Register(kPharmacy);
    for (const Org& w : kWholesalers) Register(w);
    auto product = Event("product.register");
    product.set("gtin", JsonValue(kGtin));
    product.set("name", JsonValue("Examplamab 10 mg/ml"));
    Must(node_->SubmitAs(kMfg.id, product), "product.register");
  }
  ~Chain() {
    node_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  SupplyNode& node() { return *node_; }
  const fs::path& dir() const { return dir_; }

  void RegisterBatch(const std::string& lot, int64_t quantity) {
    auto batch = Event("batch.register");
    batch.set("gtin", JsonValue(kGtin));
    batch.set("lot", JsonValue(lot));
    batch.set("expiry", JsonValue("2028-03-31"));
    batch.set("quantity", JsonValue(quantity));
    Must(node_->SubmitAs(kMfg.id, batch), "batch.register " + lot);
  }

  // Commissions `serials` at the manufacturer in one event; ships them in one event to
  // `to` and, when `receive`, receives them there.
  void Commission(const std::string& lot, const std::vector<std::string>& serials) {
    auto c = Event("commission");
    c.set("gtin", JsonValue(kGtin));
    c.set("lot", JsonValue(lot));
    c.set("location", JsonValue(kMfg.gln()));
    c.set("serials", JsonValue::Strings(serials));
    Must(node_->SubmitAs(kMfg.id, c), "commission");
  }
  void Ship(const std::vector<std::string>& serials, const Org& to, bool receive) {
    std::vector<std::string> epcs;
    epcs.reserve(serials.size());
    for (const auto& s : serials) epcs.push_back(PackUri(s));
    std::string advice = "DA-" + std::to_string(++advice_counter_);
    auto ship = Event("ship");
    ship.set("epcs", JsonValue::Strings(epcs));
    ship.set("to", JsonValue(to.id));
    ship.set("toLocation", JsonValue(to.gln()));
    ship.set("despatchAdvice", JsonValue(advice));
    Must(node_->SubmitAs(kMfg.id, ship), "ship");
    if (!receive) return;
    auto r = Event("receive");
    r.set("from", JsonValue(kMfg.id));
    r.set("despatchAdvice", JsonValue(advice));
    r.set("location", JsonValue(to.gln()));
    Must(node_->SubmitAs(to.id, r), "receive");
  }

  // Packs `serial(i)` for i in [0, n) of `lot`, in events of `chunk` serials submitted
  // from `threads` threads (so group commit has company), shipped and received at
  // `to` when given.
  void MakePacks(const std::string& lot, int64_t n,
                 const std::function<std::string(int64_t)>& serial, const Org* to, int threads = 4,
                 int64_t chunk = 1000) {
    std::atomic<int64_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        while (true) {
          int64_t from = next.fetch_add(chunk);
          if (from >= n) break;
          std::vector<std::string> serials;
          for (int64_t i = from; i < std::min(n, from + chunk); ++i) serials.push_back(serial(i));
          Commission(lot, serials);
          if (to) Ship(serials, *to, true);
        }
      });
    }
    for (auto& t : pool) t.join();
  }

  std::string Token(const Org& org) {
    if (!tokens_) tokens_ = Must(TokenStore::Open((dir_ / "tokens.db").string()), "token store");
    return Must(tokens_->Issue(org.id, {org.role}, "bench"), "issue token");
  }
  std::unique_ptr<HttpServer> Serve(size_t threads) {
    if (!tokens_) tokens_ = Must(TokenStore::Open((dir_ / "tokens.db").string()), "token store");
    Router router;
    Must(AddApiRoutes(router, *node_, ApiOptions{kPharmacy.gln()}), "routes");
    ServerConfig config;
    config.threads = threads;
    config.max_queued = 1024;
    config.max_body_bytes = 64 * 1024;
    return Must(HttpServer::Start(config, std::move(router), tokens_.get()), "server");
  }

  uint64_t StorageBytes() const {
    uint64_t total = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "ledger")) {
      if (e.is_regular_file()) total += e.file_size();
    }
    return total;
  }

 private:
  void Register(const Org& o) {
    log::PrivateKey key = log::PrivateKey::Generate();
    Must(node_->HoldKey(o.id, key), "hold key");
    Must(node_->RegisterOrg(
             authority_,
             {o.id, o.id, {o.role}, {o.prefix}, {o.gln()}, ToBase64(key.public_key().raw())}),
         "org.register " + o.id);
  }

  fs::path dir_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::atomic<int> advice_counter_{0};
};

// ---- wrk -------------------------------------------------------------------------

struct WrkFigures {
  bool ran = false;
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t requests = 0, non2xx = 0, socket_errors = 0;
  int64_t ok = -1, bad = -1;  // from the Lua response() counter, when the script has one
  std::string raw;
};

double ToMs(double value, const std::string& unit) {
  if (unit == "us") return value / 1000;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60000;
  return value;  // ms
}

// The script prefix that gives each wrk thread an id and a request counter, and
// reports per-thread response counts (status == `ok_status` vs anything else).
std::string WrkCommonLua(int ok_status) {
  return "local next_id = 0\nlocal threads = {}\n"
         "function setup(thread)\n  thread:set('tid', next_id)\n  next_id = next_id + 1\n"
         "  table.insert(threads, thread)\nend\n"
         "function init(args)\n  n = 0\n  ok = 0\n  bad = 0\nend\n"
         "function response(status, headers, body)\n  if status == " +
         std::to_string(ok_status) +
         " then ok = ok + 1 else bad = bad + 1 end\nend\n"
         "function done(summary, latency, requests)\n  local o, b = 0, 0\n"
         "  for _, t in ipairs(threads) do o = o + t:get('ok'); b = b + t:get('bad') end\n"
         "  io.write(string.format('PEDIGREE ok=%d bad=%d\\n', o, b))\nend\n";
}

WrkFigures RunWrk(uint16_t port, const std::string& path, const std::string& lua, int threads,
                  int connections, int seconds) {
  WrkFigures f;
  char tmpl[] = "/tmp/bench_supply_wrk.XXXXXX.lua";
  int fd = mkstemps(tmpl, 4);
  if (fd < 0) return f;
  close(fd);
  {
    std::ofstream out(tmpl);
    out << lua;
  }
  std::string cmd = "wrk --latency -t" + std::to_string(threads) + " -c" +
                    std::to_string(connections) + " -d" + std::to_string(seconds) +
                    "s --timeout 10s -s " + tmpl + " http://127.0.0.1:" + std::to_string(port) +
                    path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return f;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) f.raw.append(buf, n);
  int rc = pclose(p);
  std::remove(tmpl);
  if (rc != 0) return f;
  std::smatch m;
  if (std::regex_search(f.raw, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) {
    f.requests_per_second = std::stod(m[1]);
    f.ran = true;
  }
  if (std::regex_search(f.raw, m, std::regex(R"(\n\s+50%\s+([0-9.]+)(us|ms|s|m))")))
    f.p50_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(f.raw, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s|m))")))
    f.p99_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(f.raw, m, std::regex(R"((\d+) requests in)")))
    f.requests = std::stoll(m[1]);
  if (std::regex_search(f.raw, m, std::regex(R"(Non-2xx or 3xx responses: (\d+))")))
    f.non2xx = std::stoll(m[1]);
  if (std::regex_search(
          f.raw, m,
          std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))"))) {
    f.socket_errors = std::stoll(m[1]) + std::stoll(m[2]) + std::stoll(m[3]) + std::stoll(m[4]);
  }
  if (std::regex_search(f.raw, m, std::regex(R"(PEDIGREE ok=(\d+) bad=(\d+))"))) {
    f.ok = std::stoll(m[1]);
    f.bad = std::stoll(m[2]);
  }
  return f;
}

bool HaveWrk() {
  return std::system("wrk --version >/dev/null 2>&1") == 0 ||
         std::system("command -v wrk >/dev/null 2>&1") == 0;
}

std::string Describe(const WrkFigures& f) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "p50 %.2f ms, p99 %.2f ms, %lld requests, %lld non-2xx, %lld socket errors",
                f.p50_ms, f.p99_ms, static_cast<long long>(f.requests),
                static_cast<long long>(f.non2xx), static_cast<long long>(f.socket_errors));
  return buf;
}

size_t ServerThreads(const Options& o) {
  return o.server_threads > 0 ? static_cast<size_t>(o.server_threads)
                              : static_cast<size_t>(o.connections + 8);
}

// ---- 1. verify --------------------------------------------------------------------

std::string VerifySerial(int64_t i) { return "V" + std::to_string(i); }
std::string VerifyCode(int64_t i) { return "(01)" + kGtin + "(21)" + VerifySerial(i); }

void BenchVerify(const Options& o) {
  Chain chain;
  chain.RegisterBatch(kLot, o.verify_packs);
  Stopwatch setup;
  chain.MakePacks(kLot, o.verify_packs, VerifySerial, &kPharmacy);
  std::printf(
      "# verify: %lld active packs at %s (commission+ship+receive in events of 1000, 4 submitting "
      "threads) in %.1f s; ledger %llu entries\n",
      static_cast<long long>(o.verify_packs), kPharmacy.id.c_str(), setup.seconds(),
      static_cast<unsigned long long>(chain.node().ledger().size()));

  // In-process reference: SupplyNode::Verify on the same codes, 1 and 2 threads.
  auto in_process = [&](int threads) {
    const int64_t per_thread = 40'000 / threads;
    std::atomic<int64_t> unverified{0};
    Stopwatch sw;
    double cpu0 = CpuSeconds();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int64_t i = 0; i < per_thread; ++i) {
          auto a = chain.node().Verify(VerifyCode((i * 7919 + t * 104729) % o.verify_packs));
          if (!a || !a->verified) ++unverified;
        }
      });
    }
    for (auto& th : pool) th.join();
    double s = sw.seconds();
    if (unverified)
      std::printf("# verify in-process: %lld codes did not verify\n",
                  static_cast<long long>(unverified.load()));
    return std::pair{threads * per_thread / s,
                     (CpuSeconds() - cpu0) / (threads * per_thread) * 1e6};
  };
  auto [rate1, cpu1] = in_process(1);
  auto [rate2, cpu2] = in_process(2);
  auto [rate32, cpu32] = in_process(32);
  std::printf(
      "# verify in-process (no HTTP): %.0f/s on 1 thread, %.0f/s on 2 threads; %.1f us CPU each; "
      "%.0f/s on 32 threads, %.1f us CPU each\n",
      rate1, rate2, cpu2, rate32, cpu32);

  if (!HaveWrk()) {
    std::printf("# wrk not found: verify over HTTP not measured\n");
    return;
  }
  auto server = chain.Serve(ServerThreads(o));
  std::string token = chain.Token(kPharmacy);
  std::printf(
      "# server: %zu threads; wrk -t%d -c%d -d%ds, keep-alive, codes cycle over %lld packs\n",
      ServerThreads(o), o.wrk_threads, o.connections, o.seconds,
      static_cast<long long>(o.verify_packs));

  double health_cpu0 = CpuSeconds();
  WrkFigures health = RunWrk(server->port(), "/healthz", WrkCommonLua(200), o.wrk_threads,
                             o.connections, o.seconds);
  std::printf("# healthz wrk: %.0f requests/s, %s; server CPU %.1f us per request\n",
              health.requests_per_second, Describe(health).c_str(),
              health.requests ? (CpuSeconds() - health_cpu0) / health.requests * 1e6 : 0.0);
  // Breakdown: the same route with the token but no code answers 400 after routing and
  // authentication, before Verify and the answer's JSON.
  {
    std::string no_code =
        WrkCommonLua(400) + "wrk.headers['Authorization'] = 'Bearer " + token + "'\n";
    double c0 = CpuSeconds();
    WrkFigures b = RunWrk(server->port(), "/v1/verify", no_code, o.wrk_threads, o.connections, 3);
    std::printf(
        "# breakdown: GET /v1/verify with token, no code (400 after auth): %.0f requests/s, p99 "
        "%.2f ms; server CPU %.1f us per request\n",
        b.requests_per_second, b.p99_ms, b.requests ? (CpuSeconds() - c0) / b.requests * 1e6 : 0.0);
  }
  std::string lua = WrkCommonLua(200) + "wrk.headers['Authorization'] = 'Bearer " + token +
                    "'\n"
                    "function request()\n  n = n + 1\n"
                    "  local k = (tid * 7919 + n * 104729) % " +
                    std::to_string(o.verify_packs) +
                    "\n"
                    "  return wrk.format('GET', '/v1/verify?code=%2801%29" +
                    kGtin + "%2821%29V' .. k)\nend\n";
  double cpu0 = CpuSeconds();
  WrkFigures v = RunWrk(server->port(), "/v1/verify", lua, o.wrk_threads, o.connections, o.seconds);
  double server_cpu = CpuSeconds() - cpu0;
  if (!v.ran) {
    std::printf("# wrk failed:\n%s\n", v.raw.c_str());
    return;
  }
  std::printf("# verify wrk: %s; 200s %lld, other %lld; server CPU %.1f us per request\n",
              Describe(v).c_str(), static_cast<long long>(v.ok), static_cast<long long>(v.bad),
              v.requests ? server_cpu / v.requests * 1e6 : 0.0);
  char ref[512];
  std::snprintf(ref, sizeof ref,
                "in-process Verify %.0f/s on 2 threads; GET /healthz %.0f/s p99 %.2f ms", rate2,
                health.requests_per_second, health.p99_ms);
  Report("verify over HTTP", v.requests_per_second, "requests/s", ">= 10000 requests/s", ref);
  Report("verify over HTTP p99", v.p99_ms, "ms", "<= 10 ms (EU 300 ms)",
         "GET /healthz p99 " + std::to_string(health.p99_ms).substr(0, 5) + " ms");
}

// ---- 2. dispense ------------------------------------------------------------------

std::string DispenseSerial(int thread, int64_t n) {
  return "T" + std::to_string(thread) + "N" + std::to_string(n);
}

void BenchDispense(const Options& o) {
  Chain chain;
  const int64_t per_thread = o.dispense_packs / o.wrk_threads;
  const int64_t reference_packs = 8'000;
  chain.RegisterBatch(kLot, per_thread * o.wrk_threads + reference_packs);
  Stopwatch setup;
  for (int t = 0; t < o.wrk_threads; ++t) {
    chain.MakePacks(
        kLot, per_thread, [t](int64_t n) { return DispenseSerial(t, n); }, &kPharmacy);
  }
  chain.MakePacks(
      kLot, reference_packs, [](int64_t n) { return "R" + std::to_string(n); }, &kPharmacy);
  std::printf(
      "# dispense: %lld packs at %s (%lld per wrk thread, serial T<thread>N<n>) + %lld for the "
      "in-process reference, in %.1f s\n",
      static_cast<long long>(per_thread * o.wrk_threads), kPharmacy.id.c_str(),
      static_cast<long long>(per_thread), static_cast<long long>(reference_packs), setup.seconds());

  // Reference 1: raw Ed25519 sign + verify of a dispense-sized message on all cores.
  log::PrivateKey key = log::PrivateKey::Generate();
  log::PublicKey pub = key.public_key();
  const std::string message(420, 'x');
  double sign_verify_rate = 0;
  {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<int64_t> done{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> pool;
    Stopwatch sw;
    for (unsigned c = 0; c < cores; ++c) {
      pool.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          Bytes sig = key.Sign(message);
          if (!pub.Verify(message, sig)) std::abort();
          ++done;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    stop = true;
    for (auto& t : pool) t.join();
    sign_verify_rate = done / sw.seconds();
  }
  // Where one dispense's CPU goes: single-thread CPU of a sign, a verify.
  double sign_us = 0, verify_us = 0;
  {
    const int n = 2000;
    Bytes sig;
    double c0 = CpuSeconds();
    for (int i = 0; i < n; ++i) sig = key.Sign(message);
    double c1 = CpuSeconds();
    for (int i = 0; i < n; ++i) {
      if (!pub.Verify(message, sig)) std::abort();
    }
    sign_us = (c1 - c0) / n * 1e6;
    verify_us = (CpuSeconds() - c1) / n * 1e6;
  }
  // Reference 2: SubmitAs of dispense events in-process from 32 threads.
  double submit_rate = 0, submit_cpu_us = 0;
  {
    double c0 = CpuSeconds();
    std::atomic<int64_t> next{0}, failed{0};
    std::vector<std::thread> pool;
    Stopwatch sw;
    for (int t = 0; t < 32; ++t) {
      pool.emplace_back([&] {
        while (true) {
          int64_t i = next++;
          if (i >= reference_packs) break;
          auto d = DispensePayload({PackUri("R" + std::to_string(i))}, kPharmacy.gln());
          if (!chain.node().SubmitAs(kPharmacy.id, d)) ++failed;
        }
      });
    }
    for (auto& t : pool) t.join();
    submit_rate = reference_packs / sw.seconds();
    submit_cpu_us = (CpuSeconds() - c0) / reference_packs * 1e6;
    if (failed)
      std::printf("# in-process dispense: %lld refused\n", static_cast<long long>(failed.load()));
  }
  std::printf(
      "# references: Ed25519 sign+verify %.0f/s on %u cores (CPU %.0f us sign + %.0f us verify); "
      "in-process SubmitAs dispense %.0f/s (32 threads, %.0f us CPU each)\n",
      sign_verify_rate, std::thread::hardware_concurrency(), sign_us, verify_us, submit_rate,
      submit_cpu_us);

  if (!HaveWrk()) {
    std::printf("# wrk not found: dispense over HTTP not measured\n");
    return;
  }
  auto server = chain.Serve(ServerThreads(o));
  std::string token = chain.Token(kPharmacy);
  uint64_t size_before = chain.node().ledger().size(), bytes_before = chain.StorageBytes();
  std::string lua = WrkCommonLua(201) +
                    "wrk.method = 'POST'\n"
                    "wrk.headers['Authorization'] = 'Bearer " +
                    token +
                    "'\n"
                    "wrk.headers['Content-Type'] = 'application/json'\n"
                    "function request()\n"
                    "  local body = '{\"code\":\"(01)" +
                    kGtin + "(21)T' .. tid .. 'N' .. n .. '\",\"location\":\"" + kPharmacy.gln() +
                    "\"}'\n"
                    "  n = n + 1\n"
                    "  return wrk.format('POST', '/v1/dispense', nil, body)\nend\n";
  double cpu0 = CpuSeconds();
  WrkFigures d =
      RunWrk(server->port(), "/v1/dispense", lua, o.wrk_threads, o.connections, o.seconds);
  double server_cpu = CpuSeconds() - cpu0;
  if (!d.ran) {
    std::printf("# wrk failed:\n%s\n", d.raw.c_str());
    return;
  }
  uint64_t appended = chain.node().ledger().size() - size_before;
  std::printf(
      "# dispense wrk: %s; 201s %lld, other %lld; ledger grew by %llu entries; server CPU %.1f us "
      "per request\n",
      Describe(d).c_str(), static_cast<long long>(d.ok), static_cast<long long>(d.bad),
      static_cast<unsigned long long>(appended), d.requests ? server_cpu / d.requests * 1e6 : 0.0);
  if (appended > 0) {
    double per_event = static_cast<double>(chain.StorageBytes() - bytes_before) / appended;
    std::printf(
        "# storage: ledger files grew %.0f bytes per single-pack dispense event (WAL included)\n",
        per_event);
    Report("storage per single-pack event", per_event, "bytes", "<= 1024 bytes per event",
           "growth of the ledger directory over the dispense run, WAL included");
  }
  if (d.bad > 0)
    std::printf("# dispense ERRORS: %lld responses were not 201\n", static_cast<long long>(d.bad));
  char ref[512];
  std::snprintf(ref, sizeof ref, "in-process SubmitAs %.0f/s; Ed25519 sign+verify %.0f/s",
                submit_rate, sign_verify_rate);
  // Only 201s count toward the rate.
  double ok_rate = d.ok >= 0 && d.requests > 0 ? d.requests_per_second * d.ok / d.requests
                                               : d.requests_per_second;
  Report("dispense over HTTP", ok_rate, "201s/s", ">= 5000 requests/s", ref);
  // Issue 18: the HTTP front may cost at most a fifth of the in-process rate, both
  // measured in this run on the same machine.
  Report("dispense over HTTP / in-process SubmitAs", submit_rate > 0 ? ok_rate / submit_rate : 0,
         "x", ">= 0.8 x", "in-process SubmitAs " + std::to_string(std::lround(submit_rate)) + "/s",
         2);
  Report("dispense over HTTP p99", d.p99_ms, "ms", "<= 50 ms",
         "p50 " + std::to_string(d.p50_ms).substr(0, 5) + " ms");
}

// ---- 3. recall --------------------------------------------------------------------

void BenchRecall(const Options& o) {
  Chain chain;
  const std::string lot = "RECALL1";
  chain.RegisterBatch(lot, o.recall_packs);
  auto serial = [](int64_t i) { return "P" + std::to_string(i); };
  Stopwatch sw;
  double cpu0 = CpuSeconds();
  chain.MakePacks(lot, o.recall_packs, serial, nullptr, 4, 1000);
  double commission_s = sw.seconds(), commission_cpu = CpuSeconds() - cpu0;
  std::printf(
      "# recall: commissioned %lld packs of one batch in %lld events of 1000 (4 submitting "
      "threads) in %.1f s (%.1f s CPU)\n",
      static_cast<long long>(o.recall_packs), static_cast<long long>((o.recall_packs + 999) / 1000),
      commission_s, commission_cpu);
  // Ship 30% in events of 5000: 10% each to ws1 and ws2 (received), 10% to ws3 (in transit).
  Stopwatch ship_sw;
  const int64_t per_holder = o.recall_packs / 10, chunk = 5000;
  int64_t shipped_events = 0;
  for (int w = 0; w < 3; ++w) {
    for (int64_t from = 0; from < per_holder; from += chunk) {
      std::vector<std::string> serials;
      for (int64_t i = from; i < std::min(per_holder, from + chunk); ++i)
        serials.push_back(serial(w * per_holder + i));
      chain.Ship(serials, kWholesalers[w], w < 2);
      ++shipped_events;
    }
  }
  std::printf(
      "# recall: shipped 3 x %lld packs to ws1, ws2 (received) and ws3 (in transit) in %lld ship "
      "events of %lld in %.1f s\n",
      static_cast<long long>(per_holder), static_cast<long long>(shipped_events),
      static_cast<long long>(chunk), ship_sw.seconds());

  auto reach = [&] {
    Stopwatch q;
    auto r =
        chain.node().Read([&](provenance::ProvenanceView& v) { return v.RecallReach(kGtin, lot); });
    double s = q.seconds();
    if (!r) Die("recall reach", r.error());
    int64_t total = 0;
    for (const auto& h : *r) total += h.packs;
    if (total != o.recall_packs)
      std::printf("# recall reach counted %lld packs, expected %lld\n",
                  static_cast<long long>(total), static_cast<long long>(o.recall_packs));
    return std::pair{s, *r};
  };
  auto [cold, rows] = reach();
  auto [warm, rows2] = reach();
  double warm_best = warm;
  for (int i = 0; i < 3; ++i) warm_best = std::min(warm_best, reach().first);
  for (const auto& h : rows) {
    std::printf("#   %-4s %-12s %-4s %lld packs\n", h.holder.c_str(), h.status.c_str(),
                h.in_transit_to.c_str(), static_cast<long long>(h.packs));
  }
  Report("recall reach of a " + std::to_string(o.recall_packs) + "-pack batch (first query)",
         cold * 1000, "ms", "<= 1000 ms",
         "best of 4 repeats " + std::to_string(warm_best * 1000).substr(0, 6) + " ms");

  uint64_t bytes = chain.StorageBytes(), entries = chain.node().ledger().size();
  std::printf("# storage: %llu bytes in %s for %llu entries (%lld packs)\n",
              static_cast<unsigned long long>(bytes), (chain.dir() / "ledger").c_str(),
              static_cast<unsigned long long>(entries), static_cast<long long>(o.recall_packs));
  // Pack-events: every pack a commission, ship or receive event names.
  const int64_t pack_events = o.recall_packs + 3 * per_holder + 2 * per_holder;
  Report("storage per pack-event (bulk events)", static_cast<double>(bytes) / pack_events, "bytes",
         "<= 1024 bytes per event",
         std::to_string(bytes / entries) +
             " bytes per ledger entry; entries carry 1000-5000 serials each");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> int64_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_supply: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::stoll(argv[++i]);
    };
    if (a == "verify" || a == "dispense" || a == "recall" || a == "all")
      o.what = a;
    else if (a == "--packs")
      o.recall_packs = value();
    else if (a == "--seconds")
      o.seconds = static_cast<int>(value());
    else if (a == "--connections")
      o.connections = static_cast<int>(value());
    else if (a == "--wrk-threads")
      o.wrk_threads = static_cast<int>(value());
    else if (a == "--server-threads")
      o.server_threads = static_cast<int>(value());
    else if (a == "--verify-packs")
      o.verify_packs = value();
    else if (a == "--dispense-packs")
      o.dispense_packs = value();
    else if (a == "--storage" && i + 1 < argc)
      g_storage = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: bench_supply [verify|dispense|recall|all] [--packs N] [--seconds S] "
                   "[--connections C]\n"
                   "                    [--wrk-threads T] [--server-threads N] [--verify-packs N] "
                   "[--dispense-packs N]\n"
                   "                    [--storage postgresql://...]\n");
      return 2;
    }
  }
  std::printf("# bench_supply: %u cores; wrk and the server share them\n",
              std::thread::hardware_concurrency());
  if (o.what == "verify" || o.what == "all") BenchVerify(o);
  if (o.what == "dispense" || o.what == "all") BenchDispense(o);
  if (o.what == "recall" || o.what == "all") BenchRecall(o);
  return 0;
}
