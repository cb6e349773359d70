// The web app's static files (docs/web.md): GET / and GET /app/{file}, from the bytes
// compiled into the binary, with a strict Content-Security-Policy. The pages call the
// same API as every other client, authenticated by the session cookie.
#include <map>
#include <memory>

#include "pedigree/base/bytes.h"
#include "pedigree/http/api.h"
#include "web_assets.h"

namespace pedigree::services {
namespace {

// Nothing but this origin's own files may load or run: no inline script or style, no
// framing by other sites, forms post only here.
constexpr const char* kAppPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

std::string ContentTypeOf(std::string_view name) {
  const std::string_view ext = name.substr(name.rfind('.') + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json" || ext == "webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

struct StaticFile {
  std::string body, content_type, etag;
};

HttpResponse Serve(const StaticFile& file, const HttpRequest& req) {
  HttpResponse r;
  r.headers["Content-Security-Policy"] = kAppPolicy;
  r.headers["X-Content-Type-Options"] = "nosniff";
  r.headers["Referrer-Policy"] = "no-referrer";
  r.headers["X-Frame-Options"] = "DENY";
  // Revalidated on every load (the ETag makes that a 304 when nothing changed): a new
  // binary's app is picked up at once, never mixed with a cached older script.
  r.headers["Cache-Control"] = "no-cache";
  r.headers["ETag"] = file.etag;
  if (auto inm = req.headers.find("if-none-match");
      inm != req.headers.end() && inm->second.find(file.etag) != std::string::npos) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = file.content_type;
  r.body = file.body;
  return r;
}

}  // namespace

Status AddWebAppRoutes(Router& router) {
  auto files = std::make_shared<std::map<std::string, StaticFile, std::less<>>>();
  for (const web::EmbeddedFile& f : web::EmbeddedFiles()) {
    StaticFile s;
    s.body.assign(reinterpret_cast<const char*>(f.data), f.size);
    s.content_type = ContentTypeOf(f.name);
    s.etag = "\"" + ToHex(Sha256(s.body)).substr(0, 32) + "\"";
    files->emplace(std::string(f.name), std::move(s));
  }
  if (!files->contains("index.html")) {
    return Fail("server.config", "the web app was built without index.html");
  }
  PEDIGREE_TRY(router.Add("GET", "/", Access::Public(), [files](const HttpRequest& req) {
    return Serve(files->at("index.html"), req);
  }));
  return router.Add("GET", "/app/{file}", Access::Public(), [files](const HttpRequest& req) {
    auto it = files->find(req.path_params.at("file"));
    if (it == files->end()) {
      return ErrorResponse(
          Error("request.not_found", "no file '" + req.path_params.at("file") + "' in the web app")
              .at_field("path"));
    }
    return Serve(it->second, req);
  });
}

}  // namespace pedigree::services
