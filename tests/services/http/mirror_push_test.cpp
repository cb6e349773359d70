// C2SP tlog-mirror push mode over a real socket: a node's log (ledger/log) pushed to a
// mirror's server with add-checkpoint and add-entries; each package authenticated by its
// subtree consistency proof before anything of it is stored, every refusal answered with the
// spec's status.
#include <Poco/DeflatingStream.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <functional>
#include <future>
#include <sstream>
#include <tuple>

#include "common/result.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/mirror_server.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/mirror_protocol.h"
#include "pedigree/log/replica.h"
#include "pedigree/log/witness.h"
#include "pedigree/usecases/auth.h"
#include "services/cli/cli_run.h"
#include "services/http/http_client.h"

namespace pedigree::services {
namespace {

using pedigree::testing::Why;
using testing::Exchange;
using testing::Reply;
using testing::Send;
using testing::TempDir;

constexpr const char* kOrigin = "example.org/pushed-log";

std::string ErrorCode(const Reply& reply) {
  Poco::JSON::Parser parser;
  auto root = parser.parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  return root->getObject("error")->getValue<std::string>("code");
}

std::string Text(const Bytes& b) { return std::string(AsText(b)); }

std::string Gzip(const std::string& data) {
  std::ostringstream out;
  {
    Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
    deflate << data;
    deflate.close();
  }
  return out.str();
}

struct PushFixture {
  TempDir tmp;
  log::PrivateKey author = log::PrivateKey::Generate();
  std::unique_ptr<log::Ledger> node;
  std::unique_ptr<log::Replica> replica;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<Poco::Net::HTTPClientSession> session;

  explicit PushFixture(int n) {
    auto created = log::Ledger::Create(tmp / "node", kOrigin);
    BOOST_REQUIRE_MESSAGE(created.has_value(), Why(created));
    node = std::move(*created);
    Grow(n);
    auto r = log::Replica::Create(tmp / "mirror", "mirror.example/m1", node->VerifierKey());
    BOOST_REQUIRE_MESSAGE(r.has_value(), Why(r));
    replica = std::move(*r);
    Router router;
    BOOST_REQUIRE(AddMirrorRoutes(router, *replica).has_value());
    BOOST_REQUIRE(AddMirrorPushRoutes(router, *replica).has_value());
    tokens = TokenStore::Open(tmp / "tokens.db").value();  // the entry bundles' readers
    auto s = HttpServer::Start(ServerConfig{}, std::move(router), tokens.get());
    BOOST_REQUIRE_MESSAGE(s.has_value(), Why(s));
    server = std::move(*s);
    session = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server->port());
  }
  void Grow(int n) {
    // Submitted together: the sequencer commits them in batches.
    const uint64_t base = node->size();
    std::vector<std::future<Result<uint64_t>>> pending;
    for (int i = 0; i < n; ++i) {
      auto payload = JsonValue::Object();
      payload.set("kind", JsonValue(std::string("test")));
      payload.set("n", JsonValue(static_cast<int64_t>(base + i)));
      pending.push_back(node->Submit(log::SignEntry(payload, author, kOrigin).value(), {}, true));
    }
    for (auto& p : pending) BOOST_REQUIRE(p.get().has_value());
  }
  std::string Checkpoint() { return node->SignCheckpoint().value().note; }

  Reply Post(const std::string& path, std::string body,
             std::map<std::string, std::string> headers = {}) {
    return Exchange(session, {.method = "POST",
                              .target = path,
                              .body = std::move(body),
                              .headers = std::move(headers),
                              .chunked = false});
  }
  Reply AddCheckpoint(uint64_t old_size) {
    std::vector<Hash> proof;
    if (old_size > 0) proof = node->ProveConsistency(old_size, node->size()).value();
    return Post("/add-checkpoint", log::FormatAddCheckpoint(old_size, proof, Checkpoint()));
  }
  // The packages [first, first+count) of the canonical sequence of [start, end), with honest
  // subtree consistency proofs from the node's tree.
  Bytes Body(uint64_t start, uint64_t end, uint64_t first, uint64_t count,
             const std::string& origin = kOrigin,
             const std::function<void(std::vector<std::string>&)>& edit = {}) {
    Bytes body =
        log::EncodeAddEntriesHeader({.origin = origin, .upload_start = start, .upload_end = end})
            .value();
    for (uint64_t i = first; i < first + count; ++i) {
      const log::PackageRange r = log::CanonicalPackage(start, end, i);
      auto proof = log::SubtreeConsistencyProof(r.subtree_start, r.end, end, node->storage());
      BOOST_REQUIRE_MESSAGE(proof, Why(proof));
      std::vector<std::string> entries = node->storage().ReadEntries(r.start, r.end).value();
      if (edit) edit(entries);
      BOOST_REQUIRE(log::AppendEntryPackage(body, entries, *proof));
    }
    return body;
  }
  Reply AddEntries(const Bytes& body) { return Post("/add-entries", Text(body)); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mirror_push)

BOOST_AUTO_TEST_CASE(a_pushed_log_is_stored_and_cosigned_by_the_mirror) {
  PushFixture f(1000);
  Reply pending = f.AddCheckpoint(0);
  BOOST_REQUIRE_MESSAGE(pending.status == 200, pending.body);

  // A prefix of two packages: 202 and where to resume.
  Reply partial = f.AddEntries(f.Body(0, 1000, 0, 2));
  BOOST_REQUIRE_MESSAGE(partial.status == 202, partial.body);
  BOOST_TEST(partial.headers["Content-Type"] == "text/x.tlog.mirror-info");
  auto info = log::ParseMirrorInfo(partial.body);
  BOOST_REQUIRE_MESSAGE(info, Why(info));
  BOOST_TEST(info->pending_size == 1000u);
  BOOST_TEST(info->next_entry == 512u);
  BOOST_TEST(f.replica->size() == 512u);

  // The rest from the advertised next entry: 200 and the mirror's cosignature.
  Reply done = f.AddEntries(f.Body(512, 1000, 0, 2));
  BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
  BOOST_TEST(done.body.starts_with("\xe2\x80\x94 mirror.example/m1 "));
  BOOST_TEST(f.replica->size() == 1000u);
  BOOST_TEST(f.replica->root() == f.node->root());
  auto mirror_key = log::NoteVerifier::Parse(f.replica->VerifierKey());
  BOOST_REQUIRE(mirror_key.has_value());
  std::vector<log::NoteVerifier> keys{*mirror_key};
  auto opened = log::OpenNote(f.Checkpoint() + done.body, keys);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
  BOOST_TEST(opened->verified.size() == 1u);

  // The served checkpoint now carries the mirror's cosignature.
  Reply served = Exchange(f.session, {.method = "GET", .target = "/checkpoint"});
  BOOST_TEST(served.status == 200);
  BOOST_TEST(served.body.find(done.body) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_gzip_body_is_accepted) {
  PushFixture f(300);
  BOOST_REQUIRE(f.AddCheckpoint(0).status == 200);
  Reply done =
      f.Post("/add-entries", Gzip(Text(f.Body(0, 300, 0, 2))), {{"Content-Encoding", "gzip"}});
  BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
  BOOST_TEST(f.replica->size() == 300u);
  Reply bad = f.Post("/add-entries", "not gzip", {{"Content-Encoding", "gzip"}});
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(ErrorCode(bad) == "mirror.malformed");
}

BOOST_AUTO_TEST_CASE(a_tampered_entry_is_422_and_nothing_of_its_package_is_stored) {
  PushFixture f(600);
  BOOST_REQUIRE(f.AddCheckpoint(0).status == 200);
  // One byte of entry 100 changed, the honest proof kept.
  Reply refused = f.AddEntries(f.Body(
      0, 600, 0, 1, kOrigin, [](std::vector<std::string>& e) { e[100][e[100].size() / 2] ^= 1; }));
  BOOST_TEST(refused.status == 422);
  BOOST_TEST(f.replica->size() == 0u);

  // A genuine package 0, then package 1 with a flipped proof hash: the first is stored, the
  // second refused as not belonging to the checkpoint's tree.
  Bytes two = f.Body(0, 600, 0, 2);
  two[two.size() - 1] ^= 1;  // the last byte of package 1's last proof hash
  Reply bad_proof = f.AddEntries(two);
  BOOST_TEST(bad_proof.status == 422);
  BOOST_TEST(ErrorCode(bad_proof) == "mirror.root_mismatch");
  BOOST_TEST(f.replica->size() == 256u);

  // The honest rest completes it.
  Reply done = f.AddEntries(f.Body(256, 600, 0, 2));
  BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
}

BOOST_AUTO_TEST_CASE(a_replayed_or_misplaced_upload_is_409_with_the_mirrors_state) {
  PushFixture f(1000);
  BOOST_REQUIRE(f.AddCheckpoint(0).status == 200);
  const Bytes all = f.Body(0, 1000, 0, 4);
  BOOST_REQUIRE(f.AddEntries(all).status == 200);

  Reply replay = f.AddEntries(all);
  BOOST_TEST(replay.status == 409);
  BOOST_TEST(replay.headers["Content-Type"] == "text/x.tlog.mirror-info");
  BOOST_TEST(replay.body == "1000\n1000\n\n");

  // The log grows; the old upload is still refused, the new one is taken from 1000 on.
  f.Grow(100);
  Reply stale = f.AddCheckpoint(0);  // not the pending size
  BOOST_TEST(stale.status == 409);
  BOOST_TEST(stale.body == "1000\n");
  Reply contradictory = f.Post("/add-checkpoint",
                               log::FormatAddCheckpoint(2000, std::vector<Hash>{}, f.Checkpoint()));
  BOOST_TEST(contradictory.status == 400);
  BOOST_TEST(ErrorCode(contradictory) == "witness.old_too_large");
  BOOST_REQUIRE(f.AddCheckpoint(1000).status == 200);
  BOOST_TEST(f.AddEntries(all).status == 409);
  Reply unknown_end = f.AddEntries(f.Body(1000, 1050, 0, 1));
  BOOST_TEST(unknown_end.status == 409);
  BOOST_TEST(unknown_end.body == "1100\n1000\n\n");
  Reply ahead = f.AddEntries(f.Body(1050, 1100, 0, 1));
  BOOST_TEST(ahead.status == 409);
  // [1000, 1100) is two packages: [1000, 1024) closes the subtree [768, 1024), whose first
  // entries the mirror holds; [1024, 1100).
  Reply done = f.AddEntries(f.Body(1000, 1100, 0, 2));
  BOOST_REQUIRE_MESSAGE(done.status == 200, done.body);
  BOOST_TEST(f.replica->size() == 1100u);
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_400_and_an_unknown_origin_404) {
  PushFixture f(300);
  BOOST_REQUIRE(f.AddCheckpoint(0).status == 200);
  Bytes trailing = f.Body(0, 300, 0, 2);
  trailing.push_back(0);
  Bytes header_only = f.Body(0, 300, 0, 0);
  Bytes too_many = f.Body(0, 300, 0, 1);
  // Package 0 ends with its proof: num_hashes sits 32·k bytes before the end.
  const size_t k = log::SubtreeConsistencyProof(0, 256, 300, f.node->storage()).value().size();
  too_many[too_many.size() - 32 * k - 1] = 64;
  for (const auto& [name, body, code] : std::vector<std::tuple<std::string, Bytes, std::string>>{
           {"empty", {}, "mirror.malformed"},
           {"trailing bytes", trailing, "mirror.malformed"},
           {"no package", header_only, "mirror.malformed"},
           {"64 proof hashes", too_many, "mirror.proof_too_long"},
       }) {
    BOOST_TEST_CONTEXT(name) {
      Reply r = f.AddEntries(body);
      BOOST_TEST(r.status == 400);
      BOOST_TEST(ErrorCode(r) == code);
    }
  }
  Reply other = f.AddEntries(f.Body(0, 300, 0, 2, "example.org/another-log"));
  BOOST_TEST(other.status == 404);
  BOOST_TEST(ErrorCode(other) == "mirror.unknown_origin");
  BOOST_TEST(f.replica->size() == 0u);
  Reply bad_checkpoint = f.Post("/add-checkpoint", "old 0\n\nnot a note\n");
  BOOST_TEST(bad_checkpoint.status >= 400);
  BOOST_TEST(bad_checkpoint.status < 500);
}

// The client: `pedigree mirror push` reads the node's ledger read-only (the node keeps it
// open) and uploads in requests of at most 32 packages until the mirror cosigns.
BOOST_AUTO_TEST_CASE(mirror_push_uploads_the_ledger_until_the_mirror_cosigns) {
  PushFixture f(9000);  // 36 packages: two add-entries requests
  BOOST_REQUIRE(f.node->SignCheckpoint().has_value());
  const std::string url = "http://127.0.0.1:" + std::to_string(f.server->port());
  auto run = testing::Cli({"mirror", "push", "--dir", f.tmp / "node", "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(run.rc == 0, run.err);
  auto out = ParseJson(run.out);
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST(out->find("size")->as_int() == 9000);
  BOOST_TEST(out->find("requests")->as_int() == 2);
  BOOST_TEST(out->find("packages")->as_int() == 36);
  BOOST_TEST(f.replica->size() == 9000u);
  BOOST_TEST(f.replica->root() == f.node->root());
  const std::string cosignatures = out->find("cosignatures")->as_string();
  auto mirror_key = log::NoteVerifier::Parse(f.replica->VerifierKey());
  std::vector<log::NoteVerifier> keys{*mirror_key};
  BOOST_TEST(log::OpenNote(f.Checkpoint() + cosignatures, keys).has_value());

  // Again with nothing new: no package sent, the same checkpoint cosigned.
  auto again = testing::Cli({"mirror", "push", "--dir", f.tmp / "node", "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(again.rc == 0, again.err);
  BOOST_TEST(ParseJson(again.out)->find("packages")->as_int() == 0);

  // More entries: only they are sent.
  f.Grow(10);
  BOOST_REQUIRE(f.node->SignCheckpoint().has_value());
  auto more = testing::Cli({"mirror", "push", "--dir", f.tmp / "node", "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(more.rc == 0, more.err);
  BOOST_TEST(ParseJson(more.out)->find("mirror_before")->as_int() == 9000);
  BOOST_TEST(ParseJson(more.out)->find("packages")->as_int() == 1);
  BOOST_TEST(f.replica->size() == 9010u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
