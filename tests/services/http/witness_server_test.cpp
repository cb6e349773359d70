// The C2SP tlog-witness server over a real socket: a log built with ledger/log signs
// checkpoints of growing size, the witness cosigns the consistent ones and answers every
// refusal with the spec's status, storing nothing.
#include "pedigree/http/witness_server.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>
#include <latch>
#include <thread>

#include "common/result.h"
#include "common/witness_testing.h"
#include "services/http/http_client.h"

namespace pedigree::services {
namespace {

using pedigree::testing::SigningLog;
using pedigree::testing::Why;
using testing::Exchange;
using testing::Reply;
using testing::Send;
using testing::TempDir;

std::string ErrorCode(const Reply& reply) {
  Poco::JSON::Parser parser;
  auto root = parser.parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  return root->getObject("error")->getValue<std::string>("code");
}

struct WitnessServerFixture {
  TempDir tmp;
  SigningLog log;
  std::string witness_vkey;
  std::unique_ptr<log::Witness> witness;
  std::unique_ptr<HttpServer> server;
  std::string prefix = "/w1";

  WitnessServerFixture() {
    auto vkey = log::Witness::Init(tmp / "witness", "witness.example/w1");
    BOOST_REQUIRE_MESSAGE(vkey.has_value(), Why(vkey));
    witness_vkey = *vkey;
    auto logs = log::ParseWitnessConfig("log " + log.vkey() + "\n");
    BOOST_REQUIRE(logs.has_value());
    auto w = log::Witness::Open(tmp / "witness", *logs);
    BOOST_REQUIRE_MESSAGE(w.has_value(), Why(w));
    witness = std::move(*w);
    Router router;
    BOOST_REQUIRE(AddWitnessRoutes(router, *witness, prefix).has_value());
    auto s = HttpServer::Start(ServerConfig{}, std::move(router), nullptr);
    BOOST_REQUIRE_MESSAGE(s.has_value(), Why(s));
    server = std::move(*s);
  }

  std::unique_ptr<Poco::Net::HTTPClientSession> Session() {
    return std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server->port());
  }
  Reply Post(const std::string& body) {
    auto session = Session();
    return Exchange(session, Send{"POST", prefix + "/add-checkpoint", body, {}});
  }
  uint64_t StoredSize() {
    auto s = witness->Latest(log.origin());
    BOOST_REQUIRE(s.has_value());
    return *s ? (*s)->size : 0;
  }
  size_t EvidenceCount() {
    auto e = witness->Evidence();
    BOOST_REQUIRE(e.has_value());
    return e->size();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(witness_server)

BOOST_FIXTURE_TEST_CASE(cosigns_a_growing_log_and_serves_the_cosigned_checkpoint,
                        WitnessServerFixture) {
  auto ours = log::NoteVerifier::Parse(witness_vkey);
  auto theirs = log::NoteVerifier::Parse(log.vkey());
  BOOST_REQUIRE(ours.has_value() && theirs.has_value());
  const std::vector<log::NoteVerifier> both{*ours, *theirs};
  uint64_t old = 0;
  for (uint64_t size : {1, 2, 7, 7, 32, 33, 79}) {
    Reply r = Post(log.Body(old, size));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    BOOST_TEST(r.headers["Content-Type"].starts_with("text/plain"));
    BOOST_TEST(r.body.starts_with("\xE2\x80\x94 witness.example/w1 "));
    auto cosigned = log::AddSignatureLines(log.Note(size), r.body);
    BOOST_REQUIRE(cosigned.has_value());
    auto opened = log::OpenNote(*cosigned, both);
    BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
    BOOST_TEST(opened->verified.size() == 2u);
    old = size;
  }
  BOOST_TEST(EvidenceCount() == 7u);

  // The monitoring endpoint: GET <prefix>/<hex SHA-256(origin)>/checkpoint.
  auto session = Session();
  const std::string hash = ToHex(Sha256(log.origin()));
  Reply latest = Exchange(session, Send{"GET", prefix + "/" + hash + "/checkpoint", "", {}});
  BOOST_REQUIRE_EQUAL(latest.status, 200);
  BOOST_TEST(latest.body.starts_with(log.Text(79) + "\n"));
  auto opened = log::OpenNote(latest.body, both);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
  BOOST_TEST(opened->verified.size() == 2u);
  Reply unknown = Exchange(
      session,
      Send{"GET", prefix + "/" + ToHex(Sha256(std::string_view("x"))) + "/checkpoint", "", {}});
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(ErrorCode(unknown) == "witness.unknown_log");
}

BOOST_FIXTURE_TEST_CASE(monitoring_endpoint_is_404_before_the_first_cosignature,
                        WitnessServerFixture) {
  auto session = Session();
  Reply r = Exchange(
      session, Send{"GET", prefix + "/" + ToHex(Sha256(log.origin())) + "/checkpoint", "", {}});
  BOOST_TEST(r.status == 404);
  BOOST_TEST(ErrorCode(r) == "witness.no_checkpoint");
}

BOOST_FIXTURE_TEST_CASE(every_status_of_the_spec_and_nothing_stored, WitnessServerFixture) {
  BOOST_REQUIRE_EQUAL(Post(log.Body(0, 8)).status, 200);
  SigningLog stranger("example.org/other-log", 0x40);
  SigningLog impostor("example.org/witnessed-log", 0x60);
  const std::vector<Hash> proof = log.Proof(8, 20);
  std::string too_many = "old 8\n";
  for (int i = 0; i < 64; ++i) too_many += ToBase64(proof[0]) + "\n";
  too_many += "\n" + log.Note(20);
  std::string control = log.Body(8, 20);
  control.replace(control.find(log.origin()), log.origin().size(), log.origin() + "\x01");
  log::Checkpoint fork{log.origin(), 8, Sha256(std::string_view("another tree"))};

  struct Bad {
    std::string name, body;
    int status;
    std::string code;
  };
  const std::vector<Bad> table{
      {"no old line", "\n" + log.Note(20), 400, "witness.malformed"},
      {"bad base64", "old 8\n!!!!\n\n" + log.Note(20), 400, "witness.malformed"},
      {"missing blank line", "old 8\n" + log.Note(20), 400, "witness.malformed"},
      {"64 proof lines", too_many, 400, "witness.too_many_proof_lines"},
      {"oversized", log.Body(8, 20) + std::string(20000, 'x'), 400, "witness.body_too_large"},
      {"control character", control, 400, "witness.bad_note"},
      {"not a checkpoint", log::FormatAddCheckpoint(8, {}, log::SignNote("hi\n", log.signer())),
       400, "witness.bad_checkpoint"},
      {"unknown origin", stranger.Body(0, 3), 404, "witness.unknown_log"},
      {"wrong log key", impostor.Body(8, 20), 403, "witness.bad_signature"},
      {"old above size", log::FormatAddCheckpoint(21, {}, log.Note(20)), 400,
       "witness.old_too_large"},
      {"proof for other sizes", log::FormatAddCheckpoint(8, log.Proof(9, 20), log.Note(20)), 422,
       "witness.inconsistent"},
      {"same size, another root",
       log::FormatAddCheckpoint(8, {}, log::SignNote(log::FormatCheckpoint(fork), log.signer())),
       422, "witness.inconsistent"},
  };
  for (const Bad& bad : table) {
    BOOST_TEST_CONTEXT(bad.name) {
      Reply r = Post(bad.body);
      BOOST_TEST(r.status == bad.status);
      BOOST_TEST(ErrorCode(r) == bad.code);
      BOOST_TEST(StoredSize() == 8u);
      BOOST_TEST(EvidenceCount() == 1u);
    }
  }
  // 409: a stale old size (and a replayed old checkpoint), answered as text/x.tlog.size.
  for (const std::string& body : {log.Body(5, 20), log.Body(0, 8)}) {
    Reply r = Post(body);
    BOOST_TEST(r.status == 409);
    BOOST_TEST(r.headers["Content-Type"] == "text/x.tlog.size");
    BOOST_TEST(r.body == "8\n");
  }
  BOOST_TEST(StoredSize() == 8u);
  BOOST_TEST(EvidenceCount() == 1u);
  BOOST_TEST(Post(log.Body(8, 20)).status == 200);
}

BOOST_FIXTURE_TEST_CASE(two_racing_requests_with_the_same_old_size_one_wins, WitnessServerFixture) {
  BOOST_REQUIRE_EQUAL(Post(log.Body(0, 10)).status, 200);
  for (int round = 0; round < 5; ++round) {
    const uint64_t old = StoredSize();
    const std::string a = log.Body(old, old + 3), b = log.Body(old, old + 5);
    auto sa = Session(), sb = Session();
    std::latch start(2);
    Reply ra, rb;
    std::thread ta([&] {
      start.arrive_and_wait();
      ra = Exchange(sa, Send{"POST", prefix + "/add-checkpoint", a, {}});
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      rb = Exchange(sb, Send{"POST", prefix + "/add-checkpoint", b, {}});
    });
    ta.join();
    tb.join();
    BOOST_TEST_CONTEXT("round " << round) {
      BOOST_TEST(
          ((ra.status == 200 && rb.status == 409) || (ra.status == 409 && rb.status == 200)));
      const Reply& lost = ra.status == 409 ? ra : rb;
      const uint64_t won = ra.status == 200 ? old + 3 : old + 5;
      BOOST_TEST(lost.body == std::to_string(won) + "\n");
      BOOST_TEST(StoredSize() == won);
    }
  }
  BOOST_TEST(EvidenceCount() == 6u);
}

BOOST_AUTO_TEST_CASE(a_log_over_its_rate_gets_429) {
  TempDir tmp;
  SigningLog log;
  BOOST_REQUIRE(log::Witness::Init(tmp / "w", "witness.example/w2").has_value());
  auto logs = log::ParseWitnessConfig("log " + log.vkey() + " " + log.origin() + " 0.001\n");
  BOOST_REQUIRE(logs.has_value());
  auto witness = log::Witness::Open(tmp / "w", *logs);
  BOOST_REQUIRE(witness.has_value());
  Router router;
  BOOST_REQUIRE(AddWitnessRoutes(router, **witness).has_value());
  BOOST_TEST(AddWitnessRoutes(router, **witness, "w/").error().code() == "witness.config");
  auto server = HttpServer::Start(ServerConfig{}, std::move(router), nullptr);
  BOOST_REQUIRE(server.has_value());
  Poco::Net::HTTPClientSession session("127.0.0.1", (*server)->port());
  BOOST_TEST(Exchange(session, Send{"POST", "/add-checkpoint", log.Body(0, 4), {}}).status == 200);
  Reply r = Exchange(session, Send{"POST", "/add-checkpoint", log.Body(4, 9), {}});
  BOOST_TEST(r.status == 429);
  BOOST_TEST(ErrorCode(r) == "witness.rate_limited");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
