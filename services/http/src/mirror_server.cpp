#include "pedigree/http/mirror_server.h"

#include <charconv>

#include "api_common.h"
#include "pedigree/base/bytes.h"
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

}  // namespace pedigree::services
