// Trial report of a domain with 100 site submissions (100 records each), locks, two seals and
// a redaction, every entry verified from a ledger (gathering included). No target in the issue;
// reference: one Ed25519 entry verification in the same run, times the entries verified.
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include "bench_common.h"
#include "pedigree/log/envelope.h"
#include "pedigree/reports/trial_report.h"
#include "pedigree/usecases/supply_node.h"

using namespace pedigree;
using pedigree::JsonValue;
using pedigree::bench::Must;

namespace {

JsonValue Signature(const char* name, const char* meaning) {
  return JsonValue::Object().set("name", name).set("meaning", meaning);
}

}  // namespace

int main() {
  std::string dir = (std::filesystem::temp_directory_path() / "pedigree-bench-trial-XXXXXX");
  dir = ::mkdtemp(dir.data());
  constexpr int kSubmissions = 100, kRecords = 100;
  {
    log::PrivateKey authority = log::PrivateKey::Generate();
    auto node = Must(
        services::SupplyNode::Create(dir + "/l", "example.org/bench-trial", authority.public_key()),
        "create");
    for (auto [id, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}}) {
      log::PrivateKey key = log::PrivateKey::Generate();
      Must(node->HoldKey(id, key), "hold key");
      Must(node->RegisterOrg(authority, {id, id, {role}, {}, {}, ToBase64(key.public_key().raw())}),
           "register");
    }
    auto as = [&](const char* org, const char* kind, JsonValue p, const char* meaning) {
      p.set("kind", kind).set("trialId", "T1").set("signature", Signature("Dr A", meaning));
      return Must(node->SubmitAs(org, p), kind);
    };
    auto arms = JsonValue::Array();
    arms.push_back(JsonValue::Object().set("code", "A").set("name", "Active"));
    auto sites = JsonValue::Array();
    sites.push_back("s1");
    as("sp", "trial.register",
       JsonValue::Object()
           .set("registryId", "NCT01234567")
           .set("title", "Bench")
           .set("sites", sites)
           .set("arms", arms),
       "responsibility");
    auto primary = JsonValue::Array();
    primary.push_back("HbA1c change at week 26");
    as("sp", "trial.protocol",
       JsonValue::Object()
           .set("protocolHash", ToHex(Sha256("p")))
           .set("version", "1")
           .set("outcomes",
                JsonValue::Object().set("primary", primary).set("secondary", JsonValue::Array())),
       "approval");
    as("s1", "trial.enrol", JsonValue::Object().set("subjectRef", ToHex(Sha256("s"))),
       "authorship");
    std::string first_leaf;
    for (int i = 0; i < kSubmissions; ++i) {
      auto records = JsonValue::Array();
      for (int k = 0; k < kRecords; ++k) {
        std::string leaf = ToHex(Sha256("leaf " + std::to_string(i * kRecords + k)));
        if (first_leaf.empty()) first_leaf = leaf;
        records.push_back(JsonValue::Object().set("leaf", leaf));
      }
      as("s1", "trial.submit", JsonValue::Object().set("domain", "AE").set("records", records),
         "authorship");
    }
    auto lock = [&](const char* action) {
      auto p = JsonValue::Object().set("domain", "AE").set("action", action);
      if (std::string(action) == "unlock") p.set("reason", "query").set("approver", "Dr B");
      as("sp", "trial.lock", p, "approval");
    };
    auto seal = [&] {
      as("sp", "trial.seal",
         JsonValue::Object()
             .set("domain", "AE")
             .set("root", ToHex(Sha256("root")))
             .set("recordCount", kSubmissions * kRecords)
             .set("schemaHash", ToHex(Sha256("schema")))
             .set("algorithm", "pedigree-trial-seal/v1"),
         "responsibility");
    };
    lock("hard_lock");
    seal();
    lock("unlock");
    lock("hard_lock");
    seal();
    as("sp", "trial.redact",
       JsonValue::Object().set("domain", "AE").set("leaf", first_leaf).set("reason", "PII"),
       "approval");
    Must(node->ledger().SignCheckpoint(), "checkpoint");
  }

  auto ledger = Must(log::Ledger::Open(dir + "/l"), "open");
  std::string verdict;
  size_t submissions = 0;
  auto once = [&] {
    auto report =
        Must(reports::TrialReport(*ledger, "T1", {.generated_at = 1'800'000'000}), "report");
    verdict = report.find("verdict")->as_string();
    submissions = report.find("domains")->as_array().front().find("submissions")->as_array().size();
  };
  once();  // warm the page cache
  const int kRuns = 20;
  std::clock_t cpu0 = std::clock();
  bench::Stopwatch total;
  for (int i = 0; i < kRuns; ++i) once();
  double per_report_ms = total.seconds() * 1e3 / kRuns;
  double per_report_cpu_ms = double(std::clock() - cpu0) / CLOCKS_PER_SEC * 1e3 / kRuns;

  // Reference: one Ed25519 verification of a submission entry (100 leaves, ~8 KB).
  std::string entry = Must(ledger->storage().ReadEntry(10), "read");
  const int kVerifies = 500;
  std::clock_t ed_cpu0 = std::clock();
  for (int i = 0; i < kVerifies; ++i) Must(log::VerifyEntry(entry), "verify entry");
  double ed_cpu_us = double(std::clock() - ed_cpu0) / CLOCKS_PER_SEC * 1e6 / kVerifies;

  // Entries verified: 2 registry + register + protocol + enrolment + submissions + 3 locks +
  // 2 seals + 1 redaction.
  size_t entries = 2 + 3 + submissions + 3 + 2 + 1;
  std::printf("# trial with %zu submissions of %d records, %zu entries verified, verdict %s\n",
              submissions, kRecords, entries, verdict.c_str());
  char ref[160];
  std::snprintf(ref, sizeof ref,
                "one submission entry verify %.1f us CPU, so %zu entries ~ %.2f ms CPU", ed_cpu_us,
                entries, ed_cpu_us * entries / 1e3);
  bench::Report("trial report, 100 submissions, gathered + fully verified", per_report_ms, "ms",
                "- (none set)", ref);
  bench::Report("trial report, 100 submissions, CPU time", per_report_cpu_ms, "ms", "- (none set)",
                ref);
  std::filesystem::remove_all(dir);
  return verdict == "VERIFIED" ? 0 : 1;
}
