// `pedigree mirror push` to `pedigree mirror serve` running as a real process: a supply-chain
// node's ledger, read beside the node that keeps it open, pushed in C2SP tlog-mirror
// add-entries requests to a mirror that replays the provenance rules and cosigns.
#include <Poco/Net/HTTPClientSession.h>

#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/keys.h"
#include "pedigree/usecases/supply_node.h"
#include "services/cli/cli_run.h"
#include "services/cli/process.h"
#include "services/http/http_client.h"

namespace pedigree::services {

BOOST_AUTO_TEST_SUITE(cli_mirror_push)

BOOST_AUTO_TEST_CASE(mirror_serve_accepts_a_push_and_cosigns_under_the_provenance_rules) {
  pedigree::testing::TempDir tmp;
  const log::PrivateKey authority = log::PrivateKey::Generate();
  auto node = SupplyNode::Create(tmp / "ledger", "example.org/pushed-node", authority.public_key());
  BOOST_REQUIRE_MESSAGE(node.has_value(), pedigree::testing::Why(node));
  for (int i = 0; i < 300; ++i) {  // 300 registry entries: two packages
    const std::string id = "org-" + std::to_string(i);
    log::PrivateKey key = log::PrivateKey::Generate();
    auto index = (*node)->RegisterOrg(
        authority, {id, id, {"manufacturer"}, {}, {}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  BOOST_REQUIRE((*node)->ledger().SignCheckpoint().has_value());

  const std::string dir = tmp / "mirror";
  auto init = testing::Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                            (*node)->ledger().VerifierKey(), "--authority-public-key",
                            ToBase64(authority.public_key().raw())});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  testing::Process serve({"mirror", "serve", "--dir", dir, "--port", "0"}, tmp / "serve.out");
  const std::string url = serve.AwaitOutput(R"(serving (http://127\.0\.0\.1:\d+))");

  auto push = testing::Cli({"mirror", "push", "--dir", tmp / "ledger", "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(push.rc == 0, push.err);
  auto out = ParseJson(push.out);
  BOOST_REQUIRE(out.has_value());
  BOOST_TEST(out->find("size")->as_int() == 300);
  BOOST_TEST(out->find("packages")->as_int() == 2);
  const std::string cosignatures = out->find("cosignatures")->as_string();
  BOOST_TEST(cosignatures.starts_with("\xe2\x80\x94 mirror.example/m1 "));

  // The mirror serves the pushed checkpoint with that cosignature.
  Poco::Net::HTTPClientSession session("127.0.0.1",
                                       static_cast<uint16_t>(std::stoi(url.substr(17))));
  testing::Reply checkpoint = testing::Exchange(session, {.target = "/checkpoint"});
  BOOST_TEST(checkpoint.status == 200);
  BOOST_TEST(checkpoint.body.starts_with("example.org/pushed-node\n300\n"), checkpoint.body);
  BOOST_TEST(checkpoint.body.find(cosignatures) != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
