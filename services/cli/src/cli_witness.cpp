// `pedigree witness init|serve`: a C2SP tlog-witness (docs/witness.md).
#include <pthread.h>

#include <csignal>
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/witness_server.h"
#include "pedigree/log/witness.h"

namespace pedigree::services {
namespace {

int WitnessInit(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "name"}, {"json"});
  if (!args) return PrintError(io.err, args.error()), 2;
  auto dir = args->required("dir");
  if (!dir) return PrintError(io.err, dir.error()), 2;
  auto name = args->required("name");
  if (!name) return PrintError(io.err, name.error()), 2;
  auto vkey = log::Witness::Init(*dir, *name);
  if (!vkey) return PrintError(io.err, vkey.error());
  if (args->has("json")) {
    PrintJson(io.out, JsonValue::Object().set("verifier_key", JsonValue(*vkey)));
  } else {
    io.out << *vkey << "\n";
  }
  return 0;
}

int WitnessServe(const std::vector<std::string>& argv, CliIo& io) {
  // --log repeats, which Args does not keep: take every occurrence out first.
  std::vector<std::string> rest, log_keys;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--log" && i + 1 < argv.size()) {
      log_keys.push_back(argv[++i]);
    } else if (argv[i].starts_with("--log=")) {
      log_keys.push_back(argv[i].substr(6));
    } else {
      rest.push_back(argv[i]);
    }
  }
  auto args = Args::Parse(rest, 2,
                          {"dir", "port", "bind", "prefix", "rate", "config", "threads",
                           "access-log", "tls-cert", "tls-key", "log"});
  if (!args) return PrintError(io.err, args.error()), 2;
  auto dir = args->required("dir");
  if (!dir) return PrintError(io.err, dir.error()), 2;
  auto port = args->number("port");
  if (!port || (*port && **port > 65535)) {
    return PrintError(io.err, port ? Error("cli.usage", "--port must be 0..65535").at_field("port")
                                   : port.error()),
           2;
  }
  std::vector<log::WitnessedLog> logs;
  const std::string rate = args->get("rate").value_or("");
  for (const std::string& vkey : log_keys) {
    auto l = log::ParseWitnessedLog(vkey, "", rate);
    if (!l) return PrintError(io.err, l.error()), 2;
    logs.push_back(*std::move(l));
  }
  if (auto file = args->get("config")) {
    auto text = ReadInput(*file, io.in);
    if (!text) return PrintError(io.err, text.error());
    auto more = log::ParseWitnessConfig(*text);
    if (!more) return PrintError(io.err, more.error().with_context(*file)), 2;
    for (auto& l : *more) logs.push_back(std::move(l));
  }
  if (logs.empty()) {
    return PrintError(io.err, Error("cli.usage", "witness serve needs --log VKEY or --config FILE")
                                  .at_field("log")),
           2;
  }

  ServerConfig config;
  config.bind = args->get("bind").value_or("127.0.0.1");
  config.port = static_cast<uint16_t>(port->value_or(0));
  auto threads = args->number("threads");
  if (!threads) return PrintError(io.err, threads.error()), 2;
  if (*threads && **threads > 0) config.threads = static_cast<size_t>(**threads);
  if (auto cert = args->get("tls-cert")) config.tls_cert_file = *cert;
  if (auto key = args->get("tls-key")) config.tls_key_file = *key;
  std::ofstream access_log;
  if (auto path = args->get("access-log")) {
    access_log.open(*path, std::ios::app);
    config.access_log = &access_log;
  }

  auto witness = log::Witness::Open(*dir, std::move(logs));
  if (!witness) return PrintError(io.err, witness.error());
  Router router;
  const std::string prefix = args->get("prefix").value_or("");
  if (auto ok = AddWitnessRoutes(router, **witness, prefix); !ok) {
    return PrintError(io.err, ok.error()), 2;
  }
  // Signals are blocked before any thread starts so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = HttpServer::Start(config, std::move(router), nullptr);
  if (!server) {
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    return PrintError(io.err, server.error());
  }
  io.out << "witness " << (*witness)->VerifierKey() << " serving "
         << ((*server)->tls() ? "https" : "http") << "://" << config.bind << ":"
         << (*server)->port() << prefix << "/add-checkpoint for";
  for (const auto& l : (*witness)->logs()) io.out << " " << l.origin;
  io.out << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  io.out << "signal " << signal << ": finishing in-flight requests" << std::endl;
  (*server)->Stop();
  io.out << "stopped" << std::endl;
  return 0;
}

}  // namespace

std::vector<Command> WitnessCommands() {
  return {
      {"witness init",
       "witness init --dir D --name NAME   new witness key and state; prints its verifier key",
       WitnessInit,
       "  --dir D        the witness's directory (required)\n"
       "  --name NAME    the witness's key name, as in its verifier key (required)\n"
       "  --json         print {\"verifier_key\"} instead of the bare key\n",
       "witness init --dir ./witness --name witness.example.org"},
      {"witness serve",
       "witness serve --dir D [--port P] [--bind A] --log VKEY [--log VKEY..] [--config FILE] "
       "[--prefix /p] [--rate N]   C2SP tlog-witness server",
       WitnessServe,
       "  --dir D        the witness's directory, from witness init (required)\n"
       "  --log VKEY     a log to cosign, by its verifier key; repeat for more\n"
       "  --config FILE  more logs, in the C2SP witness configuration format\n"
       "  --bind A       address to listen on (default: 127.0.0.1)\n"
       "  --port P       TCP port (default: 0, any free port)\n"
       "  --prefix /p    URL path prefix of the witness endpoints (default: none)\n"
       "  --rate N       cosignatures per second per log (default: unlimited)\n"
       "  --threads N    request threads (default: 32)\n"
       "  --tls-cert F --tls-key F\n"
       "                 serve HTTPS with this PEM certificate chain and key\n"
       "  --access-log F append one line per request to F (default: none)\n",
       "witness serve --dir ./witness --port 8443 --log \"$(cat ledger/log.vkey)\""},
  };
}

}  // namespace pedigree::services
