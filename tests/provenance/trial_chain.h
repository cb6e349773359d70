// A ledger with the provenance model attached and the organisations of a clinical trial
// registered (sponsor "sp" running trial T1 at sites s1 and s2; a second sponsor "sp2",
// a site "s3" outside T1 and a manufacturer "mfg"), for the trial and kit rule tests.
// With PEDIGREE_TEST_STORAGE=postgresql in the environment (CTest's
// provenance_postgresql) the ledger keeps its data in a fresh database of the test
// process's throwaway PostgreSQL cluster (tests/common/pg_cluster.h) instead of SQLite.
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/pg_cluster.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/provenance/trial_view.h"

namespace pedigree::provenance::testing {

using Fields = std::vector<std::pair<std::string, JsonValue>>;

inline JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

// A 64-hex stand-in for a salted hash: SHA-256 of `seed`.
inline std::string HashOf(const std::string& seed) { return ToHex(Sha256(seed)); }

inline JsonValue Signature(const std::string& name = "Dr Ada Example",
                           const std::string& meaning = "authorship") {
  auto s = JsonValue::Object();
  s.set("name", JsonValue(name));
  s.set("meaning", JsonValue(meaning));
  return s;
}

struct TrialOrg {
  std::string id;
  log::PrivateKey key = log::PrivateKey::Generate();
};

class TrialChain {
 public:
  static constexpr const char* kTrial = "T1";
  static constexpr const char* kTime = "2026-11-21T10:00:00Z";

  // `register_trial` registers T1 (sponsor sp, sites s1 and s2, arms A and B).
  explicit TrialChain(bool register_trial = true) {
    const char* backend = std::getenv("PEDIGREE_TEST_STORAGE");
    const std::string storage = backend && std::string(backend) == "postgresql"
                                    ? pedigree::testing::PgCluster::Shared().NewDatabase()
                                    : std::string();
    const log::LedgerOptions options = ProvenanceLedgerOptions(
        state_, [this] { return now_; }, authority_.public_key(), {}, storage, tmp_ / "ledger");
    ledger_ = log::Ledger::Create(tmp_ / "ledger", "example.org/trial-test", options).value();
    view_ = TrialView::Open(ledger_->db_path()).value();
    for (auto [org, role] : {std::pair{&sponsor_, "sponsor"},
                             {&sponsor2_, "sponsor"},
                             {&site1_, "site"},
                             {&site2_, "site"},
                             {&site3_, "site"},
                             {&manufacturer_, "manufacturer"}}) {
      Register(*org, role);
    }
    if (register_trial) Expect(RegisterTrial());
  }

  ~TrialChain() { ledger_.reset(); }

  // Appends a payload of `kind` signed by `org`; returns the ledger index.
  Result<uint64_t> Append(const TrialOrg& org, const std::string& kind, JsonValue p,
                          const log::PrivateKey* signer = nullptr,
                          const std::string& time = kTime) {
    p.set("v", JsonValue(int64_t{1}));
    p.set("kind", JsonValue(kind));
    p.set("org", JsonValue(org.id));
    p.set("clientId", JsonValue("c" + std::to_string(++client_)));
    p.set("time", JsonValue(time));
    return ledger_->Append(
        log::SignEntry(p, signer ? *signer : org.key, ledger_->origin()).value());
  }

  // A trial or kit payload: trialId T1 and a signature unless `fields` give their own (a
  // null member is dropped, so a test can leave one out).
  Result<uint64_t> Do(const TrialOrg& org, const std::string& kind, const Fields& fields,
                      const std::string& time = kTime) {
    auto p = JsonValue::Object();
    p.set("trialId", JsonValue(kTrial));
    p.set("signature", Signature());
    for (const auto& [k, v] : fields) p.set(k, v);
    auto out = JsonValue::Object();
    for (const auto& [k, v] : p.as_object())
      if (!v.is_null()) out.set(k, v);
    return Append(org, kind, std::move(out), nullptr, time);
  }

  void Register(const TrialOrg& org, const std::string& role) {
    auto key = JsonValue::Object();
    key.set("key", JsonValue(ToBase64(org.key.public_key().raw())));
    key.set("validFrom", JsonValue("2026-01-01T00:00:00Z"));
    auto keys = JsonValue::Array();
    keys.push_back(key);
    auto p = JsonValue::Object();
    p.set("id", JsonValue(org.id));
    p.set("name", JsonValue(org.id));
    p.set("roles", Strings({role}));
    p.set("keys", keys);
    Expect(Append(TrialOrg{"authority"}, "org.register", p, &authority_));
  }

  Result<uint64_t> RegisterTrial(const TrialOrg* org = nullptr, const Fields& extra = {}) {
    auto arms = JsonValue::Array();
    for (auto [code, name] : {std::pair{"A", "Examplamab 10 mg"}, {"B", "Placebo"}}) {
      auto arm = JsonValue::Object();
      arm.set("code", JsonValue(code));
      arm.set("name", JsonValue(name));
      arms.push_back(arm);
    }
    auto p = JsonValue::Object();
    p.set("trialId", JsonValue(kTrial));
    p.set("signature", Signature("Dr Ada Example", "responsibility"));
    p.set("registryId", JsonValue("2026-500123-45-00"));
    p.set("title", JsonValue("A trial of examplamab"));
    p.set("sites", Strings({"s1", "s2"}));
    p.set("arms", arms);
    for (const auto& [k, v] : extra) p.set(k, v);
    return Append(org ? *org : sponsor_, "trial.register", p);
  }

  static JsonValue Outcomes(std::initializer_list<std::string> primary,
                            std::initializer_list<std::string> secondary) {
    auto o = JsonValue::Object();
    o.set("primary", Strings(primary));
    o.set("secondary", Strings(secondary));
    return o;
  }

  Result<uint64_t> Protocol() {
    return Do(sponsor_, "trial.protocol",
              {{"protocolHash", HashOf("protocol v1")},
               {"version", "1.0"},
               {"outcomes", Outcomes({"HbA1c change at week 26"}, {"Weight change at week 26"})}});
  }

  Result<uint64_t> Enrol(const TrialOrg& site, const std::string& subject) {
    return Do(site, "trial.enrol", {{"subjectRef", HashOf("subject " + subject)}, {"arm", "A"}});
  }

  static JsonValue Records(std::initializer_list<std::pair<std::string, std::string>> leaves) {
    auto a = JsonValue::Array();
    for (const auto& [leaf, replaces] : leaves) {
      auto r = JsonValue::Object();
      r.set("leaf", JsonValue(HashOf(leaf)));
      if (!replaces.empty()) r.set("replaces", JsonValue(HashOf(replaces)));
      a.push_back(r);
    }
    return a;
  }

  Result<uint64_t> Submit(const TrialOrg& org, JsonValue records, const std::string& reason = "") {
    if (reason.empty()) return Do(org, "trial.submit", {{"domain", "AE"}, {"records", records}});
    return Do(org, "trial.submit", {{"domain", "AE"}, {"records", records}, {"reason", reason}});
  }

  Result<uint64_t> LockDomain(const std::string& action, const Fields& extra = {}) {
    auto p = JsonValue::Object();
    p.set("trialId", JsonValue(kTrial));
    p.set("signature", Signature("Dr Ada Example", "approval"));
    p.set("domain", JsonValue("AE"));
    p.set("action", JsonValue(action));
    for (const auto& [k, v] : extra) p.set(k, v);
    return Append(sponsor_, "trial.lock", p);
  }

  Result<uint64_t> Seal(int64_t count, const std::string& root_seed = "root") {
    return Do(sponsor_, "trial.seal",
              {{"domain", "AE"},
               {"root", HashOf(root_seed)},
               {"recordCount", count},
               {"schemaHash", HashOf("schema")},
               {"algorithm", "pedigree-trial-seal/v1"}});
  }

  template <typename R>
  static void Expect(const R& s) {
    BOOST_REQUIRE_MESSAGE(s.has_value(), pedigree::testing::Why(s));
  }
  template <typename R>
  static std::string Code(const R& s) {
    return s ? "ok" : s.error().code();
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  TrialOrg sponsor_{"sp"}, sponsor2_{"sp2"}, site1_{"s1"}, site2_{"s2"}, site3_{"s3"},
      manufacturer_{"mfg"};
  int64_t now_ = 1'795'300'000;  // 2026-11-22; events are timed 2026-11-21
  int client_ = 0;
  std::unique_ptr<ProvenanceState> state_;
  std::unique_ptr<log::Ledger> ledger_;
  std::unique_ptr<TrialView> view_;
};

}  // namespace pedigree::provenance::testing
