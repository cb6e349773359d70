// `pedigree epcis capture FILE` on a local node: with rollback (the default) the document is
// one all-or-nothing group, so a refused third event writes nothing of it; --error-behaviour
// proceed appends event by event up to the refusal; a repeated capture appends nothing and
// marks every event a duplicate of its first index, signed by the node or by --key alike.
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <string>
#include <vector>

#include "cli_run.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::RecentUtc;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

std::string Commission(const std::string& serial, const std::string& time) {
  return R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","eventTime":")" + time +
         R"(","eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/)" +
         serial + R"("],"bizLocation":{"id":"https://id.gs1.org/414/9506000000008"},)" +
         R"("ilmd":{"cbvmda:lotNumber":"L1"}})";
}

// A shipment to the pharmacy, named by its GLN.
std::string Ship(const std::string& serial, const std::string& time) {
  return R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping","eventTime":")" + time +
         R"(","eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/)" +
         serial + R"("],"bizTransactionList":[{"type":"desadv","bizTransaction":"DA-)" + serial +
         R"("}],"destinationList":[{"type":"owning_party",)" +
         R"("destination":"https://id.gs1.org/417/9506000000015"}]})";
}

std::string Document(const std::vector<std::string>& events) {
  std::string list;
  for (const std::string& e : events) list += (list.empty() ? "" : ",") + e;
  return R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],)"
         R"("type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-12-07T00:00:00Z",)"
         R"("epcisBody":{"eventList":[)" +
         list + "]}}";
}

std::string ErrorCode(const Run& r) {
  auto parsed = ParseJson(r.err);
  if (!parsed || !parsed->find("error")) return "";
  return parsed->find("error")->find("code")->as_string();
}

// A node with a manufacturer (key held by the node and in tmp/mfg.pem), a pharmacy, a product
// and batch L1.
struct Node {
  explicit Node(TempDir& tmp) : dir(tmp / "node"), key(tmp / "mfg.pem") {
    Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-epcis", "--supply-chain"});
    BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
    const std::string authority =
        ParseJson(init.out).value().find("authority_key_file")->as_string();
    BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
    BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "ph.pem"}).rc == 0);
    Must({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker",
          "--roles", "manufacturer", "--prefixes", "9506000", "--glns", "9506000000008", "--key",
          key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    Must({"org", "register", "--authority-key", authority, "--id", "pharmacy", "--name", "Pharmacy",
          "--roles", "dispenser", "--glns", "9506000000015", "--key", tmp / "ph.pem", "--hold",
          "--valid-from", "2026-01-01T00:00:00Z"});
    Must(
        {"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
    Must({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
          "2030-03-31", "--quantity", "20"});
  }
  Run Must(std::vector<std::string> args) {
    Run r = Capture(std::move(args));
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    return r;
  }
  Run Capture(std::vector<std::string> args, const std::string& in = "") {
    args.insert(args.end(), {"--dir", dir});
    return Cli(args, in);
  }
  // The pack's status as `verify --json` answers it ("unknown" when never commissioned).
  std::string Status(const std::string& serial) {
    Run v = Capture({"verify", "--code", "(01)09506000134352(21)" + serial, "--json"});
    auto parsed = ParseJson(v.out);
    return parsed && parsed->find("status") ? parsed->find("status")->as_string() : v.out + v.err;
  }
  std::string dir, key;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_epcis_capture)

BOOST_AUTO_TEST_CASE(a_refused_third_event_writes_nothing_of_the_document_by_default) {
  TempDir tmp;
  Node node(tmp);
  const std::string time = RecentUtc();
  // The third event ships a pack nobody commissioned (S8, then S9: the first refusal's alert
  // is an event of S8): the rules refuse it.
  std::string doc;
  for (const std::vector<std::string>& signer :
       {std::vector<std::string>{}, std::vector<std::string>{"--key", node.key}}) {
    doc = Document({Commission("S1", time), Commission("S2", time),
                    Ship(signer.empty() ? "S8" : "S9", time), Commission("S3", time)});
    std::vector<std::string> args = {"epcis", "capture", "-", "--as", "mfg"};
    args.insert(args.end(), signer.begin(), signer.end());
    Run r = node.Capture(args, doc);
    BOOST_TEST(r.rc == 1);
    BOOST_TEST(r.out.empty(), r.out);
    auto err = ParseJson(r.err);
    BOOST_REQUIRE_MESSAGE(err.has_value(), r.err);
    BOOST_TEST(err->find("error")->find("code")->as_string().starts_with("alert."), r.err);
    BOOST_TEST(err->find("error")->find("field")->as_string().starts_with("/epcisBody/eventList/2"),
               r.err);
    BOOST_TEST(r.err.find("nothing of the document was written") != std::string::npos, r.err);
    for (const char* serial : {"S1", "S2", "S3"}) BOOST_TEST(node.Status(serial) == "unknown");
  }
  // An unknown behaviour is a usage error.
  Run bad =
      node.Capture({"epcis", "capture", "-", "--as", "mfg", "--error-behaviour", "maybe"}, doc);
  BOOST_TEST(bad.rc == 2);
  BOOST_TEST(ErrorCode(bad) == "cli.usage");
}

BOOST_AUTO_TEST_CASE(proceed_appends_event_by_event_up_to_the_refused_one) {
  TempDir tmp;
  Node node(tmp);
  const std::string time = RecentUtc();
  const std::string doc = Document(
      {Commission("P1", time), Commission("P2", time), Ship("P9", time), Commission("P3", time)});
  Run r =
      node.Capture({"epcis", "capture", "-", "--as", "mfg", "--error-behaviour", "proceed"}, doc);
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(ParseJson(r.out).value().find("events")->size() == 2u);
  BOOST_TEST(node.Status("P1") == "active");
  BOOST_TEST(node.Status("P2") == "active");
  BOOST_TEST(node.Status("P3") == "unknown");
}

BOOST_AUTO_TEST_CASE(a_repeated_capture_appends_nothing_and_marks_duplicates) {
  TempDir tmp;
  Node node(tmp);
  const std::string time = RecentUtc();
  // C1 twice in the document: appended once, the repeat answers the first index.
  const std::string doc =
      Document({Commission("C1", time), Commission("C2", time), Commission("C1", time)});
  Run first = node.Capture({"epcis", "capture", "-", "--as", "mfg"}, doc);
  BOOST_REQUIRE_MESSAGE(first.rc == 0, first.err);
  const JsonValue events = *ParseJson(first.out).value().find("events");
  BOOST_REQUIRE_EQUAL(events.size(), 3u);
  BOOST_TEST(events.as_array()[0].find("duplicate") == nullptr);
  BOOST_TEST(events.as_array()[1].find("duplicate") == nullptr);
  BOOST_TEST(events.as_array()[2].find("duplicate")->as_bool());
  BOOST_TEST(events.as_array()[2].find("index")->as_int() ==
             events.as_array()[0].find("index")->as_int());
  // Again, by the node's key, by --key and event by event: every event a duplicate.
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--key", node.key},
        std::vector<std::string>{"--error-behaviour", "proceed"}}) {
    std::vector<std::string> args = {"epcis", "capture", "-", "--as", "mfg"};
    args.insert(args.end(), extra.begin(), extra.end());
    Run again = node.Capture(args, doc);
    BOOST_REQUIRE_MESSAGE(again.rc == 0, again.err);
    const JsonValue twins = *ParseJson(again.out).value().find("events");
    for (size_t i = 0; i < 3; ++i) {
      BOOST_TEST(twins.as_array()[i].find("duplicate")->as_bool());
      BOOST_TEST(twins.as_array()[i].find("index")->as_int() ==
                 events.as_array()[i].find("index")->as_int());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
