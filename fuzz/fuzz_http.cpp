// libFuzzer target: the HTTP chassis' own parsers on arbitrary bytes. PercentDecode must
// never decode %00 and must leave escape-free text alone; CheckJsonSyntax must accept
// everything the ledger's JSON parser accepts (its limits are stricter) and place every
// error at a line and column; Router::Add and Router::Match must not crash on any pattern
// or path.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/http/http_server.h"

using namespace pedigree;
using namespace pedigree::services;

namespace {

const Router& FixedRouter() {
  static const Router router = [] {
    Router r;
    const HttpHandler handler = [](const HttpRequest&) { return HttpResponse{}; };
    for (const char* pattern : {"/v1/packs/{id}", "/v1/packs/{id}/history", "/v1/packs/search",
                                "/v1/batches/{gtin}/{lot}", "/healthz"}) {
      if (!r.Add("GET", pattern, Access::Public(), handler)) std::abort();
    }
    if (!r.Add("POST", "/v1/packs/{id}", Access::Public(), handler, BodyKind::kJson)) {
      std::abort();
    }
    return r;
  }();
  return router;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool plus_is_space : {false, true}) {
    auto decoded = PercentDecode(text, plus_is_space);
    if (decoded) {
      // %00 is refused; a raw NUL passes through as any other byte.
      if (std::count(decoded->begin(), decoded->end(), '\0') !=
          std::count(text.begin(), text.end(), '\0')) {
        std::abort();
      }
      const bool plain = text.find('%') == std::string_view::npos &&
                         (!plus_is_space || text.find('+') == std::string_view::npos);
      if (plain && *decoded != text) std::abort();
    } else if (decoded.error().code() != "request.bad_encoding" ||
               !decoded.error().location().offset || *decoded.error().location().offset >= size) {
      std::abort();
    }
  }

  auto syntax = CheckJsonSyntax(text);
  if (!syntax) {
    const auto& at = syntax.error().location();
    if (syntax.error().code() != "request.invalid_json" || !at.line || !at.column) std::abort();
  }
  if (pedigree::ParseJson(text) && !syntax) std::abort();

  const Router& router = FixedRouter();
  const auto segments = Segments(text);
  for (const char* method : {"GET", "POST", "DELETE"}) {
    const RouteMatch match = router.Match(method, segments);
    if (match.route != nullptr && match.route->method != method) std::abort();
  }
  Router scratch;
  (void)scratch.Add("GET", std::string(text), Access::Public(),
                    [](const HttpRequest&) { return HttpResponse{}; });
  return 0;
}
