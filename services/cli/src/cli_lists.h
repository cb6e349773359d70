// List options of the CLI (`--children`, `--code`, `--serials`): comma- or
// newline-separated values, or `@FILE` with one value per line. Codes in a list may be in
// any scanner form; one parser for every option that takes them (docs/cli.md, "Lists").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::services {

// One value of a list option and where it was given: `file` is empty for the command
// line; `line` (1-based) is its line in the file or in the option's value, `column`
// (1-based) where the value starts on that line.
struct ListItem {
  std::string text;
  std::string file;
  uint64_t line = 1;
  uint64_t column = 1;
};

// The values of `--option VALUE`: VALUE split at commas and newlines, or, when it is
// `@FILE`, the lines of FILE (no comma split, so a value may hold commas). Spaces, tabs and
// carriage returns around a value are dropped; empty values, and lines of a file whose
// first non-blank character is '#', are skipped. cli.io when FILE cannot be read;
// cli.usage (field `option`) when no value is left.
[[nodiscard]] Result<std::vector<ListItem>> ReadListOption(const std::string& option,
                                                           const std::string& value);

// The values of a list option that names packs or logistic units, each as the ledger's
// epc (services::EpcOfCode: any scanner form). A value that does not parse is the
// parser's error with its field set to `option`, its message naming the value's place
// ("--children item 2" or "FILE:3:5"), and for a file the line and column of the error.
[[nodiscard]] Result<std::vector<std::string>> ReadEpcListOption(const std::string& option,
                                                                 const std::string& value);

}  // namespace pedigree::services
