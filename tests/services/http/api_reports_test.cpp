// The report endpoints over a real socket: who may read which report, in which format, and
// that a downloaded bundle verifies offline.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/usecases/trial_workflow.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;

namespace {

const std::string kGtin = "09506000134352";
const std::string kMfgGln = "9506000000008", kWhGln = "4000003000003", kPhGln = "4000001000005";
const std::string kPack = "https://id.gs1.org/01/" + kGtin + "/21/S1";

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

// A node where mfg commissions S1 and S2, ships S1 to pharmacy ph1, which receives and
// dispenses it; wh1 (a wholesaler) and ph2 never touch either pack.
class ReportApi {
 public:
  ReportApi() {
    node_ = SupplyNode::Create(tmp_ / "ledger", "example.org/api-reports", authority_.public_key())
                .value();
    node_->SetClock([] { return int64_t{1'795'300'000}; });  // 2026-11-22
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("wh1", "wholesaler", "4000003", kWhGln);
    Register("ph1", "dispenser", "4000001", kPhGln);
    Register("ph2", "dispenser", "4000002", "4000002000004");
    Register("regulator", "regulator", "4000009", "4000009000007");
    Submit("mfg", JsonValue::Object()
                      .set("kind", "product.register")
                      .set("gtin", kGtin)
                      .set("name", "Examplamab"));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "batch.register")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("expiry", "2028-03-31")
                      .set("quantity", int64_t{10}));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "commission")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("location", kMfgGln)
                      .set("serials", Strings({"S1", "S2"})));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "ship")
                      .set("epcs", Strings({kPack}))
                      .set("to", "ph1")
                      .set("toLocation", kPhGln)
                      .set("despatchAdvice", "DA1"));
    Submit("ph1", JsonValue::Object()
                      .set("kind", "receive")
                      .set("from", "mfg")
                      .set("despatchAdvice", "DA1")
                      .set("location", kPhGln));
    Submit("ph1", JsonValue::Object()
                      .set("kind", "decommission")
                      .set("epcs", Strings({kPack}))
                      .set("status", "supplied")
                      .set("location", kPhGln));

    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    for (auto [org, role] : {std::pair{"mfg", "manufacturer"},
                             {"wh1", "wholesaler"},
                             {"ph1", "dispenser"},
                             {"ph2", "dispenser"},
                             {"regulator", "regulator"},
                             {"witness1", "witness"}}) {
      token_[org] = tokens_->Issue(org, {role}, "test").value();
    }
    Router router;
    BOOST_REQUIRE(AddApiRoutes(router, *node_).has_value());
    ServerConfig config;
    config.threads = 4;
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
  }

  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  void Submit(const std::string& org, JsonValue payload) {
    auto index = node_->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  std::unique_ptr<Poco::Net::HTTPClientSession> Session() const {
    return std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
  }
  Reply Get(const std::string& org, const std::string& target) {
    if (!session_) session_ = Session();
    return Exchange(*session_,
                    Send{"GET", target, "", {{"Authorization", "Bearer " + token_[org]}}});
  }
  static std::string PackTarget(const std::string& code, const std::string& format = "") {
    return "/v1/reports/pack?code=" + provenance::PercentEncode(code) +
           (format.empty() ? "" : "&format=" + format);
  }
  static JsonValue Body(const Reply& r) { return pedigree::ParseJson(r.body).value(); }
  static std::string Verdict(const Reply& r) {
    auto body = pedigree::ParseJson(r.body);
    if (!body || !body->find("verdict")) return "";
    return body->find("verdict")->as_string();
  }
  static std::string ErrorCode(const Reply& r) {
    auto b = pedigree::ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("code")->as_string();
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_reports)

BOOST_AUTO_TEST_CASE(regulator_gets_a_verified_pack_report_as_json_and_html) {
  ReportApi api;
  // Raw scanner data with symbology identifier and GS separator.
  const std::string raw = "]d201" + kGtin + "1728033110LOT1\x1d" + "21S1";
  Reply json = api.Get("regulator", ReportApi::PackTarget(raw));
  BOOST_TEST_INFO(json.body);
  BOOST_TEST(json.status == 200);
  BOOST_TEST(json.headers["Content-Type"] == "application/json");
  BOOST_TEST(ReportApi::Verdict(json) == "VERIFIED");
  BOOST_TEST(ReportApi::Body(json).find("report")->as_string() == "pack");
  // The online report runs the same completeness check as verify-bundle: the node's evidence
  // carries the index its log key signed.
  bool complete = false;
  const JsonValue body = ReportApi::Body(json);
  for (const JsonValue& c : body.find("checks")->as_array()) {
    complete |=
        c.find("id")->as_string() == "evidence.complete" && c.find("result")->as_string() == "pass";
  }
  BOOST_TEST(complete);

  Reply html = api.Get("regulator", ReportApi::PackTarget(kPack, "html"));
  BOOST_TEST(html.status == 200);
  BOOST_TEST(html.headers["Content-Type"] == "text/html; charset=utf-8");
  BOOST_TEST(html.headers["Content-Security-Policy"] ==
             "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  BOOST_TEST(html.body.starts_with("<!DOCTYPE html>"));
  BOOST_TEST(html.body.find("VERIFIED") != std::string::npos);
  BOOST_TEST(html.body.find("<script") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(pack_report_appends_nothing_once_a_checkpoint_covers_the_pack) {
  ReportApi api;
  BOOST_REQUIRE(api.Get("regulator", ReportApi::PackTarget(kPack)).status == 200);
  uint64_t size = api.node_->ledger().size();
  auto checkpoint = api.node_->ledger().LatestCheckpoint().value().value();
  BOOST_REQUIRE(api.Get("ph1", ReportApi::PackTarget(kPack)).status == 200);
  BOOST_REQUIRE(api.Get("regulator", "/v1/reports/audit").status == 200);
  BOOST_TEST(api.node_->ledger().size() == size);
  BOOST_TEST(api.node_->ledger().LatestCheckpoint().value().value().size == checkpoint.size);
}

BOOST_AUTO_TEST_CASE(pack_report_is_for_regulators_and_organisations_that_handled_the_pack) {
  ReportApi api;
  struct Case {
    std::string org, code;
    int status;
    std::string error;
  };
  const std::string unknown = "https://id.gs1.org/01/" + kGtin + "/21/NEVER";
  const std::string s2 = "https://id.gs1.org/01/" + kGtin + "/21/S2";
  for (const Case& c : std::vector<Case>{
           {"ph1", kPack, 200, ""},  // received and dispensed it
           {"mfg", kPack, 200, ""},  // commissioned and shipped it
           {"mfg", s2, 200, ""},     // commissioned, still holds it
           // Someone else's pack answers as an unknown one does (docs/api.md, "Access rules").
           {"ph1", s2, 404, "pack.not_found"},
           {"wh1", kPack, 404, "pack.not_found"},
           {"ph2", kPack, 404, "pack.not_found"},
           {"wh1", unknown, 404, "pack.not_found"},
           {"regulator", unknown, 404, "pack.not_found"},
           // Bad codes are rejected before any access decision, with the scanner's code.
           {"wh1", "(01)09506000134353(21)S1", 400, "gs1.check_digit"},
           {"regulator", "(01)" + kGtin, 400, "report.not_a_pack"},
       }) {
    Reply r = api.Get(c.org, ReportApi::PackTarget(c.code));
    BOOST_TEST_CONTEXT(c.org << " " << c.code << ": " << r.body) {
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(ReportApi::ErrorCode(r) == c.error);
    }
  }
  // Both 404 answers are byte for byte the same but for the serial the request named.
  std::string unknown_body = api.Get("wh1", ReportApi::PackTarget(unknown)).body;
  unknown_body.replace(unknown_body.find("NEVER"), 5, "S1");
  BOOST_TEST(unknown_body == api.Get("wh1", ReportApi::PackTarget(kPack)).body);
  Reply bad_format = api.Get("regulator", ReportApi::PackTarget(kPack, "pdf"));
  BOOST_TEST(bad_format.status == 400);
  BOOST_TEST(ReportApi::ErrorCode(bad_format) == "request.bad_parameter");
  Reply no_code = api.Get("regulator", "/v1/reports/pack");
  BOOST_TEST(no_code.status == 400);
  BOOST_TEST(ReportApi::ErrorCode(no_code) == "request.missing_parameter");
}

BOOST_AUTO_TEST_CASE(batch_report_is_for_regulators_and_the_batch_manufacturer) {
  ReportApi api;
  const std::string target = "/v1/reports/batch/" + kGtin + "/LOT1";
  Reply mfg = api.Get("mfg", target);
  BOOST_TEST_INFO(mfg.body);
  BOOST_TEST(mfg.status == 200);
  BOOST_TEST(ReportApi::Body(mfg).find("report")->as_string() == "batch");
  BOOST_TEST(ReportApi::Verdict(mfg) == "VERIFIED");
  Reply html = api.Get("regulator", target + "?format=html");
  BOOST_TEST(html.status == 200);
  BOOST_TEST(html.headers["Content-Type"] == "text/html; charset=utf-8");
  BOOST_TEST(html.headers["Content-Security-Policy"] ==
             "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  Reply ph1 = api.Get("ph1", target);
  BOOST_TEST(ph1.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(ph1) == "batch.not_found");
  Reply unknown_mfg = api.Get("mfg", "/v1/reports/batch/" + kGtin + "/NOLOT");
  BOOST_TEST(unknown_mfg.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(unknown_mfg) == "batch.not_found");
  Reply unknown_reg = api.Get("regulator", "/v1/reports/batch/" + kGtin + "/NOLOT");
  BOOST_TEST(unknown_reg.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(unknown_reg) == "batch.not_found");
}

BOOST_AUTO_TEST_CASE(audit_report_is_for_regulators_and_witnesses) {
  ReportApi api;
  for (const char* org : {"regulator", "witness1"}) {
    Reply r = api.Get(org, "/v1/reports/audit");
    BOOST_TEST_CONTEXT(org << ": " << r.body) {
      BOOST_TEST(r.status == 200);
      BOOST_TEST(ReportApi::Body(r).find("report")->as_string() == "audit");
      BOOST_TEST(ReportApi::Verdict(r) == "VERIFIED");
    }
  }
  Reply html = api.Get("witness1", "/v1/reports/audit?format=html");
  BOOST_TEST(html.status == 200);
  BOOST_TEST(html.body.find("VERIFIED") != std::string::npos);
  Reply ph1 = api.Get("ph1", "/v1/reports/audit");
  BOOST_TEST(ph1.status == 403);
  BOOST_TEST(ReportApi::ErrorCode(ph1) == "auth.forbidden_role");
}

// The audit as a job: 202 with Location, then a status with how many entries were checked
// of the total, and in the end the same report as GET /v1/reports/audit. Only the organisation
// that started a job reads it; others (and unknown ids) get report.no_audit_job.
BOOST_AUTO_TEST_CASE(audit_job_reports_progress_and_then_the_report) {
  ReportApi api;
  auto post = [&](const std::string& org) {
    auto session = api.Session();
    return Exchange(*session, Send{"POST",
                                   "/v1/reports/audit/jobs",
                                   "",
                                   {{"Authorization", "Bearer " + api.token_[org]}}});
  };
  Reply started = post("regulator");
  BOOST_REQUIRE_MESSAGE(started.status == 202, started.body);
  const std::string location = started.headers["Location"];
  const std::string id = ReportApi::Body(started).find("jobId")->as_string();
  BOOST_TEST(location == "/v1/reports/audit/jobs/" + id);

  // Polled until done, however long that takes here (no timing is asserted).
  JsonValue status;
  for (int i = 0; i < 6000; ++i) {
    Reply r = api.Get("regulator", location);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    status = ReportApi::Body(r);
    const std::string state = status.find("state")->as_string();
    BOOST_TEST_INFO(r.body);
    BOOST_TEST((state == "queued" || state == "running" || state == "done"));
    BOOST_TEST(status.find("checked")->as_int() <= status.find("total")->as_int());
    if (state == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_REQUIRE(status.find("state")->as_string() == "done");
  BOOST_TEST(status.find("total")->as_int() > 0);
  BOOST_TEST(status.find("checked")->as_int() == status.find("total")->as_int());
  BOOST_TEST(status.find("result")->find("report")->as_string() == "audit");
  BOOST_TEST(status.find("result")->find("verdict")->as_string() == "VERIFIED");

  Reply foreign = api.Get("witness1", location);
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(foreign) == "report.no_audit_job");
  Reply unknown = api.Get("regulator", "/v1/reports/audit/jobs/0123456789abcdef");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(unknown) == "report.no_audit_job");
  BOOST_TEST(post("ph1").status == 403);
}

BOOST_AUTO_TEST_CASE(downloaded_bundle_verifies_offline) {
  ReportApi api;
  Reply r = api.Get("ph1", "/v1/bundles/pack?code=" + provenance::PercentEncode(kPack));
  BOOST_TEST_INFO(r.body.substr(0, 300));
  BOOST_REQUIRE(r.status == 200);
  BOOST_TEST(r.headers["Content-Type"] == "application/json");
  BOOST_TEST(r.headers["Content-Disposition"] ==
             "attachment; filename=\"pedigree-bundle-" + kGtin + "-S1.json\"");
  auto evidence = reports::ReadBundle(r.body);
  BOOST_REQUIRE_MESSAGE(evidence.has_value(), pedigree::testing::Why(evidence));
  BOOST_TEST(evidence->pack == kPack);
  // Verified with the log's key alone, as a party offline would.
  auto log = log::NoteVerifier::Parse(api.node_->ledger().VerifierKey()).value();
  reports::TrustAnchors anchors{log, api.authority_.public_key(), {}};
  JsonValue report = reports::VerifyPack(*evidence, anchors, 1'795'300'000);
  BOOST_TEST(report.find("verdict")->as_string() == "VERIFIED");
  Reply other = api.Get("wh1", "/v1/bundles/pack?code=" + provenance::PercentEncode(kPack));
  BOOST_TEST(other.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(other) == "pack.not_found");
}

BOOST_AUTO_TEST_CASE(concurrent_report_requests_all_succeed) {
  ReportApi api;
  // A writer keeps the log growing, so the reports prove against a moving newest checkpoint.
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop && i < 50; ++i) {
      auto index =
          api.node_->SubmitAs("mfg", JsonValue::Object()
                                         .set("kind", "commission")
                                         .set("gtin", kGtin)
                                         .set("lot", "LOT1")
                                         .set("location", kMfgGln)
                                         .set("serials", Strings({"W" + std::to_string(i)})));
      if (index) (void)api.node_->ledger().SignCheckpoint();
    }
  });
  std::vector<std::vector<int>> statuses(4);
  std::vector<std::string> verdicts(4);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      auto session = api.Session();
      const std::string org = t % 2 ? "ph1" : "regulator";
      const std::string token = api.token_.at(org);
      for (int i = 0; i < 6; ++i) {
        std::string target = i % 3 == 2
                                 ? "/v1/bundles/pack?code=" + provenance::PercentEncode(kPack)
                                 : ReportApi::PackTarget(kPack, i % 3 ? "html" : "json");
        Reply r =
            Exchange(*session, Send{"GET", target, "", {{"Authorization", "Bearer " + token}}});
        statuses[t].push_back(r.status);
        if (i == 0) verdicts[t] = ReportApi::Verdict(r);
      }
    });
  }
  for (auto& r : readers) r.join();
  stop = true;
  writer.join();
  for (size_t t = 0; t < 4; ++t) {
    BOOST_TEST_CONTEXT("thread " << t) {
      BOOST_TEST(statuses[t] == std::vector<int>(6, 200), boost::test_tools::per_element());
      BOOST_TEST(verdicts[t] == "VERIFIED");
    }
  }
}

BOOST_AUTO_TEST_CASE(trial_report_is_for_regulators_and_the_trials_own_sponsor_and_sites) {
  ReportApi api;
  api.Register("sp", "sponsor", "4000011", "4000011000002");
  api.Register("s1", "site", "4000012", "4000012000001");
  api.Register("s9", "site", "4000013", "4000013000000");
  for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"s9", "site"}}) {
    api.token_[org] = api.tokens_->Issue(org, {role}, "test").value();
  }
  TrialWorkflow trial(*api.node_, nullptr);
  TrialSigner sponsor{"sp", "Dr Ada Example", "approval"};
  auto registered = trial.Submit(
      sponsor, "trial.register", "T1",
      JsonValue::Object()
          .set("registryId", "NCT01234567")
          .set("title", "A trial")
          .set("sites", Strings({"s1"}))
          .set("arms", JsonValue::Array().push_back(
                           JsonValue::Object().set("code", "A").set("name", "Arm A"))));
  BOOST_REQUIRE_MESSAGE(registered.has_value(), pedigree::testing::Why(registered));
  auto sealed = trial.SealProtocol(sponsor, "T1", "protocol text", "1.0", {"Primary outcome"}, {});
  BOOST_REQUIRE_MESSAGE(sealed.has_value(), pedigree::testing::Why(sealed));

  for (const char* reader : {"regulator", "sp", "s1"}) {
    Reply r = api.Get(reader, "/v1/reports/trial/T1");
    BOOST_TEST_INFO(reader << ": " << r.body);
    BOOST_TEST(r.status == 200);
    BOOST_TEST(ReportApi::Verdict(r) == "VERIFIED");
    BOOST_TEST(ReportApi::Body(r).find("report")->as_string() == "trial");
  }
  Reply html = api.Get("regulator", "/v1/reports/trial/T1?format=html");
  BOOST_TEST(html.headers["Content-Type"] == "text/html; charset=utf-8");
  BOOST_TEST(html.body.find("Primary outcome") != std::string::npos);
  // A foreign site and an unknown trial get the same answer, naming the trial asked for.
  Reply foreign = api.Get("s9", "/v1/reports/trial/T1");
  Reply unknown = api.Get("s9", "/v1/reports/trial/T404");
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(foreign) == "trial.not_found");
  BOOST_TEST(unknown.body.replace(unknown.body.find("T404"), 4, "T1") == foreign.body);
  Reply missing = api.Get("regulator", "/v1/reports/trial/T404");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(ReportApi::ErrorCode(missing) == "trial.not_found");
  BOOST_TEST(api.Get("ph1", "/v1/reports/trial/T1").status == 403);  // no trial role
}

BOOST_AUTO_TEST_CASE(case_on_a_pallet_reads_the_same_in_pack_container_and_report_answers) {
  ReportApi api;
  const std::string box = "095060000000000015", pallet = "095060000000000022";
  const std::string s2 = "https://id.gs1.org/01/" + kGtin + "/21/S2";
  api.Submit("mfg", JsonValue::Object()
                        .set("kind", "aggregate")
                        .set("parent", box)
                        .set("children", Strings({s2})));
  api.Submit("mfg", JsonValue::Object()
                        .set("kind", "aggregate")
                        .set("parent", pallet)
                        .set("children", Strings({box})));
  api.Submit("mfg", JsonValue::Object()
                        .set("kind", "ship")
                        .set("epcs", Strings({pallet}))
                        .set("to", "wh1")
                        .set("toLocation", kWhGln)
                        .set("despatchAdvice", "DA-P"));
  api.Submit("wh1", JsonValue::Object()
                        .set("kind", "receive")
                        .set("from", "mfg")
                        .set("despatchAdvice", "DA-P")
                        .set("location", kWhGln));
  api.Submit("wh1", JsonValue::Object()
                        .set("kind", "disaggregate")
                        .set("parent", pallet)
                        .set("children", Strings({box})));

  // The pack: held by the wholesaler that received the pallet, still in its case.
  Reply pack = api.Get("wh1", "/v1/packs/" + kGtin + "/S2");
  BOOST_TEST_INFO(pack.body);
  BOOST_REQUIRE(pack.status == 200);
  BOOST_TEST(ReportApi::Body(pack).find("holder")->as_string() == "wh1");
  BOOST_TEST(ReportApi::Body(pack).find("parent")->as_string() == box);
  // batch, commission, into the case, the case onto the pallet, ship, receive, off the pallet.
  BOOST_TEST(ReportApi::Body(pack).find("events")->size() == 7u);

  // The case: its own state and history, for those who handled it.
  Reply c = api.Get("wh1", "/v1/containers/" + box);
  BOOST_TEST_INFO(c.body);
  BOOST_REQUIRE(c.status == 200);
  JsonValue container = ReportApi::Body(c);
  BOOST_TEST(container.find("holder")->as_string() == "wh1");
  BOOST_TEST(!container.find("parent"));
  BOOST_TEST(container.find("packs")->as_array()[0].as_string() == s2);
  BOOST_TEST(container.find("events")->size() == 5u);
  BOOST_TEST(api.Get("ph2", "/v1/containers/" + box).status == 404);
  Reply bad = api.Get("regulator", "/v1/containers/095060000000000010");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(ReportApi::ErrorCode(bad) == "gs1.check_digit");

  // The container report, from the bracketed form.
  Reply report =
      api.Get("wh1", "/v1/reports/container?code=" + provenance::PercentEncode("(00)" + box));
  BOOST_TEST_INFO(report.body);
  BOOST_REQUIRE(report.status == 200);
  BOOST_TEST(ReportApi::Verdict(report) == "VERIFIED");
  BOOST_TEST(ReportApi::Body(report).find("subject")->find("holder")->as_string() == "wh1");
  BOOST_TEST(api.Get("ph2", "/v1/reports/container?code=" + box).status == 404);
  Reply pack_report = api.Get("wh1", ReportApi::PackTarget(s2));
  BOOST_TEST(ReportApi::Verdict(pack_report) == "VERIFIED");
}

BOOST_AUTO_TEST_SUITE_END()
