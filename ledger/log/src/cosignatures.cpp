// Witness cosignature lines kept beside the append-only checkpoints (storage.h).
#include <map>

#include "pedigree/log/note.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {
namespace {

std::string MetaKey(uint64_t size) { return "cosignatures/" + std::to_string(size); }

constexpr std::string_view kDash = "\xE2\x80\x94 ";

// name -> line (with its '\n'), in name order; anything else is note.malformed.
Result<std::map<std::string, std::string>> SplitLines(std::string_view lines) {
  std::map<std::string, std::string> out;
  while (!lines.empty()) {
    size_t nl = lines.find('\n');
    if (nl == std::string_view::npos) {
      return Fail(Error("note.malformed", "a cosignature line does not end in a newline"));
    }
    std::string_view line = lines.substr(0, nl + 1);
    lines.remove_prefix(nl + 1);
    size_t space = line.find(' ', kDash.size());
    if (!line.starts_with(kDash) || space == std::string_view::npos || space == kDash.size()) {
      return Fail(Error("note.malformed",
                        "not a note signature line: '" + std::string(line.substr(0, 60)) + "'"));
    }
    out[std::string(line.substr(kDash.size(), space - kDash.size()))] = std::string(line);
  }
  return out;
}

}  // namespace

Status MergeCosignatures(LogStorage& storage, uint64_t size, std::string_view lines) {
  PEDIGREE_ASSIGN(incoming, SplitLines(lines));
  std::map<std::string, std::string> merged;
  if (auto stored = storage.GetMeta(MetaKey(size))) {
    PEDIGREE_ASSIGN(old, SplitLines(*stored));
    merged = std::move(*old);
  } else if (stored.error().code() != "storage.not_found") {
    return std::unexpected(stored.error());
  }
  for (auto& [name, line] : *incoming) merged[name] = std::move(line);
  std::string text;
  for (const auto& [name, line] : merged) text += line;
  return storage.SetMeta(MetaKey(size), text);
}

Result<std::optional<StoredCheckpoint>> WithStoredCosignatures(
    LogStorage& storage, std::optional<StoredCheckpoint> checkpoint) {
  if (!checkpoint) return checkpoint;
  auto lines = storage.GetMeta(MetaKey(checkpoint->size));
  if (!lines) {
    if (lines.error().code() == "storage.not_found") return checkpoint;
    return std::unexpected(lines.error());
  }
  checkpoint->note += *lines;
  return checkpoint;
}

}  // namespace pedigree::log
