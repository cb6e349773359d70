#include "demo_trial.h"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>

#include "pedigree/demo/trial_sample.h"
#include "pedigree/log/note.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/reports/receipt.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSponsor = "helix-trials";
constexpr const char* kRegulator = "ema-inspector";
// The sponsor's monitor: a CRO carrying out the sponsor's monitoring duties (ICH E6), so
// registered with the sponsor role; on this trial it reads only what a grant allows.
constexpr const char* kMonitor = "northway-cro";

// The records of `dataset` whose SITEID (DM) or USUBJID site part (AE) is `site`.
scanner::Dataset RecordsOfSite(const scanner::Dataset& dataset, const std::string& site) {
  scanner::Dataset part = dataset;
  part.records.clear();
  size_t usubjid = 0;
  for (size_t i = 0; i < dataset.columns.size(); ++i) {
    if (dataset.columns[i].name == "USUBJID") usubjid = i;
  }
  std::string marker = "-" + site + "-";
  for (const auto& r : dataset.records) {
    if (r.values[usubjid].text.find(marker) != std::string::npos) part.records.push_back(r);
  }
  return part;
}

size_t ColumnIndex(const scanner::Dataset& d, const std::string& name) {
  for (size_t i = 0; i < d.columns.size(); ++i) {
    if (d.columns[i].name == name) return i;
  }
  return 0;
}

class TrialScenario {
 public:
  TrialScenario(SupplyNode& node, const log::PrivateKey& authority, const std::string& dir,
                std::ostream& out)
      : node_(node), authority_(authority), dir_(dir), out_(out) {}

  Status Run();

 private:
  TrialSigner Sponsor(const char* meaning = "approval") {
    return {kSponsor, "Dr Helena Marsh, Head of Clinical Data", meaning};
  }
  TrialSigner Site(const std::string& site) {
    return {"site-" + site, "Dr " + site + " Investigator", "authorship"};
  }
  // A step the rules must refuse with `code`; prints the refusal.
  Status Refused(const std::string& what, const Result<uint64_t>& r, const std::string& code) {
    if (r) return Fail("demo.unexpected", what + " was accepted; expected " + code);
    if (r.error().code() != code) {
      return Fail("demo.unexpected", what + " refused with " + r.error().code() + ", expected " +
                                         code + ": " + r.error().message());
    }
    out_ << "  refused  " << std::left << std::setw(56) << what << r.error().code() << "\n";
    return Ok();
  }
  template <typename T>
  Status RefusedResult(const std::string& what, const Result<T>& r, const std::string& code) {
    if (r) return Fail("demo.unexpected", what + " was accepted; expected " + code);
    return Refused(what, Result<uint64_t>(std::unexpected(r.error())), code);
  }
  // Issue 17's access part: a time-limited grant, a recorded read, reads outside the grant
  // refused and recorded, and the subject's receipt listing the read, verified offline.
  Status Access(TrialWorkflow& trial, const std::string& id, const scanner::Dataset& dm,
                const scanner::Dataset& ae, const fs::path& files);
  std::string SubjectRef(const std::string& usubjid) {
    // The site's own salted hash: the ledger never sees the subject id.
    return ToHex(Sha256(site_salt_ + usubjid));
  }

  SupplyNode& node_;
  const log::PrivateKey& authority_;
  std::string dir_;
  std::ostream& out_;
  std::string site_salt_ = [] {
    uint8_t salt[16];
    RandomBytes(salt);
    return ToHex(salt);
  }();
};

Status TrialScenario::Run() {
  SampleStudy study = GenerateSampleStudy();
  fs::path files = fs::path(dir_) / "trial";
  PEDIGREE_TRY(WriteSampleStudy(study, files));
  PEDIGREE_ASSIGN(store, SponsorStore::Open((fs::path(dir_) / "sponsor-store.sqlite").string()));
  TrialWorkflow trial(node_, store->get());
  const std::string& id = study.study_id;

  out_ << "\n9. A clinical trial: " << id << " (" << study.subjects << " subjects, "
       << study.adverse_events << " adverse events; files in " << files.string() << ")\n";
  std::vector<std::pair<std::string, std::string>> orgs = {
      {kSponsor, "sponsor"}, {kRegulator, "regulator"}, {kMonitor, "sponsor"}};
  for (const auto& site : study.site_ids) orgs.emplace_back("site-" + site, "site");
  for (const auto& [org, role] : orgs) {
    log::PrivateKey key = log::PrivateKey::Generate();
    PEDIGREE_TRY(node_.HoldKey(org, key));
    PEDIGREE_TRY(node_.RegisterOrg(authority_,
                                   {org, org, {role}, {}, {}, ToBase64(key.public_key().raw())}));
  }
  auto reg = JsonValue::Object();
  reg.set("registryId", JsonValue(study.registry_id));
  reg.set("title", JsonValue("Pedigrenol in type 2 diabetes (synthetic)"));
  auto sites = JsonValue::Array();
  for (const auto& site : study.site_ids) sites.push_back(JsonValue("site-" + site));
  reg.set("sites", std::move(sites));
  auto arms = JsonValue::Array();
  for (size_t i = 0; i < study.arm_codes.size(); ++i) {
    arms.push_back(JsonValue::Object()
                       .set("code", JsonValue(study.arm_codes[i]))
                       .set("name", JsonValue(study.arm_names[i])));
  }
  reg.set("arms", std::move(arms));
  PEDIGREE_ASSIGN(registered, trial.Submit(Sponsor(), "trial.register", id, std::move(reg)));
  out_ << "  " << kSponsor << " registers the trial (EU CT " << study.registry_id << ", sites";
  for (const auto& site : study.site_ids) out_ << " site-" << site;
  out_ << ") at entry " << *registered << "\n";

  PEDIGREE_ASSIGN(dm, scanner::ParseDatasetJson(study.dm_json));
  PEDIGREE_ASSIGN(ae, scanner::ParseCsv(study.ae_csv, {.domain = "AE"}));
  size_t usubjid = ColumnIndex(*dm, "USUBJID"), siteid = ColumnIndex(*dm, "SITEID");
  auto enrol = [&](size_t record) {
    const auto& r = dm->records[record];
    auto p = JsonValue::Object();
    p.set("subjectRef", JsonValue(SubjectRef(r.values[usubjid].text)));
    return trial.Submit(Site(r.values[siteid].text), "trial.enrol", id, std::move(p));
  };
  PEDIGREE_TRY(Refused("enrolment before the protocol is sealed", enrol(0),
                       "alert.enrolment_before_protocol"));
  PEDIGREE_ASSIGN(protocol, trial.SealProtocol(Sponsor(), id, study.protocol, "1.0",
                                               study.primary_outcomes, study.secondary_outcomes));
  out_ << "  protocol sealed at entry " << *protocol << ": SHA-256 "
       << ToHex(Sha256(study.protocol)).substr(0, 16) << "…, " << study.primary_outcomes.size()
       << " primary and " << study.secondary_outcomes.size() << " secondary outcomes\n";
  // The informed consent form: core covers the domains the demo collects; the optional
  // pharmacokinetic sub-study (PK) and future research are asked for separately.
  const int64_t now = node_.Now();
  TrialWorkflow::ConsentForm icf{"1.0",
                                 "DE",
                                 "de",
                                 "EK-2026-117",
                                 FormatUtcTime(now - 40 * 86400).substr(0, 10),
                                 FormatUtcTime(now - 30 * 86400).substr(0, 10),
                                 true,
                                 JsonValue::Object()
                                     .set("core", JsonValue::Strings({"DM", "AE"}))
                                     .set("substudy_pk", JsonValue::Strings({"PK"}))
                                     .set("future_research", JsonValue::Strings({}))};
  PEDIGREE_ASSIGN(form, trial.RecordConsentForm(
                            Sponsor(), id, "Informed consent form, version 1.0 (synthetic)", icf));
  out_ << "  consent form 1.0 (DE/de, ethics " << icf.ethics_ref << ", effective " << icf.effective
       << ") at entry " << *form << ": scopes core [DM, AE], substudy_pk [PK], future_research\n";
  trial.SetSubjectRefs(
      [this](std::string_view usubjid) { return SubjectRef(std::string(usubjid)); });
  auto consent = [&](size_t record) {
    const auto& r = dm->records[record];
    auto p = JsonValue::Object();
    p.set("subjectRef", JsonValue(SubjectRef(r.values[usubjid].text)));
    p.set("icfVersion", JsonValue("1.0"));
    p.set("consentTime", JsonValue(FormatUtcTime(now - 3600)));
    bool pk = record % 3 == 0;  // every third participant joins the sub-study
    p.set("scopesGranted",
          pk ? JsonValue::Strings({"core", "substudy_pk"}) : JsonValue::Strings({"core"}));
    p.set("scopesDeclined", pk ? JsonValue::Strings({"future_research"})
                               : JsonValue::Strings({"substudy_pk", "future_research"}));
    return trial.Submit(Site(r.values[siteid].text), "trial.consent", id, std::move(p));
  };
  for (size_t i = 0; i < dm->records.size(); ++i) {
    PEDIGREE_TRY(enrol(i));
    PEDIGREE_TRY(consent(i));
  }
  out_ << "  " << dm->records.size()
       << " subjects enrolled and consented by their sites (salted subject refs only)\n";

  for (const auto& site : study.site_ids) {
    for (const scanner::Dataset* d : {&*dm, &*ae}) {
      PEDIGREE_ASSIGN(r, trial.SubmitDataset(Site(site), id, RecordsOfSite(*d, site)));
      out_ << "  site-" << site << " submits " << std::setw(3) << r->submitted << " " << d->domain
           << " records as salted leaves at entry " << r->indices.front() << "\n";
    }
  }

  PEDIGREE_TRY(trial.Lock(Sponsor(), id, "DM", "soft_lock"));
  out_ << "  DM soft-locked (freeze): only corrections with a reason from now on\n";
  scanner::Dataset corrected = RecordsOfSite(*dm, study.site_ids[0]);
  size_t age = ColumnIndex(corrected, "AGE");
  std::string old_age = corrected.records[0].values[age].text;
  corrected.records[0].values[age].text = std::to_string(std::stoi(old_age) + 1);
  corrected.records.resize(1);
  PEDIGREE_TRY(RefusedResult("a correction without a reason",
                             trial.SubmitDataset(Site(study.site_ids[0]), id, corrected),
                             "trial.reason_required"));
  PEDIGREE_ASSIGN(fix, trial.SubmitDataset(Site(study.site_ids[0]), id, corrected,
                                           "AGE transcribed wrongly from the source document"));
  out_ << "  site-" << study.site_ids[0] << " corrects AGE " << old_age << " -> "
       << corrected.records[0].values[age].text << " of "
       << corrected.records[0].values[usubjid].text << " with a reason, entry "
       << fix->indices.front() << " (the old leaf is kept, marked replaced)\n";
  PEDIGREE_TRY(trial.Lock(Sponsor(), id, "DM", "hard_lock"));
  PEDIGREE_TRY(trial.Lock(Sponsor(), id, "AE", "hard_lock"));
  PEDIGREE_TRY(RefusedResult("a new record after the hard lock",
                             trial.SubmitDataset(Site(study.site_ids[1]), id,
                                                 [&] {
                                                   scanner::Dataset extra =
                                                       RecordsOfSite(*ae, study.site_ids[1]);
                                                   extra.records.resize(1);
                                                   size_t seq = ColumnIndex(extra, "AESEQ");
                                                   extra.records[0].values[seq].text = "99";
                                                   return extra;
                                                 }()),
                             "trial.locked"));
  for (const char* domain : {"DM", "AE"}) {
    PEDIGREE_ASSIGN(seal, trial.Seal(Sponsor(), id, domain));
    out_ << "  " << domain << " hard-locked and sealed at entry " << seal->index << ": "
         << seal->summary.record_count << " records, Merkle root "
         << ToHex(seal->summary.root).substr(0, 16) << "…\n";
  }
  PEDIGREE_TRY(RefusedResult("sealing DM a second time", trial.Seal(Sponsor(), id, "DM"),
                             "trial.already_sealed"));

  // The regulator's checks.
  PEDIGREE_ASSIGN(ae_now, scanner::ParseCsv(study.ae_csv, {.domain = "AE"}));
  PEDIGREE_ASSIGN(same, trial.Verify(id, *ae_now));
  out_ << "  the AE file as submitted (CSV, sealed from the same records): "
       << (same->diff.changed.empty() && same->diff.added.empty() && same->diff.deleted.empty()
               ? "IDENTICAL"
               : "CHANGED")
       << "\n";
  scanner::Dataset tampered = *ae_now;
  size_t sev = ColumnIndex(tampered, "AESEV");
  tampered.records[3].values[sev].text = "LIFE THREATENING";
  tampered.records.erase(tampered.records.begin() + 7);
  PEDIGREE_ASSIGN(diff, trial.Verify(id, tampered));
  out_ << "  a candidate AE file with one edited cell and one row removed: "
       << diff->diff.changed.size() << " changed, " << diff->diff.deleted.size() << " deleted\n";
  for (const auto& c : diff->diff.changed) {
    for (const auto& cell : c.cells) {
      out_ << "    changed " << c.key << "  " << cell.column << ": " << cell.sealed.value_or("null")
           << " -> " << cell.candidate.value_or("null") << "\n";
    }
  }
  for (const auto& k : diff->diff.deleted) out_ << "    deleted " << k.key << "\n";

  std::string key = provenance::RecordKey(*ae_now, 0);
  PEDIGREE_ASSIGN(disclosure, trial.Disclose(id, "AE", key));
  std::string disclosure_path = (files / "disclosure-ae.json").string();
  {
    std::ofstream f(disclosure_path, std::ios::binary | std::ios::trunc);
    f << provenance::DisclosureToJson(*disclosure) << "\n";
  }
  std::vector<log::NoteVerifier> verifiers{*log::NoteVerifier::Parse(node_.ledger().VerifierKey())};
  PEDIGREE_ASSIGN(verified, provenance::VerifyDisclosure(*disclosure, verifiers));
  out_ << "  AE record " << verified->record_key << " disclosed alone (" << disclosure_path
       << "): verified with only the log's key against the seal\n";
  provenance::Disclosure wrong = *disclosure;
  wrong.salt[0] ^= 1;
  auto bad = provenance::VerifyDisclosure(wrong, verifiers);
  PEDIGREE_TRY(RefusedResult("the same disclosure with one salt bit flipped", bad,
                             "disclosure.leaf_mismatch"));

  PEDIGREE_ASSIGN(outcomes,
                  trial.CheckOutcomes(id, study.reported_primary, study.reported_secondary));
  out_ << "  outcome check of the publication against the protocol seal:\n";
  for (const auto& o : outcomes->reported_not_sealed)
    out_ << "    reported, never sealed: " << o << "\n";
  for (const auto& o : outcomes->sealed_not_reported)
    out_ << "    sealed, not reported:   " << o << "\n";

  std::string redact_key = provenance::RecordKey(*ae_now, 1);
  PEDIGREE_ASSIGN(redacted, trial.Redact(Sponsor("responsibility"), id, "AE", redact_key,
                                         "the subject's name was typed into AETERM by mistake"));
  PEDIGREE_ASSIGN(after, trial.Verify(id, *ae_now));
  out_ << "  record " << redact_key << " redacted at entry " << *redacted
       << " (data and salt deleted, leaf kept): the seal still verifies, "
       << after->diff.unverifiable.size() << " record now not checkable\n";

  // A participant withdraws and chooses to have the collected data redacted.
  {
    size_t last = dm->records.size() - 1;
    const auto& r = dm->records[last];
    auto p = JsonValue::Object();
    p.set("subjectRef", JsonValue(SubjectRef(r.values[usubjid].text)));
    p.set("withdrawalTime", JsonValue(FormatUtcTime(node_.Now() - 60)));
    p.set("dataChoice", JsonValue("redact"));
    PEDIGREE_ASSIGN(withdrawn,
                    trial.Submit(Site(r.values[siteid].text), "trial.withdraw", id, std::move(p)));
    out_ << "  " << r.values[usubjid].text << " withdraws consent at entry " << *withdrawn
         << " and chooses redaction of the collected data\n";
    PEDIGREE_TRY(
        Refused("a new consent of the withdrawn participant", consent(last), "trial.withdrawn"));
    PEDIGREE_ASSIGN(honoured, trial.HonourWithdrawals(Sponsor("responsibility"), id));
    out_ << "  the sponsor carries the withdrawal out: " << *honoured
         << " records redacted (data and salt deleted, leaves kept)\n";
  }

  PEDIGREE_TRY(Access(trial, id, *dm, *ae_now, files));

  // Investigational product kits.
  std::vector<std::string> kits;
  for (int i = 1; i <= 6; ++i) {
    kits.push_back("https://id.gs1.org/01/" + std::string("0950600900001") +
                   std::to_string(provenance::Gs1CheckDigit("0950600900001")) + "/21/KIT" +
                   std::to_string(1000 + i));
  }
  auto kit_list = [](const std::vector<std::string>& items) {
    auto a = JsonValue::Array();
    for (const auto& k : items) a.push_back(JsonValue(k));
    return a;
  };
  std::string site = "site-" + study.site_ids[0];
  TrialSigner site_signer{site, "Dr " + study.site_ids[0] + " Pharmacist", "responsibility"};
  std::string subject = SubjectRef(dm->records[0].values[usubjid].text);
  PEDIGREE_TRY(trial.Submit(Sponsor("responsibility"), "kit.register", id,
                            JsonValue::Object()
                                .set("kits", kit_list(kits))
                                .set("lot", JsonValue("K2026A"))
                                .set("expiry", JsonValue("2028-06-30"))
                                .set("tempMin", JsonValue(int64_t{20}))
                                .set("tempMax", JsonValue(int64_t{80}))));
  PEDIGREE_TRY(trial.Submit(Sponsor("responsibility"), "kit.ship", id,
                            JsonValue::Object()
                                .set("kits", kit_list(kits))
                                .set("to", JsonValue(site))
                                .set("despatchAdvice", JsonValue("KDA-1"))));
  auto dispense = [&](const std::string& kit) {
    return trial.Submit(
        site_signer, "kit.dispense", id,
        JsonValue::Object().set("kits", kit_list({kit})).set("subjectRef", JsonValue(subject)));
  };
  out_ << "  6 IP kits registered and shipped to " << site << "\n";
  PEDIGREE_TRY(Refused("dispensing a kit before its receipt is registered", dispense(kits[0]),
                       "alert.kit_not_received"));
  PEDIGREE_TRY(trial.Submit(site_signer, "kit.receive", id,
                            JsonValue::Object().set("despatchAdvice", JsonValue("KDA-1"))));
  PEDIGREE_TRY(dispense(kits[0]));
  out_ << "  receipt registered; kit KIT1001 dispensed\n";
  auto reading = JsonValue::Object()
                     .set("time", JsonValue(FormatUtcTime(node_.Now() - 60)))
                     .set("value", JsonValue(int64_t{124}));
  auto readings = JsonValue::Array();
  readings.push_back(std::move(reading));
  PEDIGREE_TRY(trial.Submit(site_signer, "kit.excursion", id,
                            JsonValue::Object()
                                .set("kits", kit_list({kits[1], kits[2]}))
                                .set("readings", std::move(readings))));
  out_ << "  the site fridge logged 12.4 °C: KIT1002 and KIT1003 quarantined\n";
  PEDIGREE_TRY(Refused("dispensing a quarantined kit", dispense(kits[1]), "alert.kit_quarantined"));
  PEDIGREE_TRY(trial.Submit(Sponsor("approval"), "kit.decision", id,
                            JsonValue::Object()
                                .set("kits", kit_list({kits[1]}))
                                .set("decision", JsonValue("release"))
                                .set("reason", JsonValue("stability data cover 12 h at 15 °C"))));
  PEDIGREE_TRY(trial.Submit(Sponsor("approval"), "kit.decision", id,
                            JsonValue::Object()
                                .set("kits", kit_list({kits[2]}))
                                .set("decision", JsonValue("destroy"))
                                .set("reason", JsonValue("seal of the kit box broken"))));
  PEDIGREE_TRY(dispense(kits[1]));
  out_ << "  sponsor releases KIT1002 (dispensed now) and destroys KIT1003, each decision signed\n";
  return Ok();
}

Status TrialScenario::Access(TrialWorkflow& trial, const std::string& id,
                             const scanner::Dataset& dm, const scanner::Dataset& ae,
                             const fs::path& files) {
  const int64_t now = node_.Now();
  const std::string expiry = FormatUtcTime(now + 30 * 86400);
  PEDIGREE_ASSIGN(granted, trial.Submit(Sponsor(), "trial.grant", id,
                                        JsonValue::Object()
                                            .set("grantId", JsonValue("MON-1"))
                                            .set("grantee", JsonValue(kMonitor))
                                            .set("purpose", JsonValue("monitor"))
                                            .set("domains", JsonValue::Strings({"DM"}))
                                            .set("start", JsonValue(FormatUtcTime(now - 60)))
                                            .set("expiry", JsonValue(expiry))));
  out_ << "  " << kSponsor << " grants " << kMonitor << " (monitor) DM reads until " << expiry
       << " at entry " << *granted << "\n";
  // The first subject: enrolled, consented, not withdrawn.
  const std::string usubjid = dm.records[0].values[ColumnIndex(dm, "USUBJID")].text;
  PEDIGREE_ASSIGN(read, trial.DiscloseFor(kMonitor, id, "DM", provenance::RecordKey(dm, 0)));
  out_ << "  " << kMonitor << " reads the DM record of " << usubjid
       << ": recorded as trial.access before the data leave the store\n";
  // Refusals are recorded too (trial.access, outcome refused).
  PEDIGREE_TRY(RefusedResult(std::string(kMonitor) + " reading AE, outside its grant",
                             trial.DiscloseFor(kMonitor, id, "AE", provenance::RecordKey(ae, 2)),
                             "trial.no_grant"));
  PEDIGREE_TRY(trial.Submit(Sponsor(), "trial.revoke_grant", id,
                            JsonValue::Object()
                                .set("grantId", JsonValue("MON-1"))
                                .set("reason", JsonValue("visit over"))));
  PEDIGREE_TRY(RefusedResult(std::string(kMonitor) + " reading DM after MON-1 is revoked",
                             trial.DiscloseFor(kMonitor, id, "DM", provenance::RecordKey(dm, 0)),
                             "trial.no_grant"));

  // The participant's receipt, from the secret the site handed out (here the demo's site salt
  // and the USUBJID; docs/consent.md says why a real secret is random), written to a file
  // and checked from that file with the log's key alone.
  const std::string secret = site_salt_ + usubjid;
  PEDIGREE_ASSIGN(gathered, reports::GatherReceipt(node_.ledger(), id, secret));
  const std::string path = (files / "receipt.json").string();
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << reports::WriteReceipt(*gathered);
    if (!f) return Fail("io.write", "cannot write " + path);
  }
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PEDIGREE_ASSIGN(receipt, reports::ReadReceipt(bytes));
  PEDIGREE_ASSIGN(log_key, log::NoteVerifier::Parse(node_.ledger().VerifierKey()));
  const JsonValue report = reports::VerifyReceipt(
      *receipt, reports::TrustAnchors{*log_key, std::nullopt, {}, std::nullopt}, secret, now);
  const std::string verdict = report.find("verdict")->as_string();
  size_t accesses = 0;
  if (const JsonValue* events = report.find("events"); events && events->is_array()) {
    for (const JsonValue& e : events->as_array()) {
      const JsonValue* kind = e.find("kind");
      accesses += kind && kind->is_string() && kind->as_string() == "trial.access";
    }
  }
  if (verdict != "VERIFIED" || accesses != 1) {
    return Fail("demo.unexpected", "the receipt of " + usubjid + " is " + verdict + " with " +
                                       std::to_string(accesses) +
                                       " accesses, expected VERIFIED "
                                       "with 1: " +
                                       report.find("summary")->as_string());
  }
  out_ << "  receipt of " << usubjid << " (" << path << "): " << verdict
       << " offline with the log's key, " << accesses << " access to the subject's records\n";
  return Ok();
}

}  // namespace

Status RunTrialDemo(SupplyNode& node, const log::PrivateKey& authority, const std::string& dir,
                    std::ostream& out) {
  TrialScenario scenario(node, authority, dir, out);
  return scenario.Run();
}

}  // namespace pedigree::services
