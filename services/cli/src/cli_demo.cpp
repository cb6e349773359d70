// `pedigree demo`: the end-to-end supply-chain scenario (see services/demo.h).
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "pedigree/demo/demo.h"

namespace pedigree::services {
namespace {

int Demo(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "packs-per-batch"});
  if (!args) return PrintError(io.err, args.error());
  DemoOptions options;
  options.dir = args->get("dir").value_or("demo");
  auto packs = args->number("packs-per-batch");
  if (!packs) return PrintError(io.err, packs.error());
  if (*packs) options.packs_per_batch = std::max<uint64_t>(**packs, 400);
  if (std::filesystem::exists(std::filesystem::path(options.dir) / "ledger")) {
    return PrintError(io.err, Error("cli.usage", "a demo ledger already exists in " + options.dir +
                                                     "; remove it or pass --dir")
                                  .at_field("dir"));
  }
  auto done = RunDemo(options, io.out);
  if (!done) return PrintError(io.err, done.error());
  return 0;
}

}  // namespace

std::vector<Command> DemoCommands() {
  return {{"demo", "demo [--dir D] [--packs-per-batch N]  end-to-end supply-chain scenario", Demo}};
}

}  // namespace pedigree::services
