// The `pedigree` CLI run in-process, as a script would see it: exit code, stdout and stderr.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "pedigree/cli/cli.h"

namespace pedigree::services::testing {

struct Run {
  int rc;
  std::string out;
  std::string err;
};

// Runs `pedigree <args>` with `stdin_text` as its standard input.
inline Run Cli(std::vector<std::string> args, const std::string& stdin_text = "") {
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  int rc = RunCli(args, in, out, err);
  return {rc, out.str(), err.str()};
}

}  // namespace pedigree::services::testing
