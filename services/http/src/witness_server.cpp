#include "pedigree/http/witness_server.h"

namespace pedigree::services {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";

HttpResponse Text(int status, std::string body, const char* content_type = kText) {
  HttpResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  return r;
}

}  // namespace

Status AddWitnessRoutes(Router& router, log::Witness& witness, const std::string& prefix) {
  if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/')) {
    return Fail(Error("witness.config",
                      "prefix \"" + prefix + "\" must start with '/' and not end with '/'")
                    .at_field("prefix"));
  }
  PEDIGREE_TRY(router.Add(
      "POST", prefix + "/add-checkpoint", Access::Public(), [&witness](const HttpRequest& request) {
        log::AddCheckpointOutcome out = witness.AddCheckpoint(request.body);
        if (out.cosignature) return Text(200, *std::move(out.cosignature));
        const Error& error = out.cosignature.error();
        if (error.code() == "witness.conflict" && out.latest_size) {
          // C2SP tlog-witness: the size the witness holds, so that the client can resync.
          return Text(409, std::to_string(*out.latest_size) + "\n", "text/x.tlog.size");
        }
        return ErrorResponse(error);
      }));
  PEDIGREE_TRY(router.Add(
      "GET", prefix + "/{origin_hash}/checkpoint", Access::Public(),
      [&witness](const HttpRequest& request) {
        const std::string& hash = request.path_params.at("origin_hash");
        auto origin = witness.OriginForHash(hash);
        if (!origin) {
          return ErrorResponse(
              Error("witness.unknown_log", "no witnessed log's origin has the SHA-256 " + hash)
                  .at_field("origin_hash"));
        }
        auto latest = witness.Latest(*origin);
        if (!latest) return ErrorResponse(latest.error());
        if (!*latest) {
          return ErrorResponse(Error("witness.no_checkpoint",
                                     "this witness has cosigned no checkpoint of " + *origin)
                                   .at_field("origin_hash"));
        }
        return Text(200, (*latest)->cosigned_note);
      }));
  return Ok();
}

}  // namespace pedigree::services
