// The kit.* rules: the investigational-product kit state machine of an IRT system
// (registered → in_transit → available → assigned → dispensed → returned, with
// quarantined after a temperature excursion until the sponsor releases or destroys).
// See docs/events.md "Kit kinds".
#include <algorithm>
#include <optional>

#include "payload_fields.h"
#include "pedigree/provenance/pack_rules.h"
#include "pedigree/provenance/provenance.h"
#include "trial_rules.h"

namespace pedigree::provenance {
using namespace fields;
namespace {

constexpr const char* kMalformed = "kit.malformed";
constexpr size_t kMaxKitsPerEvent = 10000;

struct KitRow {
  std::string id;
  std::string state;
  std::string usable_state;
  std::string holder;
  std::string in_transit_to;
  std::string subject_ref;
  std::optional<int64_t> temp_min, temp_max;
};

class KitRules {
 public:
  explicit KitRules(const EventContext& e) : e_(e), db_(e.db) {}

  Status Register(const JsonValue& p);
  Status Ship(const JsonValue& p);
  Status Receive(const JsonValue& p);
  Status Assign(const JsonValue& p);
  Status Dispense(const JsonValue& p);
  Status Return(const JsonValue& p);
  Status Excursion(const JsonValue& p);
  Status Decision(const JsonValue& p);

 private:
  // `kits`: 1..10000 pack ids.
  Result<std::vector<std::string>> KitIds(const JsonValue& p);
  // The kit, which must be a kit of `trial` and not destroyed.
  Result<KitRow> Load(const std::string& trial, const std::string& kit);
  // Kits the acting site may use now: received and not quarantined (else the alerts,
  // whose messages start "<kit id>: " so that the recorded alert names the kit), and
  // held by the actor.
  Status RequireUsable(const KitRow& kit, const char* kind);
  Status SetState(const std::string& kit, const std::string& state);
  Status Record(const std::string& kit);
  Result<std::string> SubjectRef(const JsonValue& p, const TrialFacts& trial, bool required);

  const EventContext& e_;
  log::sql::Connection& db_;
};

Result<std::vector<std::string>> KitRules::KitIds(const JsonValue& p) {
  PEDIGREE_ASSIGN(kits, StrList(p, "kits", kMalformed));
  if (kits->empty() || kits->size() > kMaxKitsPerEvent) {
    return Fail(Error("kit.bad_kit_count",
                      "kits: " + std::to_string(kits->size()) + " kits; an event names 1 to 10000")
                    .at_field("kits"));
  }
  for (const std::string& kit : *kits) {
    auto key = ParsePackId(kit);
    if (!key || PackIdOf(*key) != kit) {
      return Fail(Error("kit.bad_kit_id", "kits: '" + kit +
                                              "' is not a canonical pack id "
                                              "https://id.gs1.org/01/{gtin}/21/{serial}")
                      .at_field("kits"));
    }
  }
  return kits;
}

Result<KitRow> KitRules::Load(const std::string& trial, const std::string& kit) {
  PEDIGREE_ASSIGN(q, db_.Prepare("SELECT trial, state, usable_state, holder, in_transit_to, "
                                 "subject_ref, temp_min, temp_max FROM kits WHERE kit = ?1"));
  q->Bind(1, kit);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row || q->Text(0) != trial) {
    return Fail(Error("kit.unknown_kit", "kits: " + kit + " is not a kit of trial '" + trial + "'")
                    .at_field("kits"));
  }
  KitRow k{kit,        q->Text(1), q->Text(2),   q->Text(3),
           q->Text(4), q->Text(5), std::nullopt, std::nullopt};
  if (!q->IsNull(6)) k.temp_min = q->Int(6);
  if (!q->IsNull(7)) k.temp_max = q->Int(7);
  if (k.state == "destroyed") {
    return Fail(Error("kit.destroyed", "kits: " + kit + " was destroyed; destruction is final")
                    .at_field("kits"));
  }
  return k;
}

Status KitRules::RequireUsable(const KitRow& kit, const char* kind) {
  if (kit.state == "quarantined") {
    return Fail(
        Alert{AlertCode::kKitQuarantined, kit.id + ": quarantined after a temperature excursion; " +
                                              kind + " waits for the sponsor's decision"}
            .ToError()
            .at_field("kits"));
  }
  if (kit.state == "registered" || kit.state == "in_transit") {
    return Fail(Alert{AlertCode::kKitNotReceived,
                      kit.id + ": " + kit.state + "; " + e_.org + " has not recorded its receipt"}
                    .ToError()
                    .at_field("kits"));
  }
  if (kit.holder != e_.org) {
    return Fail(Error("kit.not_holder", "kits: " + kit.id + " is held by '" + kit.holder +
                                            "', not by '" + e_.org + "'")
                    .at_field("kits"));
  }
  return Ok();
}

Status KitRules::SetState(const std::string& kit, const std::string& state) {
  PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET state = ?2 WHERE kit = ?1"));
  q->Bind(1, kit).Bind(2, state);
  PEDIGREE_TRY(q->Run());
  return Record(kit);
}

Status KitRules::Record(const std::string& kit) {
  PEDIGREE_ASSIGN(
      q, db_.Prepare("INSERT INTO kit_events(kit, idx) VALUES(?1, ?2) ON CONFLICT DO NOTHING"));
  q->Bind(1, kit).Bind(2, static_cast<int64_t>(e_.index));
  return q->Run();
}

Result<std::string> KitRules::SubjectRef(const JsonValue& p, const TrialFacts& trial,
                                         bool required) {
  std::string subject = OptStr(p, "subjectRef");
  if (subject.empty()) {
    if (required) return Fail(Malformed("subjectRef", "missing", kMalformed));
    return subject;
  }
  if (!IsLowerHex64(subject)) {
    return Fail(Malformed("subjectRef", "'" + subject + "' must be 64 lowercase hex characters",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_enrolments WHERE trial = ?1 AND "
                                 "subject_ref = ?2"));
  q->Bind(1, trial.id).Bind(2, subject);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(Error("kit.unknown_subject",
                      "subjectRef: " + subject + " is not enrolled in trial '" + trial.id + "'")
                    .at_field("subjectRef"));
  }
  return subject;
}

Status KitRules::Register(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "kit.register", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  PEDIGREE_ASSIGN(lot, Str(p, "lot", kMalformed));
  PEDIGREE_ASSIGN(expiry_text, Str(p, "expiry", kMalformed));
  auto expiry = ParseDate(*expiry_text);
  if (!expiry) return Fail(Malformed("expiry", expiry.error().message(), kMalformed));
  std::optional<int64_t> temp_min, temp_max;
  if (p.find("tempMin")) {
    PEDIGREE_ASSIGN(t, Int(p, "tempMin", kMalformed));
    temp_min = *t;
  }
  if (p.find("tempMax")) {
    PEDIGREE_ASSIGN(t, Int(p, "tempMax", kMalformed));
    temp_max = *t;
  }
  if (temp_min && temp_max && *temp_min > *temp_max) {
    return Fail(Malformed(
        "tempMin", std::to_string(*temp_min) + " is above tempMax " + std::to_string(*temp_max),
        kMalformed));
  }
  for (const std::string& kit : *kits) {
    PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO kits(kit, trial, state, holder, lot, expiry, "
                                   "temp_min, temp_max, registered_idx) "
                                   "VALUES(?1, ?2, 'registered', ?3, ?4, ?5, ?6, ?7, ?8)"));
    q->Bind(1, kit)
        .Bind(2, trial->id)
        .Bind(3, e_.org)
        .Bind(4, *lot)
        .Bind(5, *expiry_text)
        .BindOptional(6, temp_min)
        .BindOptional(7, temp_max)
        .Bind(8, static_cast<int64_t>(e_.index));
    if (!q->Run()) {
      return Fail(Error("kit.already_registered", "kits: " + kit + " is already registered")
                      .at_field("kits"));
    }
    PEDIGREE_TRY(Record(kit));
  }
  return Ok();
}

Status KitRules::Ship(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "kit.ship", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  PEDIGREE_ASSIGN(to, Str(p, "to", kMalformed));
  PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice", kMalformed));
  PEDIGREE_ASSIGN(site, IsTrialSite(e_, trial->id, *to));
  if (!*site) {
    return Fail(
        Error("kit.not_site", "to: '" + *to + "' is not a site of trial '" + trial->id + "'")
            .at_field("to"));
  }
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO kit_shipments(trial, despatch_advice, from_org, "
                                   "to_org, shipped_idx) VALUES(?1, ?2, ?3, ?4, ?5)"));
    q->Bind(1, trial->id)
        .Bind(2, *advice)
        .Bind(3, e_.org)
        .Bind(4, *to)
        .Bind(5, static_cast<int64_t>(e_.index));
    if (!q->Run()) {
      return Fail(
          Error("kit.duplicate_shipment",
                "despatchAdvice: '" + *advice + "' was already used in trial '" + trial->id + "'")
              .at_field("despatchAdvice"));
    }
  }
  for (const std::string& id : *kits) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    if (kit->state != "registered" || kit->holder != e_.org) {
      return Fail(
          Error("kit.bad_transition", "kits: " + id + " is " + kit->state + " at '" + kit->holder +
                                          "'; only registered kits at the sponsor can be shipped")
              .at_field("kits"));
    }
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET in_transit_to = ?2, shipment = ?3 WHERE kit = "
                                   "?1"));
    q->Bind(1, id).Bind(2, *to).Bind(3, *advice);
    PEDIGREE_TRY(q->Run());
    PEDIGREE_TRY(SetState(id, "in_transit"));
  }
  return Ok();
}

Status KitRules::Receive(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSite(e_, *trial, "kit.receive", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice", kMalformed));
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT to_org, received_idx FROM kit_shipments WHERE trial = "
                                   "?1 AND despatch_advice = ?2"));
    q->Bind(1, trial->id).Bind(2, *advice);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(Error("kit.unknown_shipment", "despatchAdvice: no kit shipment '" + *advice +
                                                    "' in trial '" + trial->id + "'")
                      .at_field("despatchAdvice"));
    }
    if (q->Text(0) != e_.org) {
      return Fail(Error("kit.not_addressee", "despatchAdvice: shipment '" + *advice +
                                                 "' is addressed to '" + q->Text(0) + "', not '" +
                                                 e_.org + "'")
                      .at_field("despatchAdvice"));
    }
    if (!q->IsNull(1)) {
      return Fail(Error("kit.already_received", "despatchAdvice: shipment '" + *advice +
                                                    "' was received at index " +
                                                    std::to_string(q->Int(1)))
                      .at_field("despatchAdvice"));
    }
  }
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kit_shipments SET received_idx = ?3 WHERE trial = ?1 "
                                   "AND despatch_advice = ?2"));
    q->Bind(1, trial->id).Bind(2, *advice).Bind(3, static_cast<int64_t>(e_.index));
    PEDIGREE_TRY(q->Run());
  }
  std::vector<std::string> kits;
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT kit FROM kits WHERE trial = ?1 AND shipment = ?2 AND "
                                   "in_transit_to IS NOT NULL"));
    q->Bind(1, trial->id).Bind(2, *advice);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      kits.push_back(q->Text(0));
    }
  }
  for (const std::string& kit : kits) {
    // A kit quarantined in transit stays quarantined; a release makes it available here.
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET holder = ?2, in_transit_to = NULL, state = "
                                   "CASE state WHEN 'in_transit' THEN 'available' ELSE state END, "
                                   "usable_state = CASE state WHEN 'quarantined' THEN 'available' "
                                   "ELSE usable_state END WHERE kit = ?1"));
    q->Bind(1, kit).Bind(2, e_.org);
    PEDIGREE_TRY(q->Run());
    PEDIGREE_TRY(Record(kit));
  }
  return Ok();
}

Status KitRules::Assign(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSite(e_, *trial, "kit.assign", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  PEDIGREE_ASSIGN(subject, SubjectRef(p, *trial, true));
  for (const std::string& id : *kits) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    PEDIGREE_TRY(RequireUsable(*kit, "assignment"));
    if (kit->state != "available") {
      return Fail(Error("kit.bad_transition",
                        "kits: " + id + " is " + kit->state + "; only available kits are assigned")
                      .at_field("kits"));
    }
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET subject_ref = ?2 WHERE kit = ?1"));
    q->Bind(1, id).Bind(2, *subject);
    PEDIGREE_TRY(q->Run());
    PEDIGREE_TRY(SetState(id, "assigned"));
  }
  return Ok();
}

Status KitRules::Dispense(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSite(e_, *trial, "kit.dispense", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  PEDIGREE_ASSIGN(subject, SubjectRef(p, *trial, false));
  for (const std::string& id : *kits) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    PEDIGREE_TRY(RequireUsable(*kit, "dispensing"));
    if (kit->state != "available" && kit->state != "assigned") {
      return Fail(Error("kit.bad_transition", "kits: " + id + " is " + kit->state +
                                                  "; only available or assigned kits are dispensed")
                      .at_field("kits"));
    }
    if (!subject->empty() && !kit->subject_ref.empty() && kit->subject_ref != *subject) {
      return Fail(Error("kit.wrong_subject", "subjectRef: " + id + " is assigned to " +
                                                 kit->subject_ref + ", not " + *subject)
                      .at_field("subjectRef"));
    }
    if (!subject->empty()) {
      PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET subject_ref = ?2 WHERE kit = ?1"));
      q->Bind(1, id).Bind(2, *subject);
      PEDIGREE_TRY(q->Run());
    }
    PEDIGREE_TRY(SetState(id, "dispensed"));
  }
  return Ok();
}

Status KitRules::Return(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSite(e_, *trial, "kit.return", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  for (const std::string& id : *kits) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    if (kit->holder != e_.org || !kit->in_transit_to.empty()) {
      return Fail(Error("kit.not_holder", "kits: " + id + " is not held by '" + e_.org + "'")
                      .at_field("kits"));
    }
    if (kit->state != "available" && kit->state != "assigned" && kit->state != "dispensed") {
      return Fail(Error("kit.bad_transition",
                        "kits: " + id + " is " + kit->state +
                            "; only available, assigned or dispensed kits are returned")
                      .at_field("kits"));
    }
    PEDIGREE_TRY(SetState(id, "returned"));
  }
  return Ok();
}

Status KitRules::Excursion(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_ASSIGN(is_sponsor, RequireSiteOrSponsor(e_, *trial, "kit.excursion", "kit"));
  bool sponsor = *is_sponsor;
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  std::vector<std::string> ids;
  if (p.find("kits")) {
    PEDIGREE_ASSIGN(kits, KitIds(p));
    ids = std::move(*kits);
  } else {
    PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice", kMalformed));
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT to_org FROM kit_shipments WHERE trial = ?1 AND "
                                   "despatch_advice = ?2"));
    q->Bind(1, trial->id).Bind(2, *advice);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(Error("kit.unknown_shipment", "despatchAdvice: no kit shipment '" + *advice +
                                                    "' in trial '" + trial->id + "'")
                      .at_field("despatchAdvice"));
    }
    if (!sponsor && q->Text(0) != e_.org) {
      return Fail(Error("kit.not_addressee", "despatchAdvice: shipment '" + *advice +
                                                 "' is addressed to '" + q->Text(0) + "'")
                      .at_field("despatchAdvice"));
    }
    PEDIGREE_ASSIGN(k, db_.Prepare("SELECT kit FROM kits WHERE trial = ?1 AND shipment = ?2"));
    k->Bind(1, trial->id).Bind(2, *advice);
    while (true) {
      PEDIGREE_ASSIGN(more, k->Step());
      if (!*more) break;
      ids.push_back(k->Text(0));
    }
  }
  PEDIGREE_ASSIGN(range, TemperatureRange(p, kMalformed));
  PEDIGREE_TRY(CheckSensorBounds(p, kMalformed));
  for (const std::string& id : ids) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    if (!sponsor && p.find("kits") && (kit->holder != e_.org || !kit->in_transit_to.empty())) {
      return Fail(Error("kit.not_holder", "kits: " + id + " is not held by '" + e_.org + "'")
                      .at_field("kits"));
    }
    bool outside = (kit->temp_min && range->first < *kit->temp_min) ||
                   (kit->temp_max && range->second > *kit->temp_max);
    bool usable = kit->state == "registered" || kit->state == "in_transit" ||
                  kit->state == "available" || kit->state == "assigned";
    if (!outside || !usable) {
      PEDIGREE_TRY(Record(id));
      continue;
    }
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE kits SET usable_state = state WHERE kit = ?1"));
    q->Bind(1, id);
    PEDIGREE_TRY(q->Run());
    PEDIGREE_TRY(SetState(id, "quarantined"));
  }
  return Ok();
}

Status KitRules::Decision(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "kit"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "kit.decision", "kit"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "kit"));
  PEDIGREE_ASSIGN(kits, KitIds(p));
  PEDIGREE_ASSIGN(decision, Str(p, "decision", kMalformed));
  if (*decision != "release" && *decision != "destroy") {
    return Fail(
        Malformed("decision", "'" + *decision + "' must be release or destroy", kMalformed));
  }
  if (OptStr(p, "reason").empty()) {
    return Fail(Error("kit.reason_required",
                      "reason: a " + *decision + " decision needs the written reason")
                    .at_field("reason"));
  }
  for (const std::string& id : *kits) {
    PEDIGREE_ASSIGN(kit, Load(trial->id, id));
    if (*decision == "destroy") {
      PEDIGREE_TRY(SetState(id, "destroyed"));
      continue;
    }
    if (kit->state != "quarantined") {
      return Fail(Error("kit.not_quarantined", "kits: " + id + " is " + kit->state +
                                                   "; only quarantined kits are released")
                      .at_field("kits"));
    }
    PEDIGREE_TRY(SetState(id, kit->usable_state.empty() ? "available" : kit->usable_state));
  }
  return Ok();
}

}  // namespace

Status ApplyKitEvent(const EventContext& event, const std::string& kind, const JsonValue& p) {
  KitRules rules(event);
  if (kind == "kit.register") return rules.Register(p);
  if (kind == "kit.ship") return rules.Ship(p);
  if (kind == "kit.receive") return rules.Receive(p);
  if (kind == "kit.assign") return rules.Assign(p);
  if (kind == "kit.dispense") return rules.Dispense(p);
  if (kind == "kit.return") return rules.Return(p);
  if (kind == "kit.excursion") return rules.Excursion(p);
  if (kind == "kit.decision") return rules.Decision(p);
  return Fail(Error("event.unknown_kind", "unknown event kind '" + kind + "'").at_field("kind"));
}

}  // namespace pedigree::provenance
