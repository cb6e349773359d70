#include "pedigree/demo/demo.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <span>

#include "demo_trial.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;

std::string WithCheckDigit(const std::string& body) {
  return body + std::to_string(provenance::Gs1CheckDigit(body));
}

struct OrgSpec {
  std::string id, name, role, prefix;
  std::string gln() const { return WithCheckDigit(prefix + std::string(12 - prefix.size(), '0')); }
};

struct Product {
  std::string gtin, name, maker;
  bool cold;
};

struct Batch {
  const Product* product;
  std::string lot, expiry;
  std::vector<std::string> serials;
  std::vector<std::string> cases;  // SSCCs, CaseSize(packs per batch) packs each
  std::string pallet;
};

// The case layout every step relies on: case t (t < 3) of a batch goes to pharmacy t, case 3
// onwards stays with the wholesaler. In each case the first `per_product` packs are dispensed
// (for the products a pharmacy dispenses) and the last two stay active for the refusals.
size_t CaseSize(size_t packs_per_batch) {
  return std::max<size_t>(5, std::min<size_t>(100, (packs_per_batch + 9) / 10));
}

class Scenario {
 public:
  Scenario(SupplyNode& node, log::PrivateKey& authority, std::ostream& out, const DemoOptions& o)
      : node_(node),
        authority_(authority),
        out_(out),
        options_(o),
        case_size_(CaseSize(o.packs_per_batch)),
        per_product_(std::clamp<size_t>((o.dispenses_per_pharmacy + 4) / 5, 2, case_size_ - 2)) {}

  Status Run();
  const DemoOutcome& outcome() const { return outcome_; }

 private:
  // Pack `offset` of case `c` of a batch.
  size_t At(size_t c, size_t offset) const { return c * case_size_ + offset; }
  // A step that must succeed.
  Result<uint64_t> Do(const std::string& org, JsonValue payload) {
    auto r = node_.SubmitAs(org, std::move(payload));
    ++events_;
    if (!r) return Fail(r.error().with_context("demo step by " + org));
    return r;
  }
  // A step the rules must refuse with `code`; prints the refusal.
  Status Refused(const std::string& what, const std::string& org, JsonValue payload,
                 const std::string& code) {
    auto r = node_.SubmitAs(org, std::move(payload));
    if (r) return Fail("demo.unexpected", what + " was accepted; expected " + code);
    if (r.error().code() != code) {
      return Fail("demo.unexpected", what + " refused with " + r.error().code() + ", expected " +
                                         code + ": " + r.error().message());
    }
    out_ << "  refused  " << std::left << std::setw(52) << what << r.error().code() << "\n";
    return Ok();
  }
  static JsonValue Event(const std::string& kind) {
    auto p = JsonValue::Object();
    p.set("kind", JsonValue(kind));
    return p;
  }
  std::string PackId(const Batch& b, size_t i) const {
    return provenance::PackId(*provenance::Gtin::Parse(b.product->gtin),
                              *provenance::Serial::Parse(b.serials[i]))
        .DigitalLinkUri();
  }
  std::string Sscc(const OrgSpec& org) {
    std::string ref = std::to_string(++sscc_counter_);
    std::string body = "0" + org.prefix;
    body += std::string(17 - body.size() - ref.size(), '0') + ref;
    return WithCheckDigit(body);
  }
  Status Ship(const OrgSpec& from, const OrgSpec& to, const std::vector<std::string>& epcs,
              const std::string& advice) {
    auto ship = Event("ship");
    ship.set("epcs", JsonValue::Strings(epcs));
    ship.set("to", JsonValue(to.id));
    ship.set("toLocation", JsonValue(to.gln()));
    ship.set("despatchAdvice", JsonValue(advice));
    PEDIGREE_TRY(Do(from.id, ship));
    return Ok();
  }
  Status Receive(const OrgSpec& from, const OrgSpec& to, const std::string& advice) {
    auto receive = Event("receive");
    receive.set("from", JsonValue(from.id));
    receive.set("despatchAdvice", JsonValue(advice));
    receive.set("location", JsonValue(to.gln()));
    PEDIGREE_TRY(Do(to.id, receive));
    return Ok();
  }
  JsonValue Dispense(const OrgSpec& pharmacy, const std::string& pack_id) {
    return DispensePayload({pack_id}, pharmacy.gln());
  }
  // The raw string a DataMatrix scanner sends for the pack: ]d2 01 17 10 <GS> 21.
  std::string ScannerString(const Batch& b, size_t i) const {
    std::string yymmdd = b.expiry.substr(2, 2) + b.expiry.substr(5, 2) + b.expiry.substr(8, 2);
    return "]d201" + b.product->gtin + "17" + yymmdd + "10" + b.lot +
           "\x1d"
           "21" +
           b.serials[i];
  }
  void PrintVerify(const std::string& label, const std::string& code) {
    auto v = node_.Verify(code);
    out_ << "  verify   " << std::left << std::setw(52) << label;
    if (!v) {
      out_ << "error " << v.error().code() << ": " << v.error().message() << "\n";
      return;
    }
    out_ << (v->verified ? "VERIFIED" : "NOT VERIFIED") << " (" << v->status << ")";
    for (const auto& r : v->reasons) out_ << " [" << provenance::DescribeAlert(r.code).id << "]";
    out_ << "\n";
    for (const auto& hint : v->scan_hints) out_ << "           hint: " << hint << "\n";
  }

  SupplyNode& node_;
  log::PrivateKey& authority_;
  std::ostream& out_;
  DemoOptions options_;
  size_t case_size_;    // packs per case
  size_t per_product_;  // packs of each product a pharmacy dispenses, from the front of its case
  size_t events_ = 0;
  int sscc_counter_ = 0;
  DemoOutcome outcome_;
};

Status Scenario::Run() {
  const std::vector<OrgSpec> orgs = {
      {"alpha-pharma", "Alpha Pharma GmbH", "manufacturer", "9506001"},
      {"beta-biologics", "Beta Biologics SA", "manufacturer", "9506002"},
      {"north-wholesale", "North Wholesale AG", "wholesaler", "4012345"},
      {"south-wholesale", "South Wholesale KG", "wholesaler", "4012346"},
      {"apotheke-1", "Apotheke am Markt", "dispenser", "4000001"},
      {"apotheke-2", "Stadt-Apotheke", "dispenser", "4000002"},
      {"hospital-3", "Klinikum Nord Apotheke", "dispenser", "4000003"},
  };
  const OrgSpec &alpha = orgs[0], &beta = orgs[1], &north = orgs[2], &south = orgs[3];
  const OrgSpec &ph1 = orgs[4], &ph2 = orgs[5], &ph3 = orgs[6];
  auto start = std::chrono::steady_clock::now();

  out_ << "\n1. The consortium authority registers 7 organisations (keys held by this node)\n";
  for (const OrgSpec& o : orgs) {
    log::PrivateKey key = log::PrivateKey::Generate();
    PEDIGREE_TRY(node_.HoldKey(o.id, key));
    PEDIGREE_TRY(node_.RegisterOrg(
        authority_,
        {o.id, o.name, {o.role}, {o.prefix}, {o.gln()}, ToBase64(key.public_key().raw())}));
    out_ << "  " << std::left << std::setw(16) << o.id << std::setw(14) << o.role << "GLN "
         << o.gln() << "  key " << key.public_key().Fingerprint() << "\n";
  }

  out_ << "\n2. Manufacturers register 5 products and 10 batches and commission "
       << 10 * options_.packs_per_batch << " packs with random serials\n";
  std::vector<Product> products = {
      {WithCheckDigit("0" + alpha.prefix + "00011"), "Examplamab 10 mg/ml injection", alpha.id,
       true},
      {WithCheckDigit("0" + alpha.prefix + "00028"), "Paracetamol 500 mg tablets", alpha.id, false},
      {WithCheckDigit("0" + alpha.prefix + "00035"), "Amoxicillin 250 mg capsules", alpha.id,
       false},
      {WithCheckDigit("0" + beta.prefix + "00012"), "Insulin glargine 100 U/ml pen", beta.id, true},
      {WithCheckDigit("0" + beta.prefix + "00029"), "Metformin 850 mg tablets", beta.id, false},
  };
  for (const Product& p : products) {
    auto reg = Event("product.register");
    reg.set("gtin", JsonValue(p.gtin));
    reg.set("name", JsonValue(p.name));
    if (p.cold) {
      reg.set("tempMin", JsonValue(int64_t{20}));  // +2.0 °C
      reg.set("tempMax", JsonValue(int64_t{80}));  // +8.0 °C
    }
    PEDIGREE_TRY(Do(p.maker, reg));
  }
  std::vector<Batch> batches;
  for (size_t i = 0; i < products.size(); ++i) {
    for (int b = 0; b < 2; ++b) {
      Batch batch{&products[i],
                  "L" + std::to_string(2026100 + 10 * i + b),
                  b == 0 ? "2028-03-31" : "2028-04-30",
                  {},
                  {},
                  {}};
      auto reg = Event("batch.register");
      reg.set("gtin", JsonValue(batch.product->gtin));
      reg.set("lot", JsonValue(batch.lot));
      reg.set("expiry", JsonValue(batch.expiry));
      reg.set("quantity", JsonValue(static_cast<int64_t>(options_.packs_per_batch)));
      PEDIGREE_TRY(Do(batch.product->maker, reg));
      batch.serials = provenance::RandomSerials(options_.packs_per_batch);
      const OrgSpec& maker = batch.product->maker == alpha.id ? alpha : beta;
      for (size_t from = 0; from < batch.serials.size(); from += 500) {
        auto c = Event("commission");
        c.set("gtin", JsonValue(batch.product->gtin));
        c.set("lot", JsonValue(batch.lot));
        c.set("location", JsonValue(maker.gln()));
        c.set("serials",
              JsonValue::Strings(
                  std::span(batch.serials)
                      .subspan(from, std::min<size_t>(500, batch.serials.size() - from))));
        PEDIGREE_TRY(Do(maker.id, c));
      }
      batches.push_back(std::move(batch));
    }
  }
  out_ << "  e.g. " << products[0].name << ": GTIN " << products[0].gtin << ", batch "
       << batches[0].lot << ", first pack " << PackId(batches[0], 0) << "\n";

  out_ << "\n3. Packs go into cases of " << case_size_
       << ", cases onto one pallet per batch; pallets ship to "
          "wholesalers\n";
  for (Batch& b : batches) {
    const OrgSpec& maker = b.product->maker == alpha.id ? alpha : beta;
    for (size_t from = 0; from < b.serials.size(); from += case_size_) {
      std::vector<std::string> children;
      for (size_t i = from; i < std::min(from + case_size_, b.serials.size()); ++i)
        children.push_back(PackId(b, i));
      auto agg = Event("aggregate");
      b.cases.push_back(Sscc(maker));
      agg.set("parent", JsonValue(b.cases.back()));
      agg.set("children", JsonValue::Strings(children));
      PEDIGREE_TRY(Do(maker.id, agg));
    }
    auto pallet = Event("aggregate");
    b.pallet = Sscc(maker);
    pallet.set("parent", JsonValue(b.pallet));
    pallet.set("children", JsonValue::Strings(b.cases));
    PEDIGREE_TRY(Do(maker.id, pallet));
  }
  int advice = 0;
  auto next_advice = [&advice] { return "DA-" + std::to_string(10000 + ++advice); };
  for (Batch& b : batches) {
    const OrgSpec& maker = b.product->maker == alpha.id ? alpha : beta;
    const OrgSpec& to = b.product->maker == alpha.id ? north : south;
    std::string da = next_advice();
    PEDIGREE_TRY(Ship(maker, to, {b.pallet}, da));
    PEDIGREE_TRY(Receive(maker, to, da));
    auto unpack = Event("disaggregate");
    unpack.set("parent", JsonValue(b.pallet));
    PEDIGREE_TRY(Do(to.id, unpack));
  }
  out_ << "  " << batches.size()
       << " pallets shipped and received; scanning a pallet or case covered every pack inside\n";

  out_ << "\n4. Wholesalers ship cases on to the pharmacies; one insulin shipment gets too warm\n";
  std::string warm_advice;
  for (size_t i = 0; i < batches.size(); ++i) {
    Batch& b = batches[i];
    const OrgSpec& ws = b.product->maker == alpha.id ? north : south;
    const OrgSpec* targets[] = {&ph1, &ph2, &ph3};
    for (int t = 0; t < 3; ++t) {
      std::string da = next_advice();
      PEDIGREE_TRY(Ship(ws, *targets[t], {b.cases[t]}, da));
      if (b.product->gtin == products[3].gtin && t == 2 && warm_advice.empty()) {
        warm_advice = da;
        // The readings come signed by the wholesaler's own data logger, which the authority
        // registered: the excursion is the logger's word, not only the wholesaler's
        // (docs/epcis.md, "Device-signed sensor data").
        // Its GIAI as a Digital Link: the hash IDs read it alike (docs/epcis.md).
        const std::string device = "https://id.gs1.org/8004/" + ws.prefix + "LOGGER-" + da;
        const log::PrivateKey logger = log::PrivateKey::Generate();
        PEDIGREE_TRY(node_.SubmitAsAuthority(authority_, "org.device_add", "device-" + da,
                                             JsonValue::Object()
                                                 .set("id", ws.id)
                                                 .set("device", device)
                                                 .set("key", ToBase64(logger.public_key().raw()))
                                                 .set("label", "reefer logger")));
        const std::string at = FormatUtcTime(node_.Now() - 3600);
        auto reports = JsonValue::Array();
        for (const char* celsius : {"4.5", "6.1", "12.3", "9.8"}) {  // peaks at 12.3 °C
          reports.push_back(JsonValue::Object()
                                .set("type", "Temperature")
                                .set("time", at)
                                .set("value", celsius)
                                .set("uom", "CEL"));
        }
        auto element =
            JsonValue::Object()
                .set("sensorMetadata", JsonValue::Object().set("time", at).set("deviceID", device))
                .set("sensorReport", std::move(reports));
        PEDIGREE_ASSIGN(bytes, provenance::DeviceSignedBytes(element, "sensorElementList[0]"));
        element.set(
            std::string(provenance::kDeviceSignatureMember),
            JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(logger.Sign(*bytes))));
        auto elements = JsonValue::Array();
        elements.push_back(std::move(element));
        auto sensor = Event("sensor");
        sensor.set("from", JsonValue(ws.id));
        sensor.set("despatchAdvice", JsonValue(da));
        sensor.set("sensorElementList", std::move(elements));
        PEDIGREE_TRY(Do(ws.id, sensor));
        out_ << "  shipment " << da << " to " << ph3.id
             << ": logger peaked at 12.3 °C (allowed 2.0–8.0 °C)\n"
             << "  the readings are signed by the wholesaler's data logger " << device << " (key "
             << ToBase64(logger.public_key().raw()) << ")\n";
      }
      PEDIGREE_TRY(Receive(ws, *targets[t], da));
    }
  }

  out_ << "\n5. Pharmacies scan and dispense (" << 5 * per_product_ << " packs each)\n";
  const OrgSpec* pharmacies[] = {&ph1, &ph2, &ph3};
  size_t dispensed = 0;
  for (int t = 0; t < 3; ++t) {
    for (size_t k = 0; k < 5 * per_product_; ++k) {
      const Batch& b = batches[(k % 5) * 2];                        // first batch of each product
      if (b.product->gtin == products[3].gtin && t == 2) continue;  // the warm shipment
      size_t pack = At(t, k / 5);
      auto v = node_.Verify(ScannerString(b, pack));
      if (!v) return std::unexpected(v.error());
      if (!v->verified)
        return Fail("demo.unexpected", "pack " + PackId(b, pack) + " did not verify");
      PEDIGREE_TRY(Do(pharmacies[t]->id, Dispense(*pharmacies[t], PackId(b, pack))));
      ++dispensed;
    }
  }
  out_ << "  " << dispensed << " packs verified and dispensed, each a signed event\n";
  const Batch& first = batches[0];
  PrintVerify("a dispensed pack, scanned again", ScannerString(first, At(0, 0)));
  {
    auto undo = Event("undo");
    undo.set("epcs", JsonValue::Strings({PackId(first, At(0, 0))}));
    undo.set("location", JsonValue(ph1.gln()));
    PEDIGREE_TRY(Do(ph1.id, undo));
    out_ << "  apotheke-1 undid that dispense within 10 days: the pack is active again\n";
  }
  {
    // Replaying an offline buffer: same clientId, nothing new appended.
    auto d = Dispense(ph1, PackId(first, At(0, case_size_ - 2)));
    d.set("clientId", JsonValue("offline-buffer-0001"));
    PEDIGREE_ASSIGN(a, Do(ph1.id, d));
    PEDIGREE_ASSIGN(b, Do(ph1.id, d));
    out_ << "  an offline buffer replayed: clientId offline-buffer-0001 answered index " << *a
         << " twice (" << (*a == *b ? "nothing appended" : "DUPLICATE") << ")\n";
  }

  out_ << "\n6. Alpha Pharma recalls batch " << batches[2].lot << " (" << batches[2].product->name
       << ")\n";
  {
    auto recall = Event("batch.status");
    recall.set("gtin", JsonValue(batches[2].product->gtin));
    recall.set("lot", JsonValue(batches[2].lot));
    recall.set("status", JsonValue("recalled"));
    recall.set("reason", JsonValue("out-of-specification dissolution result"));
    PEDIGREE_TRY(Do(alpha.id, recall));
    auto reach = node_.Read([&](provenance::ProvenanceView& v) {
      return v.RecallReach(batches[2].product->gtin, batches[2].lot);
    });
    if (!reach) return std::unexpected(reach.error());
    out_ << "  recall reach (who holds the batch now):\n";
    for (const auto& h : *reach) {
      out_ << "    " << std::left << std::setw(18) << h.holder << std::setw(12) << h.status
           << h.packs << " packs"
           << (h.in_transit_to.empty() ? "" : " in transit to " + h.in_transit_to) << "\n";
    }
  }

  out_ << "\n7. What the rules refuse (each refusal is recorded as a signed alert event)\n";
  PEDIGREE_TRY(Refused("dispense a pack of the recalled batch", ph1.id,
                       Dispense(ph1, PackId(batches[2], At(0, case_size_ - 1))), "alert.recalled"));
  std::string warm_pack = PackId(batches[6], At(2, 0));  // case 2 of the first insulin batch
  PEDIGREE_TRY(Refused("dispense insulin from the warm shipment", ph3.id, Dispense(ph3, warm_pack),
                       "alert.temperature_excursion"));
  PEDIGREE_TRY(Refused("apotheke-2 dispenses a pack active at apotheke-1", ph2.id,
                       Dispense(ph2, PackId(batches[0], At(0, case_size_ - 1))),
                       "alert.clone_suspected"));
  PEDIGREE_TRY(Refused("hospital-3 dispenses a pack held by north-wholesale", ph3.id,
                       Dispense(ph3, PackId(batches[0], At(3, 0))), "alert.not_in_custody"));
  {
    auto ghost = Event("receive");
    ghost.set("from", JsonValue(north.id));
    ghost.set("despatchAdvice", JsonValue("DA-GHOST"));
    ghost.set("location", JsonValue(ph3.gln()));
    PEDIGREE_TRY(Refused("hospital-3 receives a shipment never sent", ph3.id, ghost,
                         "alert.receive_before_ship"));
  }
  PEDIGREE_TRY(Refused("apotheke-1 dispenses the same pack twice", ph1.id,
                       Dispense(ph1, PackId(batches[0], At(0, 1))),
                       "alert.already_decommissioned"));
  {
    auto undo = Event("undo");
    undo.set("epcs", JsonValue::Strings({PackId(batches[0], At(0, 1))}));
    undo.set("location", JsonValue(ph2.gln()));
    PEDIGREE_TRY(
        Refused("apotheke-2 undoes apotheke-1's dispense", ph2.id, undo, "alert.undo_other_party"));
  }
  {
    auto cycle = Event("aggregate");
    cycle.set("parent", JsonValue(batches[0].cases.back()));
    cycle.set("children", JsonValue::Strings({batches[0].cases.back()}));
    PEDIGREE_TRY(
        Refused("a case that contains itself", north.id, cycle, "alert.aggregation_conflict"));
  }

  out_ << "\n8. Pharmacy scans: verdicts in microseconds, with reasons\n";
  PrintVerify("an active pack (DataMatrix, ]d2 + GS)",
              ScannerString(batches[4], At(1, case_size_ - 1)));
  PrintVerify("a pack of the recalled batch", ScannerString(batches[2], At(1, case_size_ - 1)));
  PrintVerify("insulin from the warm shipment", ScannerString(batches[6], At(2, 1)));
  PrintVerify("a pack with a wrong batch printed", "(01)" + batches[4].product->gtin +
                                                       "(17)280331(10)L9999999(21)" +
                                                       batches[4].serials[At(1, case_size_ - 2)]);
  PrintVerify("a counterfeit serial", "(01)" + products[0].gtin + "(21)FAKE0000001");
  {
    std::string s = ScannerString(batches[4], At(1, case_size_ - 1));
    s.erase(s.find('\x1d'), 1);  // a scanner that drops the group separator
    PrintVerify("a read that lost its group separator", s);
  }
  {
    auto timer = std::chrono::steady_clock::now();
    const int n = 2000;
    for (int i = 0; i < n; ++i)
      (void)node_.Verify(ScannerString(batches[8], i % batches[8].serials.size()));
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - timer)
                    .count() /
                n;
    out_ << "  " << n << " verifications in-process: " << std::fixed << std::setprecision(1) << us
         << " µs each (EU requirement: 300 ms)\n";
  }

  PEDIGREE_TRY(RunTrialDemo(node_, authority_, options_.dir, out_));

  out_ << "\n10. Alerts on the ledger, newest first\n";
  auto alerts = node_.Read([](provenance::ProvenanceView& v) { return v.Alerts("", 20); });
  if (!alerts) return std::unexpected(alerts.error());
  for (const auto& a : *alerts) {
    out_ << "  #" << a.index << "  " << std::left << std::setw(24) << a.code << std::setw(17)
         << a.subject_org << a.message.substr(0, 90) << "\n";
  }

  auto& ledger = node_.ledger();
  PEDIGREE_ASSIGN(checkpoint, ledger.SignCheckpoint());
  out_ << "\n11. Anyone can check the history: signed checkpoint (C2SP signed note)\n"
       << checkpoint->note;
  PEDIGREE_ASSIGN(history, node_.Read([&](provenance::ProvenanceView& v) {
    return v.PackHistory(batches[0].product->gtin, batches[0].serials[At(0, 0)]);
  }));
  std::vector<log::NoteVerifier> verifiers{*log::NoteVerifier::Parse(ledger.VerifierKey())};
  PEDIGREE_ASSIGN(note, log::OpenNote(checkpoint->note, verifiers));
  PEDIGREE_ASSIGN(body, log::ParseCheckpoint(note->text));
  size_t proven = 0;
  for (uint64_t index : *history) {
    PEDIGREE_ASSIGN(entry, ledger.Entry(index));
    PEDIGREE_ASSIGN(opened, log::OpenEntry(*entry));
    PEDIGREE_ASSIGN(proof, ledger.ProveInclusion(index, body->size));
    PEDIGREE_TRY(log::VerifyInclusion(index, body->size, log::LeafHash(AsBytes(*entry)),
                                      proof->path, body->root));
    ++proven;
  }
  outcome_ = {"(01)" + batches[0].product->gtin + "(21)" + batches[0].serials[At(0, 0)],
              batches[0].product->maker};
  out_ << "  pack " << PackId(batches[0], At(0, 0)) << ": " << proven
       << " events, each signature and inclusion proof verified against that checkpoint\n";
  PEDIGREE_ASSIGN(audit, ledger.Audit());
  if (!audit->ok()) return Fail(*audit->problem);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out_ << "  audit: all " << audit->size
       << " entries re-hashed and signature-checked, no problem found\n";
  out_ << "\n"
       << events_ << " commands in " << std::setprecision(1) << seconds
       << " s. Ledger: " << ledger.dir() << "  (log key: " << ledger.VerifierKey() << ")\n";
  return Ok();
}

}  // namespace

Result<DemoLedger> CreateDemoLedger(const DemoOptions& options, std::ostream& out) {
  if (options.packs_per_batch < kMinPacksPerBatch || options.packs_per_batch > kMaxPacksPerBatch) {
    return Fail(Error("cli.usage", "--packs-per-batch " + std::to_string(options.packs_per_batch) +
                                       " is outside " + std::to_string(kMinPacksPerBatch) + ".." +
                                       std::to_string(kMaxPacksPerBatch))
                    .at_field("packs-per-batch"));
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  std::string authority_path = (fs::path(options.dir) / "authority-key.pem").string();
  log::PrivateKey authority = log::PrivateKey::Generate();
  PEDIGREE_TRY(authority.SavePem(authority_path));
  out << "consortium authority key " << authority.public_key().Fingerprint() << " in "
      << authority_path << " (mode 0600)\n";
  PEDIGREE_ASSIGN(node, SupplyNode::Create((fs::path(options.dir) / "ledger").string(),
                                           "demo.pedigree.example/supply", authority.public_key()));
  return DemoLedger{std::move(authority), *std::move(node)};
}

Result<DemoOutcome> RunScenario(DemoLedger& ledger, const DemoOptions& options, std::ostream& out) {
  Scenario scenario(*ledger.node, ledger.authority, out, options);
  PEDIGREE_TRY(scenario.Run());
  return scenario.outcome();
}

Status RunDemo(const DemoOptions& options, std::ostream& out) {
  out << "== pedigree demo: a national supply chain on one embedded SQLite ledger\n";
  PEDIGREE_ASSIGN(ledger, CreateDemoLedger(options, out));
  PEDIGREE_TRY(RunScenario(*ledger, options, out));
  return Ok();
}

}  // namespace pedigree::services
