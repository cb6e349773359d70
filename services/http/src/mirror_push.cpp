// C2SP tlog-mirror push mode on a mirror's server: add-checkpoint sets the pending checkpoint,
// add-entries authenticates each entry package by its subtree consistency proof against it
// and appends it to the replica (log::Replica::AppendPackage: signatures, tree and rules
// checked as for a pull, nothing of a refused package stored).
#include <Poco/InflatingStream.h>

#include <deque>
#include <mutex>
#include <optional>
#include <sstream>

#include "pedigree/http/mirror_server.h"
#include "pedigree/log/mirror_protocol.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/witness.h"

namespace pedigree::services {
namespace {

constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kMirrorInfo = "text/x.tlog.mirror-info";

HttpResponse Text(int status, std::string body, const char* content_type = kText) {
  HttpResponse r;
  r.status = status;
  r.content_type = content_type;
  r.body = std::move(body);
  r.headers["Accept-Encoding"] = "gzip";
  return r;
}

// A pending checkpoint: verified, with the log's signature kept.
struct Pending {
  uint64_t size = 0;
  Hash root{};
  std::string note;
};

// The pending checkpoints this server accepted (the latest last). Kept in memory: a restart
// forgets them and the client's next add-checkpoint, answered 409 with the mirror's size,
// starts again from the mirror checkpoint. The ticket is therefore always empty.
class PushState {
 public:
  explicit PushState(log::Replica& replica) : replica_(replica) {}

  HttpResponse AddCheckpoint(const HttpRequest& request) {
    auto parsed = log::ParseAddCheckpoint(request.body);
    if (!parsed) return ErrorResponse(parsed.error());
    auto checkpoint = replica_.VerifyCheckpoint(parsed->note);
    if (!checkpoint) return ErrorResponse(checkpoint.error());
    if (parsed->old_size > checkpoint->size) {
      // As a witness answers it: the request contradicts itself, whatever the mirror holds.
      return ErrorResponse(Error("witness.old_too_large", "old size " +
                                                              std::to_string(parsed->old_size) +
                                                              " is above the checkpoint's size " +
                                                              std::to_string(checkpoint->size))
                               .at_field("old"));
    }
    std::lock_guard lock(mu_);
    auto current = Current();
    if (!current) return ErrorResponse(current.error());
    if (parsed->old_size != current->size || checkpoint->size < current->size) {
      // As a witness: the size the mirror holds, so that the client can resync.
      return Text(409, std::to_string(current->size) + "\n", "text/x.tlog.size");
    }
    Status consistent = Ok();
    if (current->size == 0) {
      if (!parsed->proof.empty()) {
        consistent = Fail("merkle.wrong_proof_size", "a proof from the empty tree must be empty");
      }
    } else {
      consistent = log::VerifyConsistency(current->size, checkpoint->size, parsed->proof,
                                          current->root, checkpoint->root);
    }
    if (!consistent) {
      return ErrorResponse(Error("mirror.root_mismatch",
                                 "the checkpoint of size " + std::to_string(checkpoint->size) +
                                     " is not consistent with the pending checkpoint of size " +
                                     std::to_string(current->size) + ": " +
                                     consistent.error().code() + ": " +
                                     consistent.error().message()));
    }
    if (checkpoint->size > current->size || pending_.empty()) {
      pending_.push_back({checkpoint->size, checkpoint->root, parsed->note});
      while (pending_.size() > kRemembered) pending_.pop_front();
    }
    return Text(200, "");
  }

  HttpResponse AddEntries(const HttpRequest& request) {
    auto body = Decode(request);
    if (!body) return ErrorResponse(body.error());
    std::span<const uint8_t> bytes = AsBytes(*body);
    auto header = log::ParseAddEntriesHeader(bytes);
    if (!header) return ErrorResponse(header.error());
    const log::AddEntriesHeader& h = header->header;
    if (h.origin != replica_.origin()) {
      return ErrorResponse(
          Error("mirror.unknown_origin", "this mirror does not mirror the log \"" + h.origin + "\"")
              .at_field("log_origin"));
    }
    // One upload at a time: the replica appends one batch at a time anyway, and the checks
    // below must see the size the packages are appended at.
    std::lock_guard lock(mu_);
    auto current = Current();
    if (!current) return ErrorResponse(current.error());
    auto mirror_size = MirrorCheckpointSize();
    if (!mirror_size) return ErrorResponse(mirror_size.error());
    const uint64_t next = replica_.size();
    const Pending* target = Find(h.upload_end);
    const uint64_t lowest_start = next - next % log::kMirrorPackageEntries;
    if (target == nullptr || h.upload_end < *mirror_size || h.upload_start > next ||
        h.upload_start < lowest_start) {
      // Another pending size, an old upload replayed, or a start the mirror cannot continue
      // from: the state to resume from.
      return Text(409,
                  log::FormatMirrorInfo({.pending_size = target ? h.upload_end : current->size,
                                         .next_entry = next,
                                         .ticket = {}}),
                  kMirrorInfo);
    }
    auto packages = log::ParseEntryPackages(h, bytes.subspan(header->packages_offset));
    if (!packages) return ErrorResponse(packages.error());

    std::optional<std::string> cosigned;
    for (const log::EntryPackage& package : packages->packages) {
      const uint64_t held = replica_.size();
      if (package.end <= held) continue;  // already stored: skipped, as the spec says
      std::span<const std::string> entries(package.entries);
      entries = entries.subspan(held - package.start);
      auto appended =
          replica_.AppendPackage(entries, target->note, package.subtree_start, package.proof);
      if (!appended) return ErrorResponse(appended.error());
      if (appended->cosigned_note) cosigned = appended->cosigned_note;
    }
    if (!packages->complete) {
      return Text(202,
                  log::FormatMirrorInfo(
                      {.pending_size = h.upload_end, .next_entry = replica_.size(), .ticket = {}}),
                  kMirrorInfo);
    }
    if (!cosigned) {
      // Every entry was there already (an empty range, or a retry after the mirror stored the
      // last package): commit the checkpoint itself if it is not the mirror's yet.
      auto latest = replica_.LatestCheckpoint();
      if (!latest) return ErrorResponse(latest.error());
      if (*latest && (*latest)->size == h.upload_end) {
        cosigned = (*latest)->note;
      } else if (*latest && (*latest)->size > h.upload_end) {
        return Text(
            409,
            log::FormatMirrorInfo(
                {.pending_size = current->size, .next_entry = replica_.size(), .ticket = {}}),
            kMirrorInfo);
      } else {
        auto appended = replica_.AppendBatch({}, target->note);
        if (!appended) return ErrorResponse(appended.error());
        cosigned = appended->cosigned_note;
      }
    }
    if (!cosigned) {
      return ErrorResponse(Error("mirror.io", "the mirror stored the entries up to " +
                                                  std::to_string(h.upload_end) +
                                                  " but holds no checkpoint of that size"));
    }
    return Text(200, MirrorCosignatures(*cosigned));
  }

 private:
  static constexpr size_t kRemembered = 8;
  // The decompressed body is bounded too (a small gzip body can inflate to gigabytes).
  static constexpr size_t kMaxInflated = 256u << 20;

  Result<std::string> Decode(const HttpRequest& request) {
    auto it = request.headers.find("content-encoding");
    if (it == request.headers.end() || it->second.empty() || it->second == "identity") {
      return request.body;
    }
    if (it->second != "gzip") {
      return Fail(Error("mirror.malformed", "Content-Encoding \"" + it->second +
                                                "\" is not supported; send gzip or none")
                      .at_field("Content-Encoding"));
    }
    std::istringstream compressed(request.body);
    std::string out;
    try {
      Poco::InflatingInputStream inflate(compressed, Poco::InflatingStreamBuf::STREAM_GZIP);
      char buf[64 * 1024];
      while (inflate.read(buf, sizeof buf) || inflate.gcount() > 0) {
        out.append(buf, static_cast<size_t>(inflate.gcount()));
        if (out.size() > kMaxInflated) {
          return Fail(Error("mirror.body_too_large", "the gzip body inflates to more than " +
                                                         std::to_string(kMaxInflated) +
                                                         " bytes; send fewer packages")
                          .at_field("body"));
        }
      }
    } catch (const std::exception& e) {
      return Fail(
          Error("mirror.malformed", std::string("the gzip body does not inflate: ") + e.what())
              .at_field("Content-Encoding"));
    }
    return out;
  }

  // The latest pending checkpoint, or the mirror checkpoint when none was added since start.
  Result<Pending> Current() {
    if (!pending_.empty()) return pending_.back();
    auto latest = replica_.LatestCheckpoint();
    if (!latest) return std::unexpected(latest.error());
    if (!*latest) return Pending{};
    return Pending{(*latest)->size, (*latest)->root, (*latest)->note};
  }
  Result<uint64_t> MirrorCheckpointSize() {
    auto latest = replica_.LatestCheckpoint();
    if (!latest) return std::unexpected(latest.error());
    return *latest ? (*latest)->size : 0;
  }
  const Pending* Find(uint64_t size) {
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
      if (it->size == size) return &*it;
    }
    return nullptr;
  }
  // The mirror's own signature lines of a stored cosigned note.
  std::string MirrorCosignatures(const std::string& note) const {
    const std::string prefix = "\xe2\x80\x94 " + replica_.cosigner().name() + " ";
    std::string out;
    std::istringstream lines(note);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(prefix)) out += line + "\n";
    }
    return out;
  }

  log::Replica& replica_;
  std::mutex mu_;
  std::deque<Pending> pending_;
};

}  // namespace

Status AddMirrorPushRoutes(Router& router, log::Replica& replica, const std::string& prefix) {
  if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/')) {
    return Fail(
        Error("mirror.config", "prefix \"" + prefix + "\" must start with '/' and not end with '/'")
            .at_field("prefix"));
  }
  auto state = std::make_shared<PushState>(replica);
  PEDIGREE_TRY(router.Add(
      "POST", prefix + "/add-checkpoint", Access::Public(),
      [state](const HttpRequest& r) { return state->AddCheckpoint(r); }, BodyKind::kAny,
      log::kWitnessMaxBodyBytes));
  // 32 packages of 256 entries of up to a few KiB each, compressed or not.
  PEDIGREE_TRY(router.Add(
      "POST", prefix + "/add-entries", Access::Public(),
      [state](const HttpRequest& r) { return state->AddEntries(r); }, BodyKind::kAny,
      kMirrorMaxAddEntriesBytes));
  return Ok();
}

}  // namespace pedigree::services
