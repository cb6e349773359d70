// `pedigree witness init|serve` argument handling (the server itself is tested over a socket
// in tests/services/http/witness_server_test.cpp and by tests/interop/run.sh).
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "common/temp_dir.h"
#include "common/witness_testing.h"
#include "services/cli/cli_run.h"

namespace pedigree::services {

using pedigree::testing::TempDir;
using testing::Cli;

BOOST_AUTO_TEST_SUITE(cli_witness)

BOOST_AUTO_TEST_CASE(init_prints_the_cosignature_verifier_key_and_refuses_an_existing_dir) {
  TempDir tmp;
  const std::string dir = tmp / "w";
  auto first = Cli({"witness", "init", "--dir", dir, "--name", "witness.example/cli"});
  BOOST_REQUIRE_EQUAL(first.rc, 0);
  auto vkey = log::NoteVerifier::Parse(first.out.substr(0, first.out.size() - 1));
  BOOST_REQUIRE(vkey.has_value());
  BOOST_TEST(vkey->name() == "witness.example/cli");
  BOOST_TEST((vkey->type() == log::NoteKeyType::kCosignatureV1));
  BOOST_TEST(std::filesystem::exists(dir + "/witness-key.pem"));
  auto again = Cli({"witness", "init", "--dir", dir, "--name", "witness.example/cli"});
  BOOST_TEST(again.rc == 1);
  BOOST_TEST(again.err.find("witness.exists") != std::string::npos);
  BOOST_TEST(Cli({"witness", "init", "--dir", tmp / "x"}).rc == 2);
  BOOST_TEST(Cli({"witness", "init", "--dir", tmp / "y", "--name", "bad name"}).rc == 1);
}

BOOST_AUTO_TEST_CASE(serve_refuses_bad_configuration_before_listening) {
  TempDir tmp;
  const std::string dir = tmp / "w";
  BOOST_REQUIRE_EQUAL(Cli({"witness", "init", "--dir", dir, "--name", "w.example/a"}).rc, 0);
  pedigree::testing::SigningLog log;
  auto no_log = Cli({"witness", "serve", "--dir", dir});
  BOOST_TEST(no_log.rc == 2);
  BOOST_TEST(no_log.err.find("--log") != std::string::npos);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", "not-a-key"}).rc == 2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", log.vkey(), "--rate", "x"}).rc == 2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", log.vkey(), "--prefix", "p/"}).rc ==
             2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", tmp / "none", "--log", log.vkey()}).rc == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
