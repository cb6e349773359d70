// The web app's files (services/http/web/), compiled in by cmake/EmbedFiles.cmake.
// Private to services/http.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace pedigree::services::web {

struct EmbeddedFile {
  std::string_view name;  // The file name in web/, e.g. "app.js".
  const unsigned char* data;
  size_t size;
};

// Every file, sorted by name; the data lives for the program's life.
std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace pedigree::services::web
