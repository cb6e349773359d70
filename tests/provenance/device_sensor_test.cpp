// Device-signed sensor data (docs/epcis.md, "Device-signed sensor data"): data loggers are
// registered devices of an organisation, and a sensorElement signed by a logger's key is
// accepted as that logger's only when the registry, as it stands at the entry, says so.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "common/pg_cluster.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/derived_audit.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"

using namespace pedigree;
using namespace pedigree::provenance;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

constexpr const char* kGtin = "09506000134352";
constexpr const char* kMfgGln = "9506000000008";
constexpr const char* kWsGln = "4012345000009";
constexpr const char* kLogger = "urn:epc:id:giai:9506000.LOGGER1";
constexpr const char* kWsLogger = "urn:epc:id:giai:4012345.LOGGER9";

// RFC 8032 section 7.1, TEST 1: the logger key of docs/epcis.md's worked example.
constexpr const char* kTestSeedHex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

// Its signature over the example element's bytes (RFC 8032 signatures are deterministic),
// computed independently with Python's `cryptography` 48:
//   Ed25519PrivateKey.from_private_bytes(bytes.fromhex(kTestSeedHex)).sign(bytes)
constexpr const char* kWorkedExampleSignature =
    "Uw/QTs6Vw75hGLpaNXiiSd2Yr4uusMpdgWVUPVaGEiRwtbeg63zQQStts8p/w0WLWtYEuQY6f9MgOp/F1wrUAQ==";

log::PrivateKey TestLoggerKey() {
  return log::PrivateKey::FromSeed(FromHex(kTestSeedHex).value()).value();
}

struct Org {
  std::string id;
  log::PrivateKey key = log::PrivateKey::Generate();
};

// A ledger with a manufacturer and a wholesaler, one pack shipped mfg -> ws ("DA1").
class Chain {
 public:
  // `postgres`: the ledger and its derived state in a fresh database of the test process's
  // throwaway PostgreSQL cluster (tests/common/pg_cluster.h), else SQLite.
  explicit Chain(bool postgres = false) {
    const std::string storage = postgres ? PgCluster::Shared().NewDatabase() : std::string();
    const log::LedgerOptions options = ProvenanceLedgerOptions(
        state_, [this] { return now_; }, authority_.public_key(), {}, storage, tmp_ / "ledger");
    ledger_ = log::Ledger::Create(tmp_ / "ledger", "example.org/device-test", options).value();
    Register(mfg_, "manufacturer", "9506000", kMfgGln);
    Register(ws_, "wholesaler", "4012345", kWsGln);
    Expect(Do(mfg_, "product.register",
              {{"gtin", kGtin}, {"name", "Examplamab"}, {"tempMin", 20}, {"tempMax", 80}}));
    Expect(Do(mfg_, "batch.register",
              {{"gtin", kGtin}, {"lot", "L1"}, {"expiry", "2028-03-31"}, {"quantity", 10}}));
    auto serials = JsonValue::Array();
    serials.push_back("S1");
    Expect(Do(mfg_, "commission",
              {{"gtin", kGtin}, {"lot", "L1"}, {"location", kMfgGln}, {"serials", serials}}));
    auto epcs = JsonValue::Array();
    epcs.push_back(std::string("https://id.gs1.org/01/") + kGtin + "/21/S1");
    Expect(Do(mfg_, "ship",
              {{"epcs", epcs}, {"to", "ws"}, {"toLocation", kWsGln}, {"despatchAdvice", "DA1"}}));
  }

  Status Do(const Org& org, const std::string& kind,
            std::initializer_list<std::pair<std::string, JsonValue>> fields,
            const log::PrivateKey* signer = nullptr) {
    auto p = JsonValue::Object();
    p.set("v", 1).set("kind", kind).set("org", org.id);
    p.set("clientId", "c" + std::to_string(++client_)).set("time", FormatUtcTime(now_ - 60));
    for (const auto& [k, v] : fields) p.set(k, v);
    auto index =
        ledger_->Append(log::SignEntry(p, signer ? *signer : org.key, ledger_->origin()).value());
    if (!index) return std::unexpected(index.error());
    return Ok();
  }

  Status Authority(const std::string& kind,
                   std::initializer_list<std::pair<std::string, JsonValue>> fields) {
    return Do(Org{"authority"}, kind, fields, &authority_);
  }

  Status AddDevice(const std::string& org, const std::string& device, const log::PrivateKey& key) {
    return Authority("org.device_add", {{"id", org},
                                        {"device", device},
                                        {"key", ToBase64(key.public_key().raw())},
                                        {"label", "reefer logger"}});
  }

  void Register(const Org& org, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    auto keys = JsonValue::Array();
    keys.push_back(JsonValue::Object()
                       .set("key", ToBase64(org.key.public_key().raw()))
                       .set("validFrom", "2026-01-01T00:00:00Z"));
    auto roles = JsonValue::Array(), prefixes = JsonValue::Array(), glns = JsonValue::Array();
    roles.push_back(role);
    prefixes.push_back(prefix);
    glns.push_back(gln);
    Expect(Authority("org.register", {{"id", org.id},
                                      {"name", org.id},
                                      {"roles", roles},
                                      {"companyPrefixes", prefixes},
                                      {"glns", glns},
                                      {"keys", keys}}));
  }

  // A sensor entry of `org` on DA1 with one sensorElement.
  Status Report(const Org& org, const JsonValue& element) {
    auto list = JsonValue::Array();
    list.push_back(element);
    return Do(org, "sensor",
              {{"from", "mfg"}, {"despatchAdvice", "DA1"}, {"sensorElementList", list}});
  }

  static void Expect(const Status& s) {
    BOOST_REQUIRE_MESSAGE(s.has_value(), pedigree::testing::Why(s));
  }
  static std::string Code(const Status& s) { return s ? "ok" : s.error().code(); }

  TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  Org mfg_{"mfg"}, ws_{"ws"};
  int64_t now_ = 1'795'300'000;
  int client_ = 0;
  std::unique_ptr<ProvenanceState> state_;
  std::unique_ptr<log::Ledger> ledger_;
};

// The element of docs/epcis.md's worked example, in the pedigree payload's form (decimals as
// strings), unsigned.
JsonValue ExampleElement(const std::string& device = kLogger) {
  auto reports = JsonValue::Array();
  reports.push_back(JsonValue::Object()
                        .set("type", "Temperature")
                        .set("time", "2026-11-21T08:00:00Z")
                        .set("value", "4.5")
                        .set("uom", "CEL"));
  reports.push_back(JsonValue::Object()
                        .set("type", "Temperature")
                        .set("time", "2026-11-21T09:00:00Z")
                        .set("value", "5.2")
                        .set("uom", "CEL"));
  return JsonValue::Object()
      .set("sensorMetadata", JsonValue::Object()
                                 .set("time", "2026-11-21T09:00:00Z")
                                 .set("deviceID", device)
                                 .set("deviceMetadata", "https://example.com/loggers/LOGGER1"))
      .set("sensorReport", std::move(reports));
}

JsonValue Signed(JsonValue element, const log::PrivateKey& key) {
  const std::string bytes = DeviceSignedBytes(element, "sensorElementList[0]").value();
  const auto sig = key.Sign(bytes);
  element.set(std::string(kDeviceSignatureMember),
              JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(sig)));
  return element;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(device_sensor)

// docs/epcis.md's worked example, recomputed: the bytes are RFC 8785 of the EPCIS element
// (numbers, not strings) and the signature is deterministic (RFC 8032).
BOOST_AUTO_TEST_CASE(worked_example_of_the_docs_recomputes) {
  const std::string expected_bytes =
      R"({"sensorMetadata":{"deviceID":"urn:epc:id:giai:9506000.LOGGER1","deviceMetadata":)"
      R"("https://example.com/loggers/LOGGER1","time":"2026-11-21T09:00:00Z"},"sensorReport":)"
      R"([{"time":"2026-11-21T08:00:00Z","type":"Temperature","uom":"CEL","value":4.5},)"
      R"({"time":"2026-11-21T09:00:00Z","type":"Temperature","uom":"CEL","value":5.2}]})";
  BOOST_TEST(DeviceSignedBytes(ExampleElement(), "e").value() == expected_bytes);
  // The same bytes from the EPCIS form a logger writes.
  const JsonValue epcis = SensorElementAsEpcis(ExampleElement());
  BOOST_TEST(epcis.find("sensorReport")->as_array()[0].find("value")->is_double());
  BOOST_TEST(DeviceSignedBytes(epcis, "e").value() == expected_bytes);
  const log::PrivateKey key = TestLoggerKey();
  BOOST_TEST(ToBase64(key.public_key().raw()) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  const JsonValue element = Signed(ExampleElement(), key);
  BOOST_TEST(element.find(std::string(kDeviceSignatureMember))->find("sig")->as_string() ==
             kWorkedExampleSignature);
}

BOOST_AUTO_TEST_CASE(non_canonical_decimal_in_a_signed_element_is_refused) {
  JsonValue element = ExampleElement();
  element.find("sensorReport")->as_array()[0].set("value", "4.50");
  auto bytes = DeviceSignedBytes(element, "sensorElementList[0]");
  BOOST_REQUIRE(!bytes);
  BOOST_TEST(bytes.error().code() == "event.malformed");
  BOOST_TEST(bytes.error().field() == "sensorElementList[0].sensorReport[0].value");
  BOOST_TEST(bytes.error().message().find("\"4.5\"") != std::string::npos);
}

// One row per verdict: the registry at the entry decides; a refusal appends nothing.
void JudgedAgainstTheRegistry(bool postgres) {
  Chain c(postgres);
  const log::PrivateKey logger = TestLoggerKey();
  const log::PrivateKey ws_logger = log::PrivateKey::Generate();
  const log::PrivateKey stranger = log::PrivateKey::Generate();
  Chain::Expect(c.AddDevice("mfg", kLogger, logger));
  Chain::Expect(c.AddDevice("ws", kWsLogger, ws_logger));

  JsonValue flipped = Signed(ExampleElement(), logger);
  flipped.find("sensorReport")->as_array()[1].set("value", "8.2");  // one byte: 5.2 -> 8.2
  struct Row {
    const char* name;
    JsonValue element;
    const char* code;
    const char* field;
  };
  const Row rows[] = {
      {"a flipped reading", flipped, "sensor.bad_device_signature",
       "sensorElementList[0].pedigree:deviceSignature"},
      {"a logger no one registered",
       Signed(ExampleElement("urn:epc:id:giai:9506000.NOBODY"), stranger), "sensor.unknown_device",
       "sensorElementList[0].sensorMetadata.deviceID"},
      {"another key claiming a registered logger", Signed(ExampleElement(), stranger),
       "sensor.bad_device_signature", "sensorElementList[0].pedigree:deviceSignature"},
      {"a logger of another organisation", Signed(ExampleElement(kWsLogger), ws_logger),
       "sensor.foreign_device", "sensorElementList[0].sensorMetadata.deviceID"},
  };
  const uint64_t before = c.ledger_->size();
  for (const Row& row : rows) {
    BOOST_TEST_CONTEXT(row.name) {
      auto s = c.Report(c.mfg_, row.element);
      BOOST_TEST(Chain::Code(s) == row.code);
      if (!s) BOOST_TEST(s.error().field() == row.field);
    }
  }
  BOOST_TEST(c.ledger_->size() == before);

  // Good: accepted and recorded as the logger's; the same signed readings again are not.
  Chain::Expect(c.Report(c.mfg_, Signed(ExampleElement(), logger)));
  BOOST_TEST(Chain::Code(c.Report(c.mfg_, Signed(ExampleElement(), logger))) ==
             "sensor.signature_reused");
  // Unsigned: still accepted, as reported by the organisation.
  Chain::Expect(c.Report(c.mfg_, ExampleElement()));

  // Revoked: readings sequenced from the revocation on are refused.
  Chain::Expect(
      c.Authority("org.device_revoke",
                  {{"id", "mfg"}, {"device", kLogger}, {"revokedAt", FormatUtcTime(c.now_)}}));
  JsonValue later = ExampleElement();
  later.find("sensorMetadata")->set("time", "2026-11-21T10:00:00Z");
  auto revoked = c.Report(c.mfg_, Signed(later, logger));
  BOOST_TEST(Chain::Code(revoked) == "sensor.device_revoked");
  if (!revoked)
    BOOST_TEST(revoked.error().field() == "sensorElementList[0].sensorMetadata.deviceID");
  // The registry refuses a second registration of a deviceID and a revocation by another org.
  BOOST_TEST(Chain::Code(c.AddDevice("mfg", kLogger, stranger)) == "event.conflict");
  BOOST_TEST(Chain::Code(c.Authority(
                 "org.device_revoke",
                 {{"id", "mfg"}, {"device", kWsLogger}, {"revokedAt", FormatUtcTime(c.now_)}})) ==
             "sensor.unknown_device");
  // Only the authority registers loggers.
  BOOST_TEST(Chain::Code(c.Do(c.mfg_, "org.device_add",
                              {{"id", "mfg"},
                               {"device", "urn:epc:id:giai:9506000.SELF"},
                               {"key", ToBase64(stranger.public_key().raw())}})) ==
             "event.not_authority");
}

BOOST_AUTO_TEST_CASE(device_signatures_are_judged_against_the_registry_at_the_entry) {
  JudgedAgainstTheRegistry(false);
}

BOOST_AUTO_TEST_CASE(device_signatures_are_judged_against_the_registry_at_the_entry_on_postgresql) {
  JudgedAgainstTheRegistry(true);
}

BOOST_AUTO_TEST_CASE(device_verdicts_equal_a_replay_of_the_log) {
  Chain c;
  const log::PrivateKey logger = TestLoggerKey();
  Chain::Expect(c.AddDevice("mfg", kLogger, logger));
  Chain::Expect(c.Report(c.mfg_, Signed(ExampleElement(), logger)));
  Chain::Expect(c.Report(c.ws_, ExampleElement()));
  Chain::Expect(
      c.Authority("org.device_revoke",
                  {{"id", "mfg"}, {"device", kLogger}, {"revokedAt", FormatUtcTime(c.now_)}}));
  const std::filesystem::path dir = c.tmp_ / "ledger";
  c.ledger_.reset();
  auto storage = log::OpenLedgerStorage(dir.string()).value();
  std::ifstream in(dir / log::kLogVerifierKeyFile);
  std::string line;
  std::getline(in, line);
  auto vkey = log::NoteVerifier::Parse(line).value();
  auto report = AuditDerivedState(*storage, (dir / log::kLedgerDbFile).string(), vkey.public_key());
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  BOOST_TEST(report->ok(), (report->problem ? report->problem->ToString() : ""));
  for (const char* table : {"org_devices", "sensor_device_readings"}) {
    BOOST_TEST_CONTEXT(table) {
      const auto& t = report->tables_compared;
      BOOST_TEST((std::find(t.begin(), t.end(), table) != t.end()));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
