// The `pedigree` CLI run in-process, as a script would see it: exit code, stdout and stderr.
#pragma once

#include <ctime>
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

// A minute ago in UTC (RFC 3339, seconds): an event time the node accepts, since event
// times are checked against the sequencing time.
inline std::string RecentUtc() {
  std::time_t t = std::time(nullptr) - 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace pedigree::services::testing
