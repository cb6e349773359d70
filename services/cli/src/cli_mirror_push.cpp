// `pedigree mirror push`: a node's log pushed to a C2SP tlog-mirror (docs/mirror.md, "Push
// mode"). The ledger is opened read-only, so it runs beside `pedigree serve`; it pushes the
// latest stored checkpoint (add-checkpoint, resynchronised from a 409's size), then the
// entries the mirror lacks in add-entries requests of at most 32 packages, gzip-compressed,
// until the mirror answers 200 with its cosignature.
#include <Poco/DeflatingStream.h>

#include <sstream>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/base/bytes.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/mirror_protocol.h"
#include "pedigree/log/witness.h"

namespace pedigree::services {
namespace {

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())
#define PEDIGREE_USAGE_ASSIGN(var, expr) \
  auto var = (expr);                     \
  if (!var) return PrintError(io.err, var.error()), 2

// A mirror that keeps answering 409 is not converging (another pusher, or a bug): give up.
constexpr int kMaxConflicts = 8;

struct PushStats {
  uint64_t size = 0;           // the checkpoint pushed
  uint64_t mirror_before = 0;  // the mirror's next entry when the upload began
  uint64_t requests = 0;       // add-entries requests
  uint64_t packages = 0;
  uint64_t bytes = 0;  // sent, compressed
  std::string cosignatures;
};

std::string Gzip(const Bytes& data) {
  std::ostringstream out;
  Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
  deflate.write(reinterpret_cast<const char*>(data.data()),
                static_cast<std::streamsize>(data.size()));
  deflate.close();
  return out.str();
}

Error MirrorRefused(const std::string& what, const RemoteReply& reply) {
  if (reply.content_type.starts_with("application/json")) {
    return RemoteError(reply.status, reply.body).with_context("the mirror refused " + what);
  }
  std::string excerpt = reply.body.substr(0, 200);
  for (char& c : excerpt) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return Error("client.bad_response", "the mirror answered " + what + " with HTTP " +
                                          std::to_string(reply.status) + ": '" + excerpt + "'")
      .at_field("to");
}

Result<uint64_t> ParseSize(const std::string& body) {
  uint64_t v = 0;
  std::istringstream in(body);
  if (!(in >> v)) {
    return Fail(Error("client.bad_response",
                      "the mirror's 409 carries no size: '" + body.substr(0, 80) + "'")
                    .at_field("to"));
  }
  return v;
}

// add-checkpoint from the size the mirror holds (learnt from its 409 when unknown).
Status PushCheckpoint(log::Ledger& ledger, const log::StoredCheckpoint& checkpoint,
                      const RemoteClient& mirror) {
  uint64_t old_size = 0;
  for (int attempt = 0; attempt < kMaxConflicts; ++attempt) {
    if (old_size > checkpoint.size) {
      return Fail(Error("mirror.conflict", "the mirror's pending checkpoint has size " +
                                               std::to_string(old_size) + ", beyond this log's " +
                                               std::to_string(checkpoint.size))
                      .with_detail("size", static_cast<int64_t>(old_size)));
    }
    std::vector<Hash> proof;
    if (old_size > 0 && old_size < checkpoint.size) {
      PEDIGREE_ASSIGN(p, ledger.ProveConsistency(old_size, checkpoint.size));
      proof = std::move(*p);
    }
    PEDIGREE_ASSIGN(reply,
                    mirror.PostRaw("/add-checkpoint",
                                   log::FormatAddCheckpoint(old_size, proof, checkpoint.note),
                                   "text/plain; charset=utf-8"));
    if (reply->status == 200) return Ok();
    if (reply->status != 409) return Fail(MirrorRefused("add-checkpoint", *reply));
    PEDIGREE_ASSIGN(size, ParseSize(reply->body));
    old_size = *size;
  }
  return Fail(Error("mirror.conflict", "the mirror kept answering add-checkpoint with 409"));
}

Result<PushStats> Push(log::Ledger& ledger, const RemoteClient& mirror) {
  PEDIGREE_ASSIGN(latest, ledger.LatestCheckpoint());
  if (!*latest) {
    return Fail(Error("storage.not_found",
                      "the ledger holds no signed checkpoint to push yet: run `pedigree log "
                      "checkpoint` first")
                    .at_field("dir"));
  }
  const log::StoredCheckpoint& checkpoint = **latest;
  const uint64_t end = checkpoint.size;
  PEDIGREE_TRY(PushCheckpoint(ledger, checkpoint, mirror));

  PushStats stats{.size = end};
  // An empty upload at the end: 200 when the mirror holds everything, else a 409 naming its
  // next entry.
  uint64_t start = end;
  bool first = true;
  int conflicts = 0;
  for (;;) {
    PEDIGREE_ASSIGN(
        body,
        log::EncodeAddEntriesHeader(
            {.origin = ledger.origin(), .upload_start = start, .upload_end = end, .ticket = {}}));
    const uint64_t count = log::CanonicalPackageCount(start, end);
    const uint64_t sending = std::min<uint64_t>(count, log::kMirrorPackagesPerRequest);
    for (uint64_t i = 0; i < sending; ++i) {
      const log::PackageRange r = log::CanonicalPackage(start, end, i);
      PEDIGREE_ASSIGN(entries, ledger.storage().ReadEntries(r.start, r.end));
      PEDIGREE_ASSIGN(proof,
                      log::SubtreeConsistencyProof(r.subtree_start, r.end, end, ledger.storage()));
      PEDIGREE_TRY(log::AppendEntryPackage(*body, *entries, *proof));
    }
    const std::string compressed = Gzip(*body);
    PEDIGREE_ASSIGN(reply, mirror.PostRaw("/add-entries", compressed, "application/octet-stream",
                                          {{"Content-Encoding", "gzip"}}));
    if (sending > 0) {
      ++stats.requests;
      stats.packages += sending;
      stats.bytes += compressed.size();
    }
    if (reply->status == 200) {
      if (first) stats.mirror_before = start;
      stats.cosignatures = reply->body;
      return stats;
    }
    if (reply->status != 202 && reply->status != 409) {
      return Fail(MirrorRefused("add-entries", *reply));
    }
    auto info = log::ParseMirrorInfo(reply->body);
    if (!info) return Fail(MirrorRefused("add-entries", *reply));
    if (reply->status == 409 && ++conflicts > kMaxConflicts) {
      return Fail(Error("mirror.conflict",
                        "the mirror kept answering add-entries with 409; it "
                        "holds " +
                            std::to_string(info->next_entry) + " entries")
                      .with_detail("size", static_cast<int64_t>(info->next_entry)));
    }
    if (info->next_entry > end) {
      return Fail(Error("mirror.conflict", "the mirror holds " + std::to_string(info->next_entry) +
                                               " entries, more than this log's checkpoint of " +
                                               std::to_string(end))
                      .with_detail("size", static_cast<int64_t>(info->next_entry)));
    }
    if (reply->status == 409 && info->pending_size != end) {
      // The mirror forgot our pending checkpoint (a restart): set it again.
      PEDIGREE_TRY(PushCheckpoint(ledger, checkpoint, mirror));
    }
    if (first) stats.mirror_before = info->next_entry;
    first = false;
    start = info->next_entry;
  }
}

int MirrorPush(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_USAGE_ASSIGN(
      args, Args::Parse(argv, 2, {"dir", "to", "ca", "timeout"}, {"json", "insecure-http"}));
  PEDIGREE_USAGE_ASSIGN(to, args->required("to"));
  std::vector<std::string> remote_args = {"mirror", "--server", *to};
  if (auto ca = args->get("ca")) {
    remote_args.push_back("--ca");
    remote_args.push_back(*ca);
  }
  if (auto timeout = args->get("timeout")) {
    remote_args.push_back("--timeout");
    remote_args.push_back(*timeout);
  }
  if (args->has("insecure-http")) remote_args.push_back("--insecure-http");
  PEDIGREE_USAGE_ASSIGN(remote, TakeRemoteOptions(remote_args));
  PEDIGREE_USAGE_ASSIGN(mirror, RemoteClient::Make(**remote));

  PEDIGREE_TRY_ASSIGN(ledger, log::Ledger::Open(args->dir(), {.read_only = true}));
  PEDIGREE_TRY_ASSIGN(stats, Push(**ledger, *mirror));
  if (args->has("json")) {
    auto out = JsonValue::Object();
    out.set("to", JsonValue(*to));
    out.set("origin", JsonValue((*ledger)->origin()));
    out.set("size", JsonValue(static_cast<int64_t>(stats->size)));
    out.set("mirror_before", JsonValue(static_cast<int64_t>(stats->mirror_before)));
    out.set("requests", JsonValue(static_cast<int64_t>(stats->requests)));
    out.set("packages", JsonValue(static_cast<int64_t>(stats->packages)));
    out.set("bytes", JsonValue(static_cast<int64_t>(stats->bytes)));
    out.set("cosignatures", JsonValue(stats->cosignatures));
    PrintJson(io.out, out);
  } else {
    io.out << "pushed " << (*ledger)->origin() << " to " << *to << ": size " << stats->mirror_before
           << " -> " << stats->size << " (" << stats->packages << " packages in " << stats->requests
           << " requests, " << stats->bytes << " bytes); cosigned:\n"
           << stats->cosignatures;
  }
  return 0;
}

}  // namespace

std::vector<Command> MirrorPushCommands() {
  return {
      {"mirror push",
       "mirror push [--dir D] --to URL   push the ledger's log to a C2SP tlog-mirror until it "
       "cosigns",
       MirrorPush,
       kDirHelp +
           "  --to URL       the mirror's submission prefix, http(s)://host[:port][/prefix];\n"
           "                 http only to a loopback host unless --insecure-http (required)\n"
           "  --ca F         CA certificates (PEM) that the mirror's TLS certificate chains to\n"
           "  --timeout S    seconds to wait for each answer (default: 30)\n"
           "  --insecure-http\n"
           "                 allow plain http to a host that is not loopback\n"
           "  --json         print {to, origin, size, mirror_before, requests, packages, bytes,\n"
           "                 cosignatures}\n",
       "mirror push --dir ./ledger --to https://mirror.example.org"},
  };
}

}  // namespace pedigree::services
