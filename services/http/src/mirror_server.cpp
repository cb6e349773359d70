#include "pedigree/http/mirror_server.h"

#include <algorithm>
#include <charconv>

#include "api_common.h"
#include "pedigree/base/bytes.h"
#include "pedigree/http/api.h"
#include "pedigree/log/tiles.h"

namespace pedigree::services {
namespace {

constexpr const char* kTilePatterns[] = {"/{a}", "/{a}/{b}", "/{a}/{b}/{c}", "/{a}/{b}/{c}/{d}",
                                         "/{a}/{b}/{c}/{d}/{e}"};

std::vector<std::string> TileParts(const HttpRequest& req) {
  std::vector<std::string> parts;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    if (auto it = req.path_params.find(name); it != req.path_params.end())
      parts.push_back(it->second);
  }
  return parts;
}

}  // namespace

Status AddMirrorRoutes(Router& router, log::Replica& replica) {
  const std::string origin_hash = ToHex(Sha256(replica.origin()));
  // The C2SP monitoring prefix names the log by its origin's hash; another hash is a log this
  // mirror does not hold.
  auto known = [origin_hash](const HttpRequest& req) -> Status {
    auto it = req.path_params.find("origin_hash");
    if (it == req.path_params.end() || it->second == origin_hash) return Ok();
    return Fail(Error("mirror.unknown_log",
                      "this mirror holds no log whose origin has the "
                      "SHA-256 " +
                          it->second.substr(0, 64))
                    .at_field("origin_hash"));
  };
  auto checkpoint = [&replica, known](const HttpRequest& req) {
    if (auto ok = known(req); !ok) return ErrorResponse(ok.error());
    auto latest = replica.LatestCheckpoint();
    if (!latest) return ErrorResponse(latest.error());
    if (!*latest) {
      return ErrorResponse(Error("mirror.no_checkpoint", "this mirror holds no checkpoint of " +
                                                             replica.origin() +
                                                             " yet (run `pedigree mirror sync`)"));
    }
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = (*latest)->note;
    r.headers["Cache-Control"] = "no-cache";
    return r;
  };
  auto tile = [&replica, known](const HttpRequest& req) {
    if (auto ok = known(req); !ok) return ErrorResponse(ok.error());
    const std::string& level_text = req.path_params.at("level");
    uint32_t level = 0;
    auto [end, ec] =
        std::from_chars(level_text.data(), level_text.data() + level_text.size(), level);
    if (ec != std::errc() || end != level_text.data() + level_text.size() || level > 7) {
      return ErrorResponse(
          Error("request.bad_parameter", "tile level must be 0 to 7").at_field("level"));
    }
    auto index = api::ParseTileIndex(TileParts(req));
    if (!index) return ErrorResponse(index.error());
    return api::TileResponse(level, *index, replica.storage());
  };
  auto bundle = [&replica, known](const HttpRequest& req) {
    if (auto ok = known(req); !ok) return ErrorResponse(ok.error());
    auto index = api::ParseTileIndex(TileParts(req));
    if (!index) return ErrorResponse(index.error());
    return api::EntryBundleResponse(*index, replica.size(), replica.storage());
  };
  const Access readers = Access::AnyOf({"mirror", "regulator"});
  PEDIGREE_TRY(router.Add("GET", "/checkpoint", Access::Public(), checkpoint));
  PEDIGREE_TRY(router.Add("GET", "/v1/log/checkpoint", Access::Public(), checkpoint));
  PEDIGREE_TRY(router.Add("GET", "/{origin_hash}/checkpoint", Access::Public(), checkpoint));
  for (const std::string prefix : {"/v1/log", "/{origin_hash}"}) {
    for (const char* rest : kTilePatterns) {
      PEDIGREE_TRY(router.Add("GET", prefix + "/tile/{level}" + rest, Access::Public(), tile));
      PEDIGREE_TRY(router.Add("GET", prefix + "/tile/entries" + rest, readers, bundle));
    }
  }
  return Ok();
}

Status AddMirrorApiRoutes(Router& router, SupplyNode& node, const std::string& mirror_vkey) {
  // The node's routes are built once, then sorted: reads are kept, writes refused. Building
  // them from AddApiRoutes (rather than a list of reads here) keeps a new read route of the
  // node answered by mirrors too, and a new write refused.
  Router node_routes;
  PEDIGREE_TRY(AddApiRoutes(node_routes, node));
  // POST routes whose handlers only read: their bodies are images or documents to check.
  const std::set<std::string> reading_posts = {"/v1/scan", "/v1/verify", "/v1/disclosures/verify"};
  auto held = [&router](const Route& r) {
    return std::any_of(router.routes().begin(), router.routes().end(), [&r](const Route& mine) {
      return mine.method == r.method && mine.pattern == r.pattern;
    });
  };
  for (const Route& r : node_routes.routes()) {
    if (held(r)) continue;
    const bool reads = r.method == "GET" || r.method == "HEAD" ||
                       (r.method == "POST" && reading_posts.contains(r.pattern));
    if (reads) {
      // GET /v1/verify?record=true records the scan on the ledger: a write.
      const bool may_record = r.method == "GET" && r.pattern == "/v1/verify";
      HttpHandler handler = [inner = r.handler, mirror_vkey, may_record](const HttpRequest& req) {
        HttpResponse response;
        if (auto record = req.query.find("record");
            may_record && record != req.query.end() && record->second == "true") {
          response = ErrorResponse(Error("mirror.read_only",
                                         "record=true records the scan on the ledger: this "
                                         "mirror answers reads only; send it to the node")
                                       .at_field("record"));
        } else {
          response = inner(req);
        }
        response.headers["Pedigree-Mirror"] = mirror_vkey;
        return response;
      };
      PEDIGREE_TRY(
          router.Add(r.method, r.pattern, r.access, std::move(handler), r.body, r.max_body_bytes));
      continue;
    }
    // Public, so that the answer is the same for every caller: this is not the node, whoever
    // asks. The body is not even looked at.
    HttpHandler refuse = [pattern = r.pattern, method = r.method, mirror_vkey](const HttpRequest&) {
      HttpResponse response = ErrorResponse(Error(
          "mirror.read_only", method + " " + pattern +
                                  " is a write: this mirror answers reads from its verified "
                                  "copy of the log and takes no submission; send it to the node"));
      response.headers["Pedigree-Mirror"] = mirror_vkey;
      response.headers["Allow"] = "GET";
      return response;
    };
    PEDIGREE_TRY(router.Add(r.method, r.pattern, Access::Public(), std::move(refuse)));
  }
  return Ok();
}

}  // namespace pedigree::services
