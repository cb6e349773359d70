// Sets up a node for bench/trial_upload.sh, which measures the peak RSS of `pedigree serve`
// while it takes dataset uploads (issue 18: "dataset uploads stream through the parser with
// memory bounded independently of the file size"). Run in its own process so that the set-up,
// which seals the dataset in-process, adds nothing to the server's figures.
//
// usage: bench_trial_upload DIR MIB
// Creates in DIR a supply-chain node (origin example.org/bench-upload) with a sponsor sp, a
// site s1 and the trial T1 (sites s1, protocol sealed), a sponsor store DIR/store.sqlite,
// and a DM dataset of about MIB MiB (rows of ~400 bytes: 11 columns, a long comment)
// submitted, hard-locked and sealed; writes the same records as DIR/dm.csv and as
// Dataset-JSON DIR/dm.json (the verify candidates, identical to the seal), and a second
// domain's file DIR/ae.csv (a submission candidate, nothing of it on the ledger), and the
// tokens of sp and s1 as DIR/sp.token and DIR/s1.token.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "bench_common.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/trial_store.h"
#include "pedigree/usecases/trial_workflow.h"

using namespace pedigree;
using pedigree::bench::Must;

namespace {

// One row: STUDYID, DOMAIN, USUBJID, --SEQ, then seven values, the last a ~300-byte comment.
std::string Row(const std::string& domain, size_t i, bool json) {
  char subject[32];
  std::snprintf(subject, sizeof subject, "T1-%07zu", i / 4);
  const std::string seq = std::to_string(i % 4 + 1);
  const std::string comment =
      "Investigator comment " + std::to_string(i) + ": " + std::string(280, 'a' + i % 26);
  const std::string age = std::to_string(40 + i % 30);
  const std::string fields[] = {"T1",    domain,  subject, seq,          "M",    age,
                                "YEARS", "WHITE", "USA",   "2026-01-15", comment};
  std::string out;
  if (json) {
    out = "[";
    for (size_t f = 0; f < std::size(fields); ++f) {
      if (f > 0) out += ",";
      if (f == 3 || f == 5) {
        out += fields[f];
      } else {
        out += "\"" + fields[f] + "\"";
      }
    }
    return out + "]";
  }
  for (size_t f = 0; f < std::size(fields); ++f) out += (f > 0 ? "," : "") + fields[f];
  return out + "\n";
}

constexpr const char* kNames[] = {"STUDYID", "DOMAIN", "USUBJID", "SEQ", "SEX",    "AGE",
                                  "AGEU",    "RACE",   "COUNTRY", "DTC", "COMMENT"};

void WriteCsv(const std::string& path, const std::string& domain, size_t rows) {
  std::ofstream out(path, std::ios::binary);
  for (size_t f = 0; f < std::size(kNames); ++f) {
    out << (f > 0 ? "," : "") << (f == 3 ? domain + "SEQ" : std::string(kNames[f]));
  }
  out << "\n";
  for (size_t i = 0; i < rows; ++i) out << Row(domain, i, false);
}

void WriteJson(const std::string& path, const std::string& domain, size_t rows) {
  std::ofstream out(path, std::ios::binary);
  out << "{\"datasetJSONCreationDateTime\":\"2026-12-07T00:00:00\",\"datasetJSONVersion\":\"1.1."
         "0\",\"fileOID\":\"bench\",\"dbLastModifiedDateTime\":"
         "\"2026-12-07T00:00:00\",\"originator\":\"bench\",\"sourceSystem\":{\"name\":\"bench\","
         "\"version\":\"1\"},\"studyOID\":\"T1\",\"metaDataVersionOID\":\"MDV.1\","
         "\"itemGroupOID\":\"IG."
      << domain << "\",\"records\":" << rows << ",\"name\":\"" << domain
      << "\",\"label\":\"bench\",\"columns\":[";
  for (size_t f = 0; f < std::size(kNames); ++f) {
    const std::string name = f == 3 ? domain + "SEQ" : std::string(kNames[f]);
    const char* type = f == 3 || f == 5 ? "integer" : "string";
    out << (f > 0 ? "," : "") << "{\"itemOID\":\"IT." << name << "\",\"name\":\"" << name
        << "\",\"label\":\"" << name << "\",\"dataType\":\"" << type << "\"}";
  }
  out << "],\"rows\":[";
  for (size_t i = 0; i < rows; ++i) out << (i > 0 ? ",\n" : "\n") << Row(domain, i, true);
  out << "]}\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    // bench/run.sh runs every bench_* without arguments: this one is driven by its script.
    std::printf("# set-up for bench/trial_upload.sh (usage: bench_trial_upload DIR MIB)\n");
    return argc == 1 ? 0 : 2;
  }
  const std::string dir = argv[1];
  const size_t rows =
      static_cast<size_t>(std::atol(argv[2])) * (1 << 20) / Row("DM", 0, false).size();
  log::PrivateKey authority = log::PrivateKey::Generate();
  auto node =
      Must(services::SupplyNode::Create(dir, "example.org/bench-upload", authority.public_key()),
           "create");
  auto tokens = Must(services::TokenStore::Open(dir + "/tokens.db"), "tokens");
  for (auto [id, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}}) {
    log::PrivateKey key = log::PrivateKey::Generate();
    Must(node->HoldKey(id, key), "hold key");
    Must(node->RegisterOrg(authority, {id, id, {role}, {}, {}, ToBase64(key.public_key().raw())}),
         "register");
    std::ofstream(dir + "/" + id + ".token")
        << Must(tokens->Issue(id, {role}, "bench"), "token") << "\n";
  }
  auto store = Must(services::SponsorStore::Open(dir + "/store.sqlite"), "store");
  services::TrialWorkflow workflow(*node, store.get());
  const services::TrialSigner sponsor{"sp", "Dr A", "approval"};
  auto sites = JsonValue::Array();
  sites.push_back("s1");
  auto arms = JsonValue::Array();
  arms.push_back(JsonValue::Object().set("code", "A").set("name", "Active"));
  Must(workflow.Submit(sponsor, "trial.register", "T1",
                       JsonValue::Object()
                           .set("registryId", "NCT01234567")
                           .set("title", "Bench")
                           .set("sites", sites)
                           .set("arms", arms)),
       "register trial");
  Must(workflow.SealProtocol(sponsor, "T1", "protocol", "1", {"HbA1c"}, {}), "protocol");
  WriteCsv(dir + "/dm.csv", "DM", rows);
  WriteJson(dir + "/dm.json", "DM", rows);
  WriteCsv(dir + "/ae.csv", "AE", rows);
  {
    auto dataset = Must(scanner::ParseTrialFile(dir + "/dm.csv", {}), "parse");
    Must(workflow.SubmitDataset({"s1", "Dr S", "authorship"}, "T1", dataset), "submit");
  }
  Must(workflow.Lock(sponsor, "T1", "DM", "hard_lock"), "lock");
  Must(workflow.Seal(sponsor, "T1", "DM"), "seal");
  std::printf("%zu rows per file in %s\n", rows, dir.c_str());
  return 0;
}
