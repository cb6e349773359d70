// The clinical-trial and kit HTTP API over a real socket on an ephemeral port: the whole
// sponsor/site workflow from registration to redaction with the sample study, every
// refusal as a client sees it, and the investigational-product kit journey.
#include <Poco/Net/StreamSocket.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/reports/receipt.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/trial_store.h"
#include "pedigree/usecases/trial_workflow.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;

namespace {

const std::string kTrial = "PDG-CT-2026-01";
const std::string kStudy = std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/trials/study/";
const std::string kSignature = "&signatureName=Dr%20Ada%20Site&signatureMeaning=authorship";
// DM keys are STUDYID|USUBJID (docs/trial-data.md).
const std::string kFirstKey = kTrial + "|" + kTrial + "-701-0001";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

JsonValue Signature(const std::string& name, const std::string& meaning = "authorship") {
  return JsonValue::Object().set("name", JsonValue(name)).set("meaning", JsonValue(meaning));
}

std::string SubjectRef(const std::string& subject) { return ToHex(Sha256("salt:" + subject)); }

std::string Kit(const std::string& serial) {
  return "https://id.gs1.org/01/09506000134352/21/" + serial;
}

// `csv` with the first occurrence of `from` on data line `line` (1 = the first record)
// replaced by `to`.
std::string EditLine(const std::string& csv, size_t line, const std::string& from,
                     const std::string& to) {
  size_t start = 0;
  for (size_t i = 0; i < line; ++i) start = csv.find('\n', start) + 1;
  size_t end = csv.find('\n', start);
  size_t at = csv.find(from, start);
  BOOST_REQUIRE(at != std::string::npos && at < end);
  return csv.substr(0, at) + to + csv.substr(at + from.size());
}

// The first data line of `csv`, with its line end.
std::string FirstRecord(const std::string& csv) {
  size_t start = csv.find('\n') + 1;
  return csv.substr(start, csv.find('\n', start) + 1 - start);
}

class TrialApi {
 public:
  explicit TrialApi(bool with_store = true, size_t max_dataset_bytes = 1 << 20,
                    size_t spool_threshold_bytes = 1 << 20) {
    node_ =
        SupplyNode::Create(tmp_ / "ledger", "example.org/trial-api-test", authority_.public_key())
            .value();
    node_->SetClock([this] { return now_; });
    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    for (auto [org, role] :
         {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"s2", "site"}, {"reg", "regulator"}}) {
      log::PrivateKey key = log::PrivateKey::Generate();
      BOOST_REQUIRE(node_->HoldKey(org, key).has_value());
      auto index = node_->RegisterOrg(authority_,
                                      {org, org, {role}, {}, {}, ToBase64(key.public_key().raw())});
      BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
      token_[org] = tokens_->Issue(org, {role}, "test").value();
    }
    if (with_store) store_ = SponsorStore::Open(tmp_ / "sponsor.db").value();
    Router router;
    ApiOptions options;
    options.sponsor_store = store_.get();
    options.max_dataset_bytes = max_dataset_bytes;
    BOOST_REQUIRE(AddApiRoutes(router, *node_, options).has_value());
    ServerConfig config;
    config.threads = 2;
    // Below the DM file's 33 kB: uploads pass only through their route's own limit.
    config.max_body_bytes = 16 * 1024;
    config.spool_dir = tmp_.path().string();
    config.spool_threshold_bytes = spool_threshold_bytes;
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
  }

  Reply Call(const std::string& org, const std::string& method, const std::string& target,
             const std::string& body = "", const std::string& type = "application/json",
             std::map<std::string, std::string> headers = {}) {
    if (!org.empty()) headers["Authorization"] = "Bearer " + token_[org];
    if (!body.empty()) headers["Content-Type"] = type;
    return Exchange(*session_, Send{method, target, body, headers});
  }
  Reply Post(const std::string& org, const std::string& target, const JsonValue& body) {
    return Call(org, "POST", target, pedigree::Canonicalize(body));
  }
  Reply Upload(const std::string& org, const std::string& target, const std::string& file,
               const std::string& type = "text/csv") {
    return Call(org, "POST", target, file, type);
  }
  static JsonValue Body(const Reply& r) { return pedigree::ParseJson(r.body).value(); }
  static std::string ErrorCode(const Reply& r) {
    auto b = pedigree::ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("code")->as_string();
  }
  static std::string ErrorField(const Reply& r) {
    JsonValue body = Body(r);
    const JsonValue* f = body.find("error")->find("field");
    return f ? f->as_string() : "";
  }

  Reply RegisterTrial() {
    auto arms = JsonValue::Array();
    for (auto [code, name] :
         {std::pair{"PBO", "Placebo"}, {"LOW", "Pedigrenol 10 mg"}, {"HIGH", "Pedigrenol 20 mg"}}) {
      arms.push_back(JsonValue::Object().set("code", JsonValue(code)).set("name", JsonValue(name)));
    }
    return Post("sp", "/v1/trials",
                JsonValue::Object()
                    .set("trialId", JsonValue(kTrial))
                    .set("registryId", JsonValue("2026-500123-41-00"))
                    .set("title", JsonValue("Pedigrenol in type 2 diabetes"))
                    .set("sites", Strings({"s1", "s2"}))
                    .set("arms", arms)
                    .set("signature", Signature("Dr Sam Sponsor", "responsibility")));
  }
  Reply SealProtocol() {
    auto outcomes = pedigree::ParseJson(ReadFile(kStudy + "outcomes.json")).value();
    return Post("sp", "/v1/trials/" + kTrial + "/protocol",
                JsonValue::Object()
                    .set("document", JsonValue(ReadFile(kStudy + "protocol.md")))
                    .set("version", JsonValue("1.0"))
                    .set("outcomes", outcomes)
                    .set("signature", Signature("Dr Sam Sponsor", "approval")));
  }
  Reply Enrol(const std::string& site, const std::string& subject) {
    return Post(site, "/v1/trials/" + kTrial + "/enrol",
                JsonValue::Object()
                    .set("subjectRef", JsonValue(SubjectRef(subject)))
                    .set("signature", Signature("Dr Ada Site")));
  }
  Reply Lock(const std::string& action, const std::string& domain = "DM",
             const std::string& reason = "", const std::string& approver = "") {
    auto body = JsonValue::Object()
                    .set("domain", JsonValue(domain))
                    .set("action", JsonValue(action))
                    .set("signature", Signature("Dr Sam Sponsor", "approval"));
    if (!reason.empty()) body.set("reason", JsonValue(reason));
    if (!approver.empty()) body.set("approver", JsonValue(approver));
    return Post("sp", "/v1/trials/" + kTrial + "/locks", body);
  }
  Reply Seal(const std::string& org = "sp") {
    return Post(org, "/v1/trials/" + kTrial + "/seals?domain=DM",
                JsonValue::Object().set("signature", Signature("Dr Sam Sponsor", "approval")));
  }
  Reply Submit(const std::string& file, const std::string& extra = "") {
    return Upload("s1", "/v1/trials/" + kTrial + "/submissions?domain=DM" + kSignature + extra,
                  file);
  }
  // Registered trial with its protocol and one subject enrolled at s1.
  void TrialUnderway() {
    BOOST_REQUIRE_EQUAL(RegisterTrial().status, 201);
    BOOST_REQUIRE_EQUAL(SealProtocol().status, 201);
    BOOST_REQUIRE_EQUAL(Enrol("s1", "001").status, 201);
  }
  uint64_t LedgerSize() { return node_->ledger().size(); }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = 1'795'300'000;  // 2026-11-22
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<SponsorStore> store_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_trials)

BOOST_AUTO_TEST_CASE(sample_study_goes_from_registration_to_seal_disclosure_and_redaction) {
  TrialApi api;
  api.TrialUnderway();
  const std::string dm = ReadFile(kStudy + "dm.csv");

  Reply submitted = api.Submit(dm);
  BOOST_REQUIRE_MESSAGE(submitted.status == 201, submitted.body);
  BOOST_TEST(TrialApi::Body(submitted).find("submitted")->as_int() == 240);
  BOOST_TEST(TrialApi::Body(submitted).find("indices")->size() == 1u);

  std::string first_leaf;
  const std::vector<StoredRecord> records = api.store_->CurrentRecords(kTrial, "DM").value();
  for (const StoredRecord& r : records) {
    if (r.key == kFirstKey) first_leaf = ToHex(r.leaf);
  }
  BOOST_REQUIRE(!first_leaf.empty());

  BOOST_REQUIRE_EQUAL(api.Lock("soft_lock").status, 201);
  // A query answered during the soft lock corrects one age, with its reason.
  const std::string corrected = EditLine(dm, 1, ",63,", ",64,");
  Reply correction =
      api.Submit(corrected, "&reason=" + provenance::PercentEncode("query Q-17: age from source"));
  BOOST_REQUIRE_MESSAGE(correction.status == 201, correction.body);
  BOOST_TEST(TrialApi::Body(correction).find("replaced")->as_int() == 1);
  BOOST_TEST(TrialApi::Body(correction).find("unchanged")->as_int() == 239);

  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  Reply sealed = api.Seal();
  BOOST_REQUIRE_MESSAGE(sealed.status == 201, sealed.body);
  BOOST_TEST(TrialApi::Body(sealed).find("recordCount")->as_int() == 240);
  BOOST_TEST(TrialApi::Body(sealed).find("algorithm")->as_string() == "pedigree-trial-seal/v1");

  // A regulator reads record contents only under a grant: without one the read is refused
  // and the refusal recorded.
  const std::string verify = "/v1/trials/" + kTrial + "/verify?domain=DM";
  Reply ungranted = api.Upload("reg", verify, corrected);
  BOOST_TEST(ungranted.status == 403);
  BOOST_TEST(TrialApi::ErrorCode(ungranted) == "trial.no_grant");
  const std::string grants = "/v1/trials/" + kTrial + "/grants";
  auto grant = JsonValue::Object()
                   .set("grantId", JsonValue("REG-1"))
                   .set("grantee", JsonValue("reg"))
                   .set("purpose", JsonValue("regulator"))
                   .set("domains", JsonValue::Strings({"DM"}))
                   .set("start", JsonValue("2026-11-01T00:00:00Z"))
                   .set("expiry", JsonValue("2026-11-23T00:00:00Z"))
                   .set("signature", Signature("Dr Sam Sponsor", "approval"));
  Reply granted = api.Post("sp", grants, grant);
  BOOST_REQUIRE_MESSAGE(granted.status == 201, granted.body);
  BOOST_TEST(TrialApi::Body(granted).find("kind")->as_string() == "trial.grant");

  // The corrected file verifies, also with CRLF line ends; one changed cell is named.
  Reply same = api.Upload("reg", verify, corrected);
  BOOST_REQUIRE_MESSAGE(same.status == 200, same.body);
  BOOST_TEST(TrialApi::Body(same).find("identical")->as_bool());
  BOOST_TEST(TrialApi::Body(same).find("sealedCount")->as_int() == 240);
  std::string crlf;
  for (char c : corrected) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  BOOST_TEST(TrialApi::Body(api.Upload("sp", verify, crlf)).find("identical")->as_bool());

  Reply edited = api.Upload("reg", verify, EditLine(corrected, 1, ",M,", ",F,"));
  BOOST_REQUIRE_EQUAL(edited.status, 200);
  JsonValue diff = TrialApi::Body(edited);
  BOOST_TEST(!diff.find("identical")->as_bool());
  BOOST_REQUIRE_EQUAL(diff.find("changed")->size(), 1u);
  const JsonValue& change = diff.find("changed")->as_array()[0];
  BOOST_TEST(change.find("key")->as_string() == kFirstKey);
  BOOST_TEST(change.find("line")->as_int() == 2);
  BOOST_REQUIRE_EQUAL(change.find("columns")->size(), 1u);
  const JsonValue& cell = change.find("columns")->as_array()[0];
  BOOST_TEST(cell.find("column")->as_string() == "SEX");
  BOOST_TEST(cell.find("sealed")->as_string() == "M");
  BOOST_TEST(cell.find("candidate")->as_string() == "F");
  BOOST_TEST(diff.find("added")->size() == 0u);
  BOOST_TEST(diff.find("deleted")->size() == 0u);

  // Byte-exact mode names both file hashes.
  const std::string recorded = ToHex(Sha256(corrected));
  JsonValue exact = TrialApi::Body(api.Upload("reg", verify + "&byteExact=" + recorded, crlf));
  BOOST_TEST(exact.find("recordsIdentical")->as_bool());
  BOOST_TEST(!exact.find("identical")->as_bool());
  BOOST_TEST(exact.find("fileHash")->find("recorded")->as_string() == recorded);
  BOOST_TEST(!exact.find("fileHash")->find("matches")->as_bool());

  // One record disclosed, checked by anyone with only this log's key.
  Reply disclosure = api.Call("reg", "GET",
                              "/v1/trials/" + kTrial + "/disclosures?domain=DM&key=" +
                                  provenance::PercentEncode(kFirstKey));
  BOOST_REQUIRE_MESSAGE(disclosure.status == 200, disclosure.body);
  Reply checked = api.Call("", "POST", "/v1/disclosures/verify", disclosure.body);
  BOOST_REQUIRE_MESSAGE(checked.status == 200, checked.body);
  BOOST_TEST(TrialApi::Body(checked).find("verified")->as_bool());
  BOOST_TEST(TrialApi::Body(checked).find("key")->as_string() == kFirstKey);
  BOOST_TEST(TrialApi::Body(checked).find("checkpoint")->find("size")->as_int() > 0);
  JsonValue tampered = TrialApi::Body(disclosure);
  std::string salt = tampered.find("salt")->as_string();
  salt[0] = salt[0] == '0' ? '1' : '0';
  tampered.set("salt", JsonValue(salt));
  Reply flipped = api.Call("", "POST", "/v1/disclosures/verify", pedigree::Canonicalize(tampered));
  BOOST_TEST(flipped.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(flipped) == "disclosure.leaf_mismatch");

  // Every read by the regulator is on the ledger, with the leaves whose contents it got;
  // the sponsor's own reads are not. The grant lists its reads.
  {
    auto view = provenance::TrialView::Open(api.node_->ledger().db_path()).value();
    auto accesses = view->Accesses(kTrial).value();
    BOOST_REQUIRE_EQUAL(accesses.size(), 5u);
    BOOST_TEST(accesses[0].outcome == "refused");
    BOOST_TEST(accesses[0].refusal == "trial.no_grant");
    const std::string leaf = TrialApi::Body(disclosure).find("leaf")->as_string();
    const std::vector<size_t> leaf_counts = {0, 1, 0, 1};
    for (size_t i = 1; i < accesses.size(); ++i) {
      BOOST_TEST_CONTEXT("access " << i) {
        BOOST_TEST(accesses[i].reader == "reg");
        BOOST_TEST(accesses[i].grant_id == "REG-1");
        BOOST_TEST(accesses[i].outcome == "granted");
        BOOST_REQUIRE_EQUAL(accesses[i].leaves.size(), leaf_counts[i - 1]);
        if (!accesses[i].leaves.empty()) BOOST_TEST(accesses[i].leaves[0] == leaf);
      }
    }
  }
  Reply listed = api.Call("reg", "GET", grants);
  BOOST_REQUIRE_MESSAGE(listed.status == 200, listed.body);
  const JsonValue listed_body = TrialApi::Body(listed);
  const JsonValue& listed_grant = listed_body.find("grants")->as_array().at(0);
  BOOST_TEST(listed_grant.find("accesses")->as_int() == 4);
  BOOST_TEST(listed_grant.find("validNow")->as_bool());
  BOOST_TEST(listed_grant.find("subjectCount")->as_int() == 0);
  // A site without a grant sees no grants at all.
  BOOST_TEST(api.Call("s1", "GET", grants).status == 404);

  // Revoked, the grant covers nothing more; the refusal is recorded.
  Reply revoked = api.Post("sp", grants + "/REG-1/revoke",
                           JsonValue::Object()
                               .set("reason", JsonValue("inspection closed"))
                               .set("signature", Signature("Dr Sam Sponsor", "approval")));
  BOOST_REQUIRE_MESSAGE(revoked.status == 201, revoked.body);
  Reply again =
      api.Post("sp", grants + "/REG-1/revoke",
               JsonValue::Object().set("signature", Signature("Dr Sam Sponsor", "approval")));
  BOOST_TEST(again.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(again) == "trial.grant_revoked");
  Reply after = api.Call("reg", "GET",
                         "/v1/trials/" + kTrial +
                             "/disclosures?domain=DM&key=" + provenance::PercentEncode(kFirstKey));
  BOOST_TEST(after.status == 403);
  BOOST_TEST(TrialApi::ErrorCode(after) == "trial.no_grant");
  {
    auto view = provenance::TrialView::Open(api.node_->ledger().db_path()).value();
    auto accesses = view->Accesses(kTrial).value();
    BOOST_REQUIRE_EQUAL(accesses.size(), 6u);
    BOOST_TEST(accesses.back().outcome == "refused");
    BOOST_TEST(accesses.back().grant_id.empty());
  }
  // The same record over the API, newest first, in pages: for the sponsor and regulators.
  {
    const std::string record = "/v1/trials/" + kTrial + "/accesses";
    Reply page = api.Call("sp", "GET", record + "?limit=4");
    BOOST_REQUIRE_MESSAGE(page.status == 200, page.body);
    JsonValue first = TrialApi::Body(page);
    const JsonArray& newest = first.find("accesses")->as_array();
    BOOST_REQUIRE_EQUAL(newest.size(), 4u);
    BOOST_TEST(newest[0].find("outcome")->as_string() == "refused");
    BOOST_TEST(newest[0].find("refusal")->as_string() == "trial.no_grant");
    BOOST_TEST(newest[1].find("reader")->as_string() == "reg");
    BOOST_TEST(newest[1].find("grantId")->as_string() == "REG-1");
    BOOST_TEST(newest[1].find("domain")->as_string() == "DM");
    BOOST_TEST(newest[1].find("leafCount")->as_int() == 1);
    BOOST_TEST(newest[0].find("index")->as_int() > newest[1].find("index")->as_int());
    BOOST_REQUIRE(first.find("next")->is_int());
    Reply rest = api.Call(
        "reg", "GET", record + "?limit=4&before=" + std::to_string(first.find("next")->as_int()));
    BOOST_REQUIRE_MESSAGE(rest.status == 200, rest.body);
    JsonValue second = TrialApi::Body(rest);
    BOOST_REQUIRE_EQUAL(second.find("accesses")->size(), 2u);
    BOOST_TEST(second.find("accesses")->as_array()[1].find("refusal")->as_string() ==
               "trial.no_grant");
    BOOST_TEST(second.find("next")->is_null());
    for (auto [query, field] : {std::pair{"limit=0", "limit"},
                                {"limit=501", "limit"},
                                {"limit=x", "limit"},
                                {"before=-1", "before"}}) {
      Reply refused = api.Call("sp", "GET", record + "?" + query);
      BOOST_TEST_INFO(query);
      BOOST_TEST(refused.status == 400);
      BOOST_TEST(TrialApi::ErrorCode(refused) == "request.bad_parameter");
      BOOST_TEST(TrialApi::ErrorField(refused) == field);
    }
    // A site reads its own subjects' history, not the sponsor's access record.
    BOOST_TEST(api.Call("s1", "GET", record).status == 403);
    BOOST_TEST(api.Call("", "GET", record).status == 401);
  }

  // The publication dropped a sealed outcome and added another.
  Reply outcomes = api.Call("reg", "POST", "/v1/trials/" + kTrial + "/outcome-check",
                            ReadFile(kStudy + "reported-outcomes.json"));
  BOOST_REQUIRE_MESSAGE(outcomes.status == 200, outcomes.body);
  JsonValue o = TrialApi::Body(outcomes);
  BOOST_TEST(!o.find("consistent")->as_bool());
  BOOST_TEST(pedigree::Canonicalize(*o.find("sealedNotReported")) ==
             R"(["Proportion of subjects with HbA1c below 7.0% at week 24"])");
  BOOST_TEST(pedigree::Canonicalize(*o.find("reportedNotSealed")) ==
             R"(["Change from baseline in body weight at week 12"])");

  // Unlock (reason and a second person approving), then a justified redaction.
  BOOST_TEST(api.Lock("unlock", "DM", "late AE reconciliation", "Dr Ben Approver").status == 201);
  Reply redacted = api.Post("sp", "/v1/trials/" + kTrial + "/redactions",
                            JsonValue::Object()
                                .set("domain", JsonValue("DM"))
                                .set("key", JsonValue(kFirstKey))
                                .set("reason", JsonValue("subject name typed into a comment"))
                                .set("signature", Signature("Dr Sam Sponsor", "responsibility")));
  BOOST_REQUIRE_MESSAGE(redacted.status == 201, redacted.body);

  // The version before the correction is redacted by its leaf; twice is refused.
  auto redact_first = JsonValue::Object()
                          .set("domain", JsonValue("DM"))
                          .set("leaf", JsonValue(first_leaf))
                          .set("reason", JsonValue("the same comment, before the age query"))
                          .set("signature", Signature("Dr Sam Sponsor", "responsibility"));
  Reply old_version = api.Post("sp", "/v1/trials/" + kTrial + "/redactions", redact_first);
  BOOST_REQUIRE_MESSAGE(old_version.status == 201, old_version.body);
  Reply twice = api.Post("sp", "/v1/trials/" + kTrial + "/redactions", redact_first);
  BOOST_TEST(TrialApi::ErrorCode(twice) == "trial.already_redacted");

  Reply trial = api.Call("s2", "GET", "/v1/trials/" + kTrial);
  BOOST_REQUIRE_MESSAGE(trial.status == 200, trial.body);
  JsonValue t = TrialApi::Body(trial);
  BOOST_TEST(t.find("sponsor")->as_string() == "sp");
  BOOST_TEST(t.find("protocols")->size() == 1u);
  BOOST_TEST(t.find("protocols")->as_array()[0].find("isSeal")->as_bool());
  BOOST_TEST(t.find("enrolment")->find("count")->as_int() == 1);
  BOOST_REQUIRE_EQUAL(t.find("domains")->size(), 1u);
  const JsonValue& domain = t.find("domains")->as_array()[0];
  BOOST_TEST(domain.find("domain")->as_string() == "DM");
  BOOST_TEST(domain.find("lock")->as_string() == "open");
  BOOST_TEST(domain.find("leafCount")->as_int() == 240);
  BOOST_TEST(domain.find("locks")->size() == 3u);
  BOOST_TEST(domain.find("seals")->size() == 1u);
  BOOST_TEST(domain.find("redactions")->size() == 2u);
  // The redacted record can no longer be disclosed.
  Reply gone = api.Call("sp", "GET",
                        "/v1/trials/" + kTrial +
                            "/disclosures?domain=DM&key=" + provenance::PercentEncode(kFirstKey));
  BOOST_TEST(gone.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(gone) == "trial.redacted");
}

// A grant is checked at the node's time of each read: bad grants are refused with their
// codes and write nothing; inside the period the grantee reads, after the expiry the read
// is refused and the refusal recorded.
BOOST_AUTO_TEST_CASE(grant_refusals_and_a_read_after_expiry) {
  TrialApi api;
  api.TrialUnderway();
  BOOST_REQUIRE_EQUAL(api.Submit(ReadFile(kStudy + "dm.csv")).status, 201);
  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  BOOST_REQUIRE_EQUAL(api.Seal().status, 201);
  const std::string grants = "/v1/trials/" + kTrial + "/grants";
  auto grant = [](const std::string& grantee, const std::string& expiry) {
    return JsonValue::Object()
        .set("grantId", JsonValue("REG-1"))
        .set("grantee", JsonValue(grantee))
        .set("purpose", JsonValue("regulator"))
        .set("domains", JsonValue::Strings({"DM"}))
        .set("start", JsonValue("2026-11-01T00:00:00Z"))
        .set("expiry", JsonValue(expiry))
        .set("signature", Signature("Dr Sam Sponsor", "approval"));
  };
  const uint64_t before = api.LedgerSize();
  struct Case {
    JsonValue body;
    std::string code, field;
  };
  for (const Case& k :
       {Case{grant("nobody", "2026-11-23T00:00:00Z"), "trial.unknown_grantee", "grantee"},
        Case{grant("reg", "2026-10-01T00:00:00Z"), "trial.bad_grant", "expiry"}}) {
    Reply r = api.Post("sp", grants, k.body);
    BOOST_TEST_CONTEXT(k.code) {
      BOOST_TEST(r.status == 422);
      BOOST_TEST(TrialApi::ErrorCode(r) == k.code);
      BOOST_TEST(TrialApi::ErrorField(r) == k.field);
    }
  }
  BOOST_TEST(api.Post("s1", grants, grant("reg", "2026-11-23T00:00:00Z")).status == 403);
  BOOST_TEST(api.LedgerSize() == before);
  BOOST_REQUIRE_EQUAL(api.Post("sp", grants, grant("reg", "2026-11-23T00:00:00Z")).status, 201);
  Reply unknown =
      api.Post("sp", grants + "/REG-9/revoke",
               JsonValue::Object().set("signature", Signature("Dr Sam Sponsor", "approval")));
  BOOST_TEST(TrialApi::ErrorCode(unknown) == "trial.unknown_grant");

  const std::string disclose =
      "/v1/trials/" + kTrial + "/disclosures?domain=DM&key=" + provenance::PercentEncode(kFirstKey);
  BOOST_REQUIRE_EQUAL(api.Call("reg", "GET", disclose).status, 200);
  api.now_ = 1'795'395'600;  // 2026-11-23T01:00:00Z, after the expiry
  Reply expired = api.Call("reg", "GET", disclose);
  BOOST_TEST(expired.status == 403);
  BOOST_TEST(TrialApi::ErrorCode(expired) == "trial.no_grant");
  auto view = provenance::TrialView::Open(api.node_->ledger().db_path()).value();
  auto accesses = view->Accesses(kTrial).value();
  BOOST_REQUIRE_EQUAL(accesses.size(), 2u);
  BOOST_TEST(accesses[0].outcome == "granted");
  BOOST_TEST(accesses[0].leaves.size() == 1u);
  BOOST_TEST(accesses[1].outcome == "refused");
  JsonValue listed = TrialApi::Body(api.Call("sp", "GET", grants));
  BOOST_TEST(!listed.find("grants")->as_array().at(0).find("validNow")->as_bool());
}

BOOST_AUTO_TEST_CASE(refused_trial_requests_name_the_rule_and_write_nothing) {
  TrialApi api;
  BOOST_REQUIRE_EQUAL(api.RegisterTrial().status, 201);
  const std::string dm = ReadFile(kStudy + "dm.csv");

  Reply early = api.Enrol("s1", "001");
  BOOST_TEST(early.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(early) == "alert.enrolment_before_protocol");
  BOOST_REQUIRE_EQUAL(api.SealProtocol().status, 201);

  struct Case {
    std::string what;
    std::function<Reply()> call;
    int status;
    std::string code;
  };
  const std::string submissions = "/v1/trials/" + kTrial + "/submissions?domain=DM";
  const std::vector<Case> before_data = {
      {"no signature manifestation",
       [&] {
         return api.Post("s1", "/v1/trials/" + kTrial + "/enrol",
                         JsonValue::Object().set("subjectRef", JsonValue(SubjectRef("002"))));
       },
       400, "request.missing_field"},
      {"upload without signature parameters", [&] { return api.Upload("s1", submissions, dm); },
       400, "request.missing_parameter"},
      {"site sealing", [&] { return api.Seal("s1"); }, 403, "auth.forbidden_role"},
      {"wrong study id", [&] { return api.Submit(EditLine(dm, 3, kTrial + ",", "PDG-OTHER-01,")); },
       400, "trial.wrong_study"},
      {"empty dataset", [&] { return api.Submit(dm.substr(0, dm.find('\n') + 1)); }, 400,
       "trial.empty_dataset"},
      {"duplicate key", [&] { return api.Submit(dm + FirstRecord(dm)); }, 400,
       "trial.duplicate_key"},
      {"unknown media type",
       [&] { return api.Upload("s1", submissions + kSignature, dm, "text/plain"); }, 415,
       "request.unsupported_media_type"},
  };
  for (const Case& c : before_data) {
    BOOST_TEST_CONTEXT(c.what) {
      uint64_t size = api.LedgerSize();
      Reply r = c.call();
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(TrialApi::ErrorCode(r) == c.code);
      BOOST_TEST(api.LedgerSize() == size);
    }
  }
  Reply unsigned_enrol =
      api.Post("s1", "/v1/trials/" + kTrial + "/enrol",
               JsonValue::Object().set("subjectRef", JsonValue(SubjectRef("2"))));
  BOOST_TEST(TrialApi::ErrorField(unsigned_enrol) == "signature");

  // A Latin-1 byte (É as 0xC9) is located in the file.
  Reply latin1 = api.Submit(EditLine(dm, 2, "YEARS",
                                     "ANN\xC9"
                                     "ES"));
  BOOST_TEST(latin1.status == 400);
  BOOST_TEST(TrialApi::ErrorCode(latin1) == "trial.invalid_utf8");
  JsonValue where = *TrialApi::Body(latin1).find("error");
  BOOST_TEST(where.find("line")->as_int() == 3);
  BOOST_TEST(where.find("column")->as_int() > 1);

  BOOST_REQUIRE_EQUAL(api.Submit(dm).status, 201);
  const std::string edited = EditLine(dm, 1, ",63,", ",64,");
  std::vector<Case> with_data = {
      {"edit without reason", [&] { return api.Submit(edited); }, 422, "trial.reason_required"},
      {"seal while open", [&] { return api.Seal(); }, 422, "trial.not_locked"},
  };
  for (const Case& c : with_data) {
    BOOST_TEST_CONTEXT(c.what) {
      uint64_t size = api.LedgerSize();
      Reply r = c.call();
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(TrialApi::ErrorCode(r) == c.code);
      BOOST_TEST(api.LedgerSize() == size);
    }
  }

  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  BOOST_REQUIRE_EQUAL(api.Seal().status, 201);
  std::vector<Case> after_seal = {
      {"submission after hard lock", [&] { return api.Submit(edited, "&reason=late%20query"); },
       422, "trial.locked"},
      {"seal twice", [&] { return api.Seal(); }, 422, "trial.already_sealed"},
      {"unlock without approver", [&] { return api.Lock("unlock", "DM", "why"); }, 422,
       "trial.approver_required"},
      {"redaction without reason",
       [&] {
         return api.Post("sp", "/v1/trials/" + kTrial + "/redactions",
                         JsonValue::Object()
                             .set("domain", JsonValue("DM"))
                             .set("key", JsonValue(kFirstKey))
                             .set("signature", Signature("Dr Sam Sponsor")));
       },
       422, "trial.reason_required"},
  };
  for (const Case& c : after_seal) {
    BOOST_TEST_CONTEXT(c.what) {
      uint64_t size = api.LedgerSize();
      Reply r = c.call();
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(TrialApi::ErrorCode(r) == c.code);
      BOOST_TEST(api.LedgerSize() == size);
    }
  }
  // The store kept the sealed records: the original file still verifies.
  Reply verified = api.Upload("sp", "/v1/trials/" + kTrial + "/verify?domain=DM", dm);
  BOOST_TEST(TrialApi::Body(verified).find("identical")->as_bool());
}

BOOST_AUTO_TEST_CASE(replayed_trial_command_with_idempotency_key_appends_nothing) {
  TrialApi api;
  api.TrialUnderway();
  auto lock = JsonValue::Object()
                  .set("domain", JsonValue("AE"))
                  .set("action", JsonValue("soft_lock"))
                  .set("signature", Signature("Dr Sam Sponsor", "approval"));
  const std::string target = "/v1/trials/" + kTrial + "/locks";
  Reply first = api.Call("sp", "POST", target, pedigree::Canonicalize(lock), "application/json",
                         {{"Idempotency-Key", "lock-ae-1"}});
  BOOST_REQUIRE_EQUAL(first.status, 201);
  uint64_t size = api.LedgerSize();
  Reply replay = api.Call("sp", "POST", target, pedigree::Canonicalize(lock), "application/json",
                          {{"Idempotency-Key", "lock-ae-1"}});
  BOOST_TEST(replay.status == 201);
  BOOST_TEST(TrialApi::Body(replay).find("index")->as_int() ==
             TrialApi::Body(first).find("index")->as_int());
  BOOST_TEST(api.LedgerSize() == size);
}

BOOST_AUTO_TEST_CASE(dataset_upload_has_its_own_body_limit) {
  TrialApi api(/*with_store=*/true, /*max_dataset_bytes=*/40 * 1024);
  api.TrialUnderway();
  // 33 kB passes, over the server's 16 kB limit for other bodies.
  BOOST_TEST(api.Submit(ReadFile(kStudy + "dm.csv")).status == 201);
  // A declared 41 kB is refused before any of it is sent (sending it into a closing
  // connection would be reset).
  Poco::Net::HTTPRequest request(
      "POST", "/v1/trials/" + kTrial + "/submissions?domain=DM" + kSignature, "HTTP/1.1");
  request.set("Authorization", "Bearer " + api.token_["s1"]);
  request.setContentType("text/csv");
  request.setContentLength(41 * 1024);
  api.session_->sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::string body;
  Poco::StreamCopier::copyToString(api.session_->receiveResponse(response), body);
  BOOST_TEST(static_cast<int>(response.getStatus()) == 413);
  BOOST_TEST(body.find("request.too_large") != std::string::npos);
}

// An upload past the spool threshold is read from its unlinked file: the same answers as
// from memory, byteExact included (it hashes the spooled bytes).
BOOST_AUTO_TEST_CASE(a_spooled_upload_submits_and_verifies_as_one_held_in_memory) {
  TrialApi api(/*with_store=*/true, /*max_dataset_bytes=*/1 << 20, /*spool_threshold_bytes=*/1024);
  api.TrialUnderway();
  const std::string dm = ReadFile(kStudy + "dm.csv");
  Reply submitted = api.Submit(dm);
  BOOST_REQUIRE_MESSAGE(submitted.status == 201, submitted.body);
  BOOST_TEST(TrialApi::Body(submitted).find("submitted")->as_int() == 240);
  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  BOOST_REQUIRE_EQUAL(api.Seal().status, 201);
  const std::string verify = "/v1/trials/" + kTrial + "/verify?domain=DM";
  Reply same = api.Upload("sp", verify, dm);
  BOOST_REQUIRE_MESSAGE(same.status == 200, same.body);
  BOOST_TEST(TrialApi::Body(same).find("identical")->as_bool());
  Reply edited = api.Upload("sp", verify, EditLine(dm, 1, ",M,", ",F,"));
  BOOST_REQUIRE_EQUAL(edited.status, 200);
  BOOST_TEST(TrialApi::Body(edited).find("changed")->size() == 1u);
  // A parse error in a spooled file is the one the parser gives from memory.
  const std::string bad = dm + kTrial + ",\"unterminated\n";
  scanner::TrialParseOptions options;
  options.domain = "DM";
  options.expected_study_id = kTrial;
  auto local = scanner::ParseCsv(bad, options);
  BOOST_REQUIRE(!local);
  Reply broken = api.Upload("sp", verify, bad);
  BOOST_TEST(broken.status == 400);
  const JsonValue error = *TrialApi::Body(broken).find("error");
  BOOST_TEST(error.find("code")->as_string() == local.error().code());
  BOOST_TEST(error.find("line")->as_int() == static_cast<int64_t>(*local.error().location().line));
  // Nothing named was left in the node's directory.
  for (const auto& e : std::filesystem::directory_iterator(api.tmp_.path())) {
    BOOST_TEST(e.path().filename().string().find("pedigree-body") == std::string::npos);
  }
}

// An upload announced with Expect: 100-continue and refused for a rule that needs no file:
// the answer, and no 100 Continue, before a byte of the 200 MiB is sent.
std::string RefusedBeforeTheBody(TrialApi& api, const std::string& org, const std::string& target) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", api.server_->port()));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  const std::string head = "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           api.token_[org] +
                           "\r\nContent-Type: text/csv\r\nContent-Length: 209715200\r\n"
                           "Expect: 100-continue\r\n\r\n";
  socket.sendBytes(head.data(), static_cast<int>(head.size()));
  std::string answer;
  std::array<char, 4096> buf;
  try {
    for (int n; (n = socket.receiveBytes(buf.data(), static_cast<int>(buf.size()))) > 0;) {
      answer.append(buf.data(), static_cast<size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  BOOST_TEST(answer.find("100 Continue") == std::string::npos, answer);
  return answer;
}

std::string CodeIn(const std::string& answer) {
  const size_t body = answer.find("\r\n\r\n");
  if (body == std::string::npos) return "";
  auto parsed = pedigree::ParseJson(answer.substr(body + 4));
  if (!parsed || !parsed->find("error")) return "";
  return parsed->find("error")->find("code")->as_string();
}

BOOST_AUTO_TEST_CASE(uploads_refused_by_the_trial_rules_are_answered_before_the_file_is_read) {
  TrialApi api(/*with_store=*/true, /*max_dataset_bytes=*/256u << 20);
  api.TrialUnderway();
  BOOST_REQUIRE_EQUAL(api.Submit(ReadFile(kStudy + "dm.csv")).status, 201);
  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  const std::string submissions = "/v1/trials/" + kTrial + "/submissions?domain=DM" + kSignature;
  const std::string verify = "/v1/trials/" + kTrial + "/verify?domain=DM";

  // No such trial, for a site as for anyone.
  const std::string unknown =
      RefusedBeforeTheBody(api, "s1", "/v1/trials/NO-SUCH/submissions?domain=DM" + kSignature);
  BOOST_TEST(unknown.starts_with("HTTP/1.1 404"), unknown);
  BOOST_TEST(CodeIn(unknown) == "trial.not_found");
  // A hard-locked domain takes no submission.
  const std::string locked = RefusedBeforeTheBody(api, "s1", submissions);
  BOOST_TEST(locked.starts_with("HTTP/1.1 422"), locked);
  BOOST_TEST(CodeIn(locked) == "trial.locked");
  // A submission without its signature's manifestation.
  const std::string unsigned_upload =
      RefusedBeforeTheBody(api, "s1", "/v1/trials/" + kTrial + "/submissions?domain=DM");
  BOOST_TEST(unsigned_upload.starts_with("HTTP/1.1 400"), unsigned_upload);
  BOOST_TEST(CodeIn(unsigned_upload) == "request.missing_parameter");
  // A site is no party to verification; nothing sealed yet for the sponsor.
  const std::string site = RefusedBeforeTheBody(api, "s1", verify);
  BOOST_TEST(CodeIn(site) == "trial.not_found");
  const std::string unsealed = RefusedBeforeTheBody(api, "sp", verify);
  BOOST_TEST(unsealed.starts_with("HTTP/1.1 422"), unsealed);
  BOOST_TEST(CodeIn(unsealed) == "trial.not_sealed");
  // A regulator without a grant: 403, and the refusal on the ledger as for a read.
  BOOST_REQUIRE_EQUAL(api.Seal().status, 201);
  const std::string ungranted = RefusedBeforeTheBody(api, "reg", verify);
  BOOST_TEST(ungranted.starts_with("HTTP/1.1 403"), ungranted);
  BOOST_TEST(CodeIn(ungranted) == "trial.no_grant");
  auto view = provenance::TrialView::Open(api.node_->ledger().db_path()).value();
  auto accesses = view->Accesses(kTrial).value();
  BOOST_REQUIRE_EQUAL(accesses.size(), 1u);
  BOOST_TEST(accesses[0].outcome == "refused");
}

// `count` DM records made from the sample's first, with subjects S00000, S00001, ...
scanner::Dataset ManySubjects(size_t count) {
  scanner::TrialParseOptions options;
  options.expected_study_id = kTrial;
  scanner::Dataset dm = scanner::ParseCsv(ReadFile(kStudy + "dm.csv"), options).value();
  size_t usubjid = 0;
  while (dm.columns[usubjid].name != "USUBJID") ++usubjid;
  scanner::Record first = dm.records[0];
  dm.records.clear();
  for (size_t i = 0; i < count; ++i) {
    scanner::Record r = first;
    r.values[usubjid].text = "S" + std::to_string(100000 + i).substr(1);
    r.line = i + 2;
    dm.records.push_back(std::move(r));
  }
  return dm;
}

BOOST_AUTO_TEST_CASE(large_dataset_goes_in_chunks_and_a_key_repeated_across_chunks_is_refused) {
  TrialApi api;
  api.TrialUnderway();
  TrialWorkflow workflow(*api.node_, api.store_.get());
  const TrialSigner site{"s1", "Dr Ada Site", "authorship"};
  // Record 10,001 repeats record 1's key with another age: with a reason, chunk 2 would
  // have replaced chunk 1's record.
  scanner::Dataset repeated = ManySubjects(10'001);
  repeated.records.back().values = repeated.records.front().values;
  repeated.records.back().values[7].text = "99";
  uint64_t size = api.LedgerSize();
  auto refused = workflow.SubmitDataset(site, kTrial, repeated, "reason");
  BOOST_TEST(pedigree::services::testing::CodeOf(refused) == "trial.duplicate_key");
  BOOST_TEST(api.LedgerSize() == size);

  auto chunked = workflow.SubmitDataset(site, kTrial, ManySubjects(10'001));
  BOOST_REQUIRE_MESSAGE(chunked.has_value(), pedigree::testing::Why(chunked));
  BOOST_TEST(chunked->indices.size() == 2u);
  BOOST_TEST(chunked->submitted == 10'001u);
  Reply trial = api.Call("sp", "GET", "/v1/trials/" + kTrial);
  BOOST_TEST(TrialApi::Body(trial).find("domains")->as_array()[0].find("leafCount")->as_int() ==
             10'001);
}

BOOST_AUTO_TEST_CASE(node_without_sponsor_store_says_so) {
  TrialApi api(/*with_store=*/false);
  api.TrialUnderway();
  Reply r = api.Submit(ReadFile(kStudy + "dm.csv"));
  BOOST_TEST(r.status == 409);
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.no_store");
}

BOOST_AUTO_TEST_CASE(kit_is_received_before_dispensing_and_quarantined_until_released) {
  TrialApi api;
  api.TrialUnderway();
  auto kit_event = [&](const std::string& org, const std::string& action, JsonValue body) {
    body.set("trialId", JsonValue(kTrial));
    body.set("signature", Signature(org == "sp" ? "Dr Sam Sponsor" : "Dr Ada Site"));
    return api.Post(org, "/v1/kits/" + action, body);
  };
  auto kits = [](std::initializer_list<std::string> serials) {
    auto a = JsonValue::Array();
    for (const auto& s : serials) a.push_back(JsonValue(Kit(s)));
    return a;
  };
  auto dispense = [&](const std::string& serial) {
    // Scanned from the kit label, in bracketed GS1 form.
    return kit_event("s1", "dispense",
                     JsonValue::Object()
                         .set("code", JsonValue("(01)09506000134352(21)" + serial))
                         .set("subjectRef", JsonValue(SubjectRef("001"))));
  };
  auto state = [&](const std::string& serial) {
    Reply r = api.Call("reg", "GET", "/v1/kits/" + provenance::PercentEncode(Kit(serial)));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    return TrialApi::Body(r).find("state")->as_string();
  };

  BOOST_REQUIRE_EQUAL(kit_event("sp", "register",
                                JsonValue::Object()
                                    .set("kits", kits({"K1", "K2", "K3"}))
                                    .set("lot", JsonValue("IMP-001"))
                                    .set("expiry", JsonValue("2027-12-31"))
                                    .set("tempMin", JsonValue(20))
                                    .set("tempMax", JsonValue(80)))
                          .status,
                      201);
  BOOST_REQUIRE_EQUAL(kit_event("sp", "ship",
                                JsonValue::Object()
                                    .set("kits", kits({"K1", "K2"}))
                                    .set("to", JsonValue("s1"))
                                    .set("despatchAdvice", JsonValue("DA1")))
                          .status,
                      201);
  BOOST_TEST(state("K1") == "in_transit");

  Reply early = dispense("K1");
  BOOST_TEST(early.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(early) == "alert.kit_not_received");

  BOOST_REQUIRE_EQUAL(
      kit_event("s1", "receive", JsonValue::Object().set("despatchAdvice", JsonValue("DA1")))
          .status,
      201);
  Reply by_code = api.Call(
      "s1", "GET", "/v1/kits?code=" + provenance::PercentEncode("(01)09506000134352(21)K1"));
  BOOST_REQUIRE_EQUAL(by_code.status, 200);
  BOOST_TEST(TrialApi::Body(by_code).find("state")->as_string() == "available");
  BOOST_TEST(TrialApi::Body(by_code).find("holder")->as_string() == "s1");
  BOOST_TEST(dispense("K1").status == 201);
  BOOST_TEST(state("K1") == "dispensed");

  auto reading = JsonValue::Object()
                     .set("time", JsonValue("2026-11-21T09:00:00Z"))
                     .set("value", JsonValue(125));
  BOOST_REQUIRE_EQUAL(kit_event("s1", "excursion",
                                JsonValue::Object()
                                    .set("kits", kits({"K2"}))
                                    .set("readings", JsonValue::Array().push_back(reading)))
                          .status,
                      201);
  BOOST_TEST(state("K2") == "quarantined");
  Reply quarantined = dispense("K2");
  BOOST_TEST(quarantined.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(quarantined) == "alert.kit_quarantined");

  Reply site_decides = kit_event("s1", "decision",
                                 JsonValue::Object()
                                     .set("kits", kits({"K2"}))
                                     .set("decision", JsonValue("release"))
                                     .set("reason", JsonValue("stability data")));
  BOOST_TEST(site_decides.status == 403);
  BOOST_REQUIRE_EQUAL(kit_event("sp", "decision",
                                JsonValue::Object()
                                    .set("kits", kits({"K2"}))
                                    .set("decision", JsonValue("release"))
                                    .set("reason", JsonValue("stability data cover 12.5 °C")))
                          .status,
                      201);
  BOOST_TEST(state("K2") == "available");
  BOOST_TEST(dispense("K2").status == 201);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(api_consent)

// Consent forms, consents and withdrawals over the socket; each refusal is the ledger's
// rule with its code and field, and writes nothing.
BOOST_AUTO_TEST_CASE(consent_form_consent_and_withdrawal_with_their_refusals) {
  TrialApi api;
  api.TrialUnderway();
  const std::string base = "/v1/trials/" + kTrial;
  auto form = JsonValue::Object()
                  .set("documentHash", JsonValue(ToHex(Sha256("ICF 1.0"))))
                  .set("version", JsonValue("1.0"))
                  .set("country", JsonValue("DE"))
                  .set("language", JsonValue("de"))
                  .set("ethicsRef", JsonValue("EK-2026-117"))
                  .set("approved", JsonValue("2026-10-01"))
                  .set("effective", JsonValue("2026-10-15"))
                  .set("mandatory", JsonValue(true))
                  .set("scopes", JsonValue::Object()
                                     .set("core", Strings({"DM", "AE"}))
                                     .set("substudy_pk", Strings({"PK"})))
                  .set("signature", Signature("Dr Sam Sponsor", "approval"));
  Reply r = api.Post("sp", base + "/consent-forms", form);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  BOOST_TEST(TrialApi::Body(r).find("kind")->as_string() == "trial.consent_form");

  auto consent = [&](const std::string& version, JsonValue granted, JsonValue declined) {
    return JsonValue::Object()
        .set("subjectRef", JsonValue(SubjectRef("001")))
        .set("icfVersion", JsonValue(version))
        .set("consentTime", JsonValue("2026-10-20T09:00:00Z"))
        .set("scopesGranted", std::move(granted))
        .set("scopesDeclined", std::move(declined))
        .set("witness", JsonValue("Nurse Ben Example"))
        .set("signature", Signature("Dr Ada Site"));
  };
  uint64_t size = api.LedgerSize();
  struct Case {
    JsonValue body;
    std::string code;
    std::string field;
  };
  std::vector<Case> cases = {
      {consent("9.9", Strings({"core"}), Strings({"substudy_pk"})), "trial.unknown_icf_version",
       "icfVersion"},
      {consent("1.0", Strings({"substudy_pk"}), Strings({"core"})), "trial.core_declined",
       "scopesGranted"},
      {consent("1.0", Strings({"core", "samples"}), Strings({"substudy_pk"})),
       "trial.unknown_scope", "scopesGranted"},
  };
  for (const Case& k : cases) {
    Reply refused = api.Post("s1", base + "/consents", k.body);
    BOOST_TEST_CONTEXT(k.code) {
      BOOST_TEST(refused.status == 422);
      BOOST_TEST(TrialApi::ErrorCode(refused) == k.code);
      BOOST_TEST(TrialApi::ErrorField(refused) == k.field);
    }
  }
  BOOST_TEST(api.LedgerSize() == size);
  r = api.Post("s1", base + "/consents",
               consent("1.0", Strings({"core"}), Strings({"substudy_pk"})));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  BOOST_TEST(TrialApi::Body(r).find("kind")->as_string() == "trial.consent");

  // A plain dataset upload names no subjects: a trial with consent forms refuses it
  // (the submission envelope names them, below).
  size = api.LedgerSize();
  Reply upload = api.Submit(ReadFile(kStudy + "dm.csv"));
  BOOST_TEST(upload.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(upload) == "trial.no_consent");
  BOOST_TEST(api.LedgerSize() == size);

  auto withdraw = JsonValue::Object()
                      .set("subjectRef", JsonValue(SubjectRef("001")))
                      .set("withdrawalTime", JsonValue("2026-11-21T08:00:00Z"))
                      .set("dataChoice", JsonValue("redact"))
                      .set("signature", Signature("Dr Ada Site"));
  r = api.Post("s1", base + "/withdrawals", withdraw);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  r = api.Post("s1", base + "/withdrawals", withdraw);
  BOOST_TEST(r.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.already_withdrawn");
  r = api.Post("s1", base + "/consents",
               consent("1.0", Strings({"core"}), Strings({"substudy_pk"})));
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.withdrawn");
  // Nothing of the subject was submitted, so there is nothing to redact.
  r = api.Post("sp", base + "/withdrawals/honour",
               JsonValue::Object().set("signature", Signature("Dr Sam Sponsor", "responsibility")));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(TrialApi::Body(r).find("redacted")->as_int() == 0);
  // Only the sponsor honours withdrawals; a site is refused by role.
  r = api.Post("s1", base + "/withdrawals/honour",
               JsonValue::Object().set("signature", Signature("Dr Ada Site")));
  BOOST_TEST(r.status == 403);
}

// A consent trial's dataset upload over HTTP names its subjects with the USUBJID ->
// subjectRef map in a submission envelope; the ledger then takes consented records and
// refuses the unconsented and the withdrawn. The reads show each party what it needs and
// subjects by subjectRef only.
BOOST_AUTO_TEST_CASE(upload_with_subjects_and_consent_reads_per_party) {
  TrialApi api;
  api.TrialUnderway();  // 001 at s1
  BOOST_REQUIRE_EQUAL(api.Enrol("s2", "002").status, 201);
  BOOST_REQUIRE_EQUAL(api.Enrol("s1", "003").status, 201);  // never consents
  const std::string base = "/v1/trials/" + kTrial;
  Reply r = api.Post("sp", base + "/consent-forms",
                     JsonValue::Object()
                         .set("documentHash", JsonValue(ToHex(Sha256("ICF 1.0"))))
                         .set("version", JsonValue("1.0"))
                         .set("country", JsonValue("DE"))
                         .set("language", JsonValue("de"))
                         .set("ethicsRef", JsonValue("EK-2026-117"))
                         .set("approved", JsonValue("2026-10-01"))
                         .set("effective", JsonValue("2026-10-15"))
                         .set("scopes", JsonValue::Object()
                                            .set("core", Strings({"DM", "AE"}))
                                            .set("substudy_pk", Strings({"PK"})))
                         .set("signature", Signature("Dr Sam Sponsor", "approval")));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  auto consent = [&](const std::string& site, const std::string& subject) {
    return api.Post(site, base + "/consents",
                    JsonValue::Object()
                        .set("subjectRef", JsonValue(SubjectRef(subject)))
                        .set("icfVersion", JsonValue("1.0"))
                        .set("consentTime", JsonValue("2026-10-20T09:00:00Z"))
                        .set("scopesGranted", Strings({"core"}))
                        .set("scopesDeclined", Strings({"substudy_pk"}))
                        .set("witness", JsonValue("Nurse Ben Example"))
                        .set("representative", JsonValue("Carla Relative"))
                        .set("signature", Signature("Dr Ada Site")));
  };
  BOOST_REQUIRE_EQUAL(consent("s1", "001").status, 201);
  BOOST_REQUIRE_EQUAL(consent("s2", "002").status, 201);

  const std::string dm = ReadFile(kStudy + "dm.csv");
  const std::string header = dm.substr(0, dm.find('\n') + 1);
  const std::string line1 = FirstRecord(dm);  // PDG-CT-2026-01-701-0001
  const std::string usubjid1 = kTrial + "-701-0001";
  auto envelope = [&](const std::string& file, JsonValue subjects) {
    return pedigree::Canonicalize(JsonValue::Object()
                                      .set("subjects", std::move(subjects))
                                      .set("contentType", JsonValue("text/csv"))
                                      .set("data", JsonValue(file)));
  };
  const std::string type = "application/vnd.pedigree.submission+json";
  const std::string target = base + "/submissions?domain=DM" + kSignature;
  auto map1 = JsonValue::Object().set(usubjid1, JsonValue(SubjectRef("001")));
  // A correction needs its reason (the ledger checks the reason before the subject).
  const std::string correct = target + "&reason=query%20Q-17";

  // The plain upload names no subjects and is refused; the envelope's is taken.
  uint64_t size = api.LedgerSize();
  BOOST_TEST(TrialApi::ErrorCode(api.Submit(header + line1)) == "trial.no_consent");
  BOOST_TEST(api.LedgerSize() == size);
  r = api.Upload("s1", target, envelope(header + line1, map1), type);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  BOOST_TEST(TrialApi::Body(r).find("submitted")->as_int() == 1);

  // An enrolled subject without consent, and a USUBJID the map does not know.
  size = api.LedgerSize();
  const std::string corrected = EditLine(header + line1, 1, ",63,", ",64,");
  r = api.Upload("s1", correct,
                 envelope(corrected, JsonValue::Object().set(usubjid1, SubjectRef("003"))), type);
  BOOST_TEST(r.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.no_consent");
  r = api.Upload("s1", correct, envelope(corrected, JsonValue::Object()), type);
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.no_consent");
  // A malformed envelope is the client's mistake, before the ledger.
  r = api.Upload("s1", target, pedigree::Canonicalize(JsonValue::Object().set("data", "x")), type);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(TrialApi::ErrorCode(r) == "request.missing_field");
  BOOST_TEST(TrialApi::ErrorField(r) == "subjects");
  r = api.Upload("s1", target,
                 pedigree::Canonicalize(JsonValue::Object()
                                            .set("subjects", JsonValue::Object().set("X", 1))
                                            .set("contentType", "text/csv")
                                            .set("data", corrected)),
                 type);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(TrialApi::ErrorField(r) == "subjects.X");
  r = api.Upload("s1", target,
                 pedigree::Canonicalize(JsonValue::Object()
                                            .set("subjects", map1)
                                            .set("contentType", "text/plain")
                                            .set("data", corrected)),
                 type);
  BOOST_TEST(r.status == 415);
  BOOST_TEST(TrialApi::ErrorField(r) == "contentType");
  BOOST_TEST(api.LedgerSize() == size);

  // Withdrawn with redaction: a correction of the subject's record is refused.
  r = api.Post("s1", base + "/withdrawals",
               JsonValue::Object()
                   .set("subjectRef", JsonValue(SubjectRef("001")))
                   .set("withdrawalTime", JsonValue("2026-11-21T08:00:00Z"))
                   .set("dataChoice", JsonValue("redact"))
                   .set("signature", Signature("Dr Ada Site")));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  size = api.LedgerSize();
  r = api.Upload("s1", correct, envelope(corrected, map1), type);
  BOOST_TEST(r.status == 422);
  BOOST_TEST(TrialApi::ErrorCode(r) == "trial.withdrawn");
  BOOST_TEST(api.LedgerSize() == size);

  // Reads. No body carries a participant's name, nor a witness's or representative's.
  auto get = [&](const std::string& org, const std::string& path) {
    Reply reply = api.Call(org, "GET", base + path);
    BOOST_TEST(reply.body.find("Nurse Ben") == std::string::npos);
    BOOST_TEST(reply.body.find("Carla") == std::string::npos);
    return reply;
  };
  for (const char* org : {"sp", "s2", "reg"}) {
    r = get(org, "/consent-forms");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    const JsonValue body = TrialApi::Body(r);
    const JsonValue& form = body.find("consentForms")->as_array().at(0);
    BOOST_TEST(form.find("version")->as_string() == "1.0");
    BOOST_TEST(form.find("scopes")->find("substudy_pk")->as_array().at(0).as_string() == "PK");
  }
  // The sponsor sees every subject; a site its own; a regulator counts.
  r = get("sp", "/consents");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(TrialApi::Body(r).find("consents")->size() == 2u);
  r = get("sp", "/consents?site=s2");
  BOOST_REQUIRE_EQUAL(TrialApi::Body(r).find("consents")->size(), 1u);
  const std::string other =
      TrialApi::Body(r).find("consents")->as_array()[0].find("subjectRef")->as_string();
  BOOST_TEST(other == SubjectRef("002"));
  r = get("s1", "/consents");
  BOOST_REQUIRE_EQUAL(TrialApi::Body(r).find("consents")->size(), 1u);
  const JsonValue own = TrialApi::Body(r).find("consents")->as_array()[0];
  BOOST_TEST(own.find("subjectRef")->as_string() == SubjectRef("001"));
  BOOST_TEST(own.find("witnessed")->as_bool());
  BOOST_TEST(own.find("representative")->as_bool());
  BOOST_TEST(own.find("scopesDeclined")->as_array().at(0).as_string() == "substudy_pk");
  r = get("s1", "/consents?site=s2");
  BOOST_TEST(r.status == 403);
  BOOST_TEST(TrialApi::ErrorCode(r) == "auth.forbidden_org");
  r = get("reg", "/consents");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.body.find(SubjectRef("001")) == std::string::npos);
  BOOST_TEST(TrialApi::Body(r).find("consents")->as_int() == 2);
  BOOST_TEST(TrialApi::Body(r).find("subjects")->as_int() == 2);
  BOOST_TEST(TrialApi::Body(r).find("bySite")->find("s1")->as_int() == 1);
  BOOST_TEST(TrialApi::Body(r).find("scopesDeclined")->find("substudy_pk")->as_int() == 2);

  // Withdrawals with the redaction's progress.
  auto withdrawal = [&](const std::string& org) {
    Reply reply = get(org, "/withdrawals");
    BOOST_REQUIRE_MESSAGE(reply.status == 200, reply.body);
    return TrialApi::Body(reply).find("withdrawals")->as_array();
  };
  BOOST_TEST(withdrawal("s2").empty());
  auto w = withdrawal("sp");
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].find("subjectRef")->as_string() == SubjectRef("001"));
  BOOST_TEST(w[0].find("redaction")->as_string() == "pending");
  BOOST_TEST(w[0].find("leafCount")->as_int() == 1);
  BOOST_TEST(w[0].find("leaves")->size() == 1u);
  r = api.Post("sp", base + "/withdrawals/honour",
               JsonValue::Object().set("signature", Signature("Dr Sam Sponsor", "responsibility")));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(TrialApi::Body(r).find("redacted")->as_int() == 1);
  w = withdrawal("s1");
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].find("redaction")->as_string() == "done");
  w = withdrawal("reg");
  BOOST_REQUIRE_EQUAL(w.size(), 1u);
  BOOST_TEST(w[0].find("redaction")->as_string() == "done");
  BOOST_TEST(w[0].find("redactedCount")->as_int() == 1);
  BOOST_TEST(!w[0].find("subjectRef"));
  BOOST_TEST(!w[0].find("leaves"));
}

// A participant's receipt over the socket: the secret goes in the body (SubjectRef("001") is
// SHA-256 of "salt:001", so that is the secret the site handed out); the answer is the receipt
// file, which verifies offline; a wrong or malformed secret is refused, nothing appended.
BOOST_AUTO_TEST_CASE(participant_receipt_is_answered_for_the_secret_in_the_body) {
  TrialApi api;
  api.TrialUnderway();  // 001 at s1
  BOOST_REQUIRE_EQUAL(api.Enrol("s1", "002").status, 201);
  const std::string target = "/v1/trials/" + kTrial + "/receipts";
  Reply r = api.Post("s1", target, JsonValue::Object().set("subjectSecret", "salt:001"));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.body.find(SubjectRef("002")) == std::string::npos);
  auto receipt = pedigree::reports::ReadReceipt(r.body);
  BOOST_REQUIRE_MESSAGE(receipt.has_value(), pedigree::testing::Why(receipt));
  BOOST_TEST(receipt->subject_ref == SubjectRef("001"));
  auto anchors = pedigree::reports::LedgerTrustAnchors(api.node_->ledger());
  BOOST_REQUIRE(anchors.has_value());
  JsonValue report =
      pedigree::reports::VerifyReceipt(*receipt, *anchors, std::string("salt:001"), api.now_);
  BOOST_TEST(report.find("verdict")->as_string() == "VERIFIED", pedigree::Canonicalize(report));
  BOOST_TEST(report.find("events")->size() == 1u);  // the enrolment

  struct Case {
    std::string body;
    int status;
    std::string code;
    std::string field;
  };
  const uint64_t size = api.LedgerSize();
  for (const Case& c : {
           Case{R"({"subjectSecret":"salt:009"})", 404, "trial.receipt_subject_unknown",
                "subjectSecret"},
           Case{R"({"subjectSecret":""})", 400, "trial.bad_subject_secret", "subjectSecret"},
           Case{R"({"subjectSecret":17})", 400, "request.invalid_body", "subjectSecret"},
           Case{R"({"secret":"salt:001"})", 400, "request.missing_field", "subjectSecret"},
       }) {
    Reply refused = api.Call("s1", "POST", target, c.body);
    BOOST_TEST_INFO(c.body);
    BOOST_TEST(refused.status == c.status);
    BOOST_TEST(TrialApi::ErrorCode(refused) == c.code);
    BOOST_TEST(TrialApi::ErrorField(refused) == c.field);
    BOOST_TEST(refused.body.find("salt:") == std::string::npos, refused.body);
  }
  BOOST_TEST(api.LedgerSize() == size);
}

// The participant's check without a token: POST /v1/receipts/verify runs the offline verifier
// against the node's keys. A genuine receipt is VERIFIED; one with an entry left out fails
// with the verifier's code; a body that is no receipt is the client's mistake (400, coded,
// with the field). The receipt's own route still needs a token.
BOOST_AUTO_TEST_CASE(receipt_is_checked_without_a_token_and_a_tampered_copy_fails) {
  TrialApi api;
  api.TrialUnderway();  // 001 at s1
  const std::string target = "/v1/trials/" + kTrial + "/receipts";
  Reply r = api.Post("s1", target, JsonValue::Object().set("subjectSecret", "salt:001"));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.headers["Content-Disposition"] ==
             "attachment; filename=\"receipt-PDG-CT-2026-01.json\"");
  BOOST_TEST(api.Call("", "POST", target, R"({"subjectSecret":"salt:001"})").status == 401);

  const uint64_t size = api.LedgerSize();
  Reply checked = api.Call("", "POST", "/v1/receipts/verify", r.body);
  BOOST_REQUIRE_MESSAGE(checked.status == 200, checked.body);
  JsonValue v = TrialApi::Body(checked);
  BOOST_TEST(v.find("verified")->as_bool(), checked.body);
  BOOST_TEST(v.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(v.find("failure")->is_null());
  BOOST_TEST(v.find("trialId")->as_string() == kTrial);
  BOOST_TEST(v.find("subjectRef")->as_string() == SubjectRef("001"));
  BOOST_TEST(v.find("accesses")->size() == 0u);
  BOOST_TEST(v.find("trust")->find("node")->as_bool());
  BOOST_TEST(v.find("report")->find("report")->as_string() == "receipt");

  // An entry left out of the file: the signed evidence index still lists it.
  JsonValue tampered = pedigree::ParseJson(r.body).value();
  JsonArray entries = tampered.find("entries")->as_array();
  BOOST_REQUIRE_GE(entries.size(), 2u);
  entries.pop_back();
  JsonValue shorter = JsonValue::Array();
  for (auto& e : entries) shorter.push_back(std::move(e));
  tampered.set("entries", std::move(shorter));
  Reply broken = api.Call("", "POST", "/v1/receipts/verify", pedigree::Canonicalize(tampered));
  BOOST_REQUIRE_MESSAGE(broken.status == 200, broken.body);
  JsonValue b = TrialApi::Body(broken);
  BOOST_TEST(!b.find("verified")->as_bool());
  BOOST_TEST(b.find("verdict")->as_string() == "FAILED");
  BOOST_TEST(b.find("failure")->find("code")->as_string() == "bundle.incomplete", broken.body);

  struct Case {
    std::string body;
    std::string code;
    std::string field;
  };
  for (const Case& c : {
           Case{"{\"format\":", "receipt.json", "receipt"},
           Case{R"({"format":"pedigree-bundle/v2"})", "receipt.format", "format"},
           Case{R"({"format":"pedigree-receipt/v1","subjectRef":"00"})", "receipt.missing_field",
                "trialId"},
       }) {
    Reply refused = api.Call("", "POST", "/v1/receipts/verify", c.body);
    BOOST_TEST_INFO(c.body);
    BOOST_TEST(refused.status == 400);
    BOOST_TEST(TrialApi::ErrorCode(refused) == c.code);
    BOOST_TEST(TrialApi::ErrorField(refused) == c.field);
  }
  BOOST_TEST(api.LedgerSize() == size);
}

// The accesses the participant's page lists come from the verified receipt: a regulator's
// read of the subject's record under a grant is shown with reader, grant, purpose, domain
// and how many of the subject's records it read.
BOOST_AUTO_TEST_CASE(receipt_check_lists_a_granted_read_of_the_subjects_record) {
  TrialApi api;
  api.TrialUnderway();  // 001 at s1
  const std::string base = "/v1/trials/" + kTrial;
  const std::string dm = ReadFile(kStudy + "dm.csv");
  const std::string file = dm.substr(0, dm.find('\n') + 1) + FirstRecord(dm);
  Reply r = api.Upload(
      "s1", base + "/submissions?domain=DM" + kSignature,
      pedigree::Canonicalize(
          JsonValue::Object()
              .set("subjects", JsonValue::Object().set(kTrial + "-701-0001", SubjectRef("001")))
              .set("contentType", JsonValue("text/csv"))
              .set("data", JsonValue(file))),
      "application/vnd.pedigree.submission+json");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  BOOST_REQUIRE_EQUAL(api.Lock("hard_lock").status, 201);
  BOOST_REQUIRE_EQUAL(api.Seal().status, 201);
  r = api.Post("sp", base + "/grants",
               JsonValue::Object()
                   .set("grantId", JsonValue("REG-1"))
                   .set("grantee", JsonValue("reg"))
                   .set("purpose", JsonValue("regulator"))
                   .set("domains", JsonValue::Strings({"DM"}))
                   .set("start", JsonValue("2026-11-01T00:00:00Z"))
                   .set("expiry", JsonValue("2026-11-23T00:00:00Z"))
                   .set("signature", Signature("Dr Sam Sponsor", "approval")));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  r = api.Call("reg", "GET",
               base + "/disclosures?domain=DM&key=" + provenance::PercentEncode(kFirstKey));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);

  Reply receipt =
      api.Post("s1", base + "/receipts", JsonValue::Object().set("subjectSecret", "salt:001"));
  BOOST_REQUIRE_MESSAGE(receipt.status == 200, receipt.body);
  Reply checked = api.Call("", "POST", "/v1/receipts/verify", receipt.body);
  BOOST_REQUIRE_MESSAGE(checked.status == 200, checked.body);
  JsonValue v = TrialApi::Body(checked);
  BOOST_TEST(v.find("verified")->as_bool(), checked.body);
  BOOST_REQUIRE_EQUAL(v.find("accesses")->size(), 1u);
  const JsonValue& a = v.find("accesses")->as_array()[0];
  BOOST_TEST(a.find("reader")->as_string() == "reg");
  BOOST_TEST(a.find("grantId")->as_string() == "REG-1");
  BOOST_TEST(a.find("purpose")->as_string() == "regulator");
  BOOST_TEST(a.find("domain")->as_string() == "DM");
  BOOST_TEST(a.find("outcome")->as_string() == "granted");
  BOOST_TEST(a.find("subjectRecords")->as_int() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
