// `pedigree demo`: the end-to-end supply-chain scenario (see services/demo.h).
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "cli_demo_network.h"
#include "pedigree/demo/demo.h"

namespace pedigree::services {
namespace {

constexpr size_t kNetworkPacksPerBatch = 100;

// A usage error exits 2, as docs/cli.md says; any other failure 1.
int Failed(CliIo& io, const Error& e) {
  PrintError(io.err, e);
  return e.code() == "cli.usage" ? 2 : 1;
}

int Demo(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "packs-per-batch"}, {"network"});
  if (!args) return Failed(io, args.error());
  const bool network = args->has("network");
  DemoOptions options;
  options.dir = args->get("dir").value_or(network ? "demo-network" : "demo");
  // The network demo runs every step over loopback HTTP too: a smaller scenario keeps it
  // near half a minute.
  if (network) options.packs_per_batch = kNetworkPacksPerBatch;
  auto packs = args->number("packs-per-batch");
  if (!packs) return Failed(io, packs.error());
  if (*packs) {
    if (**packs < kMinPacksPerBatch || **packs > kMaxPacksPerBatch) {
      return Failed(io, Error("cli.usage", "--packs-per-batch " + std::to_string(**packs) +
                                               " is outside the accepted range " +
                                               std::to_string(kMinPacksPerBatch) + ".." +
                                               std::to_string(kMaxPacksPerBatch))
                            .at_field("packs-per-batch"));
    }
    options.packs_per_batch = **packs;
  }
  if (std::filesystem::exists(std::filesystem::path(options.dir) / "ledger")) {
    return Failed(io, Error("cli.usage", "a demo ledger already exists in " + options.dir +
                                             "; remove it or pass --dir")
                          .at_field("dir"));
  }
  if (network) return RunNetworkDemo(options, io);
  auto done = RunDemo(options, io.out);
  if (!done) return Failed(io, done.error());
  return 0;
}

}  // namespace

std::vector<Command> DemoCommands() {
  return {{"demo",
           "demo [--network] [--dir D] [--packs-per-batch N]  end-to-end supply-chain scenario",
           Demo,
           "  --network      the consortium on one machine: 3 witnesses (2-of-3 policy), the\n"
           "                 node, offline verification, a fork refused and caught by the monitor\n"
           "  --dir D        where to create the demo (default: ./demo, ./demo-network)\n"
           "  --packs-per-batch N\n"
           "                 packs commissioned per batch (default: the scenario's own; 100\n"
           "                 with --network)\n",
           "demo --dir /tmp/pedigree-demo"}};
}

}  // namespace pedigree::services
