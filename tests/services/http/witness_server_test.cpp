// The C2SP tlog-witness server over a real socket: a log built with ledger/log signs
// checkpoints of growing size, the witness cosigns the consistent ones and answers every
// refusal with the spec's status, storing nothing.
#include "pedigree/http/witness_server.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <boost/test/unit_test.hpp>
#include <ctime>
#include <latch>
#include <thread>

#include "common/result.h"
#include "common/witness_testing.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/policy.h"
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
  // The log's own signature line with one signature byte flipped (the key ID intact).
  std::string broken = log.Body(8, 20);
  {
    const size_t sig = broken.rfind(' ') + 1;
    auto raw = FromBase64(std::string_view(broken).substr(sig, broken.size() - sig - 1));
    BOOST_REQUIRE(raw.has_value());
    raw->back() ^= 1;
    broken = broken.substr(0, sig) + ToBase64(*raw) + "\n";
  }

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
      {"proof line of 31 bytes",
       "old 8\n" + ToBase64(std::span(proof[0]).first(31)) + "\n\n" + log.Note(20), 400,
       "witness.malformed"},
      {"old with a leading zero", "old 08\n\n" + log.Note(8), 400, "witness.malformed"},
      // Over the 16 KiB limit (far over the chassis's 1 MiB: below, announced, never sent).
      {"oversized", log.Body(8, 20) + std::string(20000, 'x'), 413, "witness.body_too_large"},
      {"control character", control, 400, "witness.bad_note"},
      {"not a checkpoint", log::FormatAddCheckpoint(8, {}, log::SignNote("hi\n", log.signer())),
       400, "witness.bad_checkpoint"},
      {"unknown origin", stranger.Body(0, 3), 404, "witness.unknown_log"},
      {"wrong log key", impostor.Body(8, 20), 403, "witness.bad_signature"},
      {"trusted key, broken signature", broken, 403, "witness.bad_signature"},
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
  {
    // A body announced far over the chassis's limit is refused by its Content-Length, unread.
    auto session = Session();
    Poco::Net::HTTPRequest request("POST", prefix + "/add-checkpoint",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentLength(64 << 20);
    session->sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session->receiveResponse(response), body);
    BOOST_TEST(static_cast<int>(response.getStatus()) == 413);
    BOOST_TEST(body.find("request.too_large") != std::string::npos, body);
    BOOST_TEST(StoredSize() == 8u);
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

BOOST_FIXTURE_TEST_CASE(other_cosigners_lines_are_ignored_even_from_the_future,
                        WitnessServerFixture) {
  // The checkpoint arrives already cosigned by another witness whose clock is a day ahead.
  // That line is not this witness's to judge (verifiers of cosignatures refuse it, see
  // policy_test): the checkpoint is cosigned, the evidence keeps the note exactly as
  // received, and the monitoring endpoint serves only the log's and our own lines.
  log::NoteSigner other("other.example/witness", log::PrivateKey::Generate(),
                        log::NoteKeyType::kCosignatureV1);
  const uint64_t future = static_cast<uint64_t>(std::time(nullptr)) + 86400;
  const std::string note = log::Cosign(log.Note(6), other, future).value();
  Reply r = Post(log::FormatAddCheckpoint(0, {}, note));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.body.find("other.example") == std::string::npos);
  auto evidence = witness->Evidence();
  BOOST_REQUIRE(evidence.has_value() && evidence->size() == 1u);
  BOOST_TEST(evidence->front().note == note);
  auto session = Session();
  Reply served = Exchange(
      session, Send{"GET", prefix + "/" + ToHex(Sha256(log.origin())) + "/checkpoint", "", {}});
  BOOST_REQUIRE_EQUAL(served.status, 200);
  BOOST_TEST(served.body.find("other.example") == std::string::npos);
  BOOST_TEST(served.body == log.Note(6) + r.body);
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
  // Nothing stored: the witness still holds size 4 and one piece of evidence.
  auto latest = (*witness)->Latest(log.origin());
  BOOST_REQUIRE(latest.has_value() && latest->has_value());
  BOOST_TEST((**latest).size == 4u);
  BOOST_TEST((*witness)->Evidence().value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(client_keeps_a_cosignature_from_the_future_out_of_the_published_note) {
  // Two real witnesses over HTTP, quorum "any": one's clock is an hour fast. Its
  // cosignature verifies, but every verifier would refuse a note carrying it
  // (note.future_cosignature), so the client does not merge it and reports the witness.
  TempDir tmp;
  auto ledger = log::Ledger::Create(tmp / "node", "example.org/client-log");
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), Why(ledger));
  const log::PrivateKey author = log::PrivateKey::Generate();
  for (int i = 0; i < 3; ++i) {
    auto payload = JsonValue::Object();
    payload.set("kind", JsonValue(std::string("test")));
    payload.set("n", JsonValue(static_cast<int64_t>(i)));
    BOOST_REQUIRE((*ledger)->Append(log::SignEntry(payload, author, (*ledger)->origin()).value()));
  }
  const uint64_t now = static_cast<uint64_t>(std::time(nullptr));
  std::vector<std::unique_ptr<log::Witness>> witnesses;
  std::vector<std::unique_ptr<HttpServer>> servers;
  std::string policy = "log " + (*ledger)->VerifierKey() + "\n";
  for (const auto& [name, skew] : {std::pair<std::string, uint64_t>{"fast", 3600},
                                   std::pair<std::string, uint64_t>{"right", 0}}) {
    auto vkey = log::Witness::Init(tmp / name, "witness.example/" + name);
    BOOST_REQUIRE(vkey.has_value());
    log::Witness::Options options;
    options.clock = [now, skew] { return now + skew; };
    auto w = log::Witness::Open(
        tmp / name, {log::ParseWitnessedLog((*ledger)->VerifierKey()).value()}, options);
    BOOST_REQUIRE_MESSAGE(w.has_value(), Why(w));
    Router router;
    BOOST_REQUIRE(AddWitnessRoutes(router, **w).has_value());
    auto s = HttpServer::Start(ServerConfig{}, std::move(router), nullptr);
    BOOST_REQUIRE(s.has_value());
    policy += "witness " + name + " " + *vkey +
              " http://127.0.0.1:" + std::to_string((*s)->port()) + "\n";
    witnesses.push_back(std::move(*w));
    servers.push_back(std::move(*s));
  }
  policy += "group either any fast right\nquorum either\n";
  WitnessClientOptions options;
  options.policy = log::ParsePolicy(policy).value();
  options.background = false;
  auto client = WitnessClient::Start(**ledger, std::move(options));
  BOOST_REQUIRE_MESSAGE(client.has_value(), Why(client));
  auto met = (*client)->RunRound();
  BOOST_REQUIRE_MESSAGE(met.has_value(), Why(met));
  BOOST_TEST(*met);
  auto witnessed = (*client)->Witnessed();
  BOOST_REQUIRE(witnessed.has_value() && witnessed->has_value());
  const std::string& note = (**witnessed).note;
  BOOST_TEST(note.find("witness.example/right") != std::string::npos, note);
  BOOST_TEST(note.find("witness.example/fast") == std::string::npos, note);
  auto quorum = log::EvaluateQuorum(log::ParsePolicy(policy).value(), note);
  BOOST_REQUIRE_MESSAGE(quorum.has_value(), Why(quorum));
  BOOST_TEST(quorum->cosigned == std::vector<std::string>{"right"});
  for (const WitnessStatus& w : (*client)->Witnesses()) {
    BOOST_TEST_CONTEXT(w.name) {
      BOOST_TEST(w.last_error.starts_with(w.name == "fast" ? "future_cosignature" : ""),
                 w.last_error);
      BOOST_TEST(w.last_error.empty() == (w.name == "right"));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
