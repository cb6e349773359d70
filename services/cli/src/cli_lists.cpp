#include "cli_lists.h"

#include <fstream>
#include <sstream>

#include "pedigree/usecases/supply_actions.h"

namespace pedigree::services {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Adds `piece` (trimmed) to `out` unless it is empty; `column` is where `piece` starts.
void AddTrimmed(std::string_view piece, ListItem where, std::vector<ListItem>& out) {
  size_t begin = 0;
  while (begin < piece.size() && IsBlank(piece[begin])) ++begin;
  size_t end = piece.size();
  while (end > begin && IsBlank(piece[end - 1])) --end;
  if (begin == end) return;
  where.text = std::string(piece.substr(begin, end - begin));
  where.column += begin;
  out.push_back(std::move(where));
}

}  // namespace

Result<std::vector<ListItem>> ReadListOption(const std::string& option, const std::string& value) {
  std::vector<ListItem> items;
  if (value.starts_with("@")) {
    const std::string path = value.substr(1);
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      return Fail(Error("cli.io", "--" + option + ": cannot open " + path).at_field(option));
    }
    std::string line;
    for (uint64_t n = 1; std::getline(file, line); ++n) {
      size_t first = 0;
      while (first < line.size() && IsBlank(line[first])) ++first;
      if (first < line.size() && line[first] == '#') continue;
      AddTrimmed(line, ListItem{"", path, n, 1}, items);
    }
    if (file.bad()) {
      return Fail(Error("cli.io", "--" + option + ": cannot read " + path).at_field(option));
    }
  } else {
    uint64_t line = 1;
    size_t line_start = 0;
    size_t start = 0;
    for (size_t i = 0; i <= value.size(); ++i) {
      if (i < value.size() && value[i] != ',' && value[i] != '\n') continue;
      AddTrimmed(std::string_view(value).substr(start, i - start),
                 ListItem{"", "", line, start - line_start + 1}, items);
      start = i + 1;
      if (i < value.size() && value[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
  }
  if (items.empty()) {
    return Fail(Error("cli.usage", "--" + option + " names no value" +
                                       (value.starts_with("@") ? " (" + value.substr(1) +
                                                                     " holds only blank lines "
                                                                     "and comments)"
                                                               : ""))
                    .at_field(option));
  }
  return items;
}

Result<std::vector<std::string>> ReadEpcListOption(const std::string& option,
                                                   const std::string& value) {
  PEDIGREE_ASSIGN(items, ReadListOption(option, value));
  std::vector<std::string> epcs;
  epcs.reserve(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    const ListItem& item = (*items)[i];
    auto epc = EpcOfCode(item.text);
    if (epc) {
      epcs.push_back(std::move(*epc));
      continue;
    }
    const uint64_t column = item.column + epc.error().location().offset.value_or(0);
    Error e = epc.error().at_field(option);
    if (item.file.empty()) {
      e = e.with_context("--" + option + " item " + std::to_string(i + 1));
    } else {
      e = e.with_context(item.file + ":" + std::to_string(item.line) + ":" + std::to_string(column))
              .at_line_column(item.line, column);
    }
    return Fail(std::move(e));
  }
  return epcs;
}

}  // namespace pedigree::services
