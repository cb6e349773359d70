#include "pedigree/provenance/pack_rules.h"

#include <array>
#include <cstdio>

#include "pedigree/base/error_codes.h"

namespace pedigree::provenance {
namespace {

constexpr std::array<std::string_view, 9> kPackStatusNames = {"active", "supplied", "destroyed",
                                                              "stolen", "sample",   "free_sample",
                                                              "locked", "exported", "checked_out"};

// The alerts without their next steps, which the error registry holds beside each
// "alert.<id>" code (ledger/base/src/error_codes.cpp); DescribeAlert fills them in.
constexpr std::array<AlertDefinition, 21> kAlerts = {{
    {AlertCode::kUnknownProduct, "unknown_product", "",
     "The product code (GTIN) is not registered by any manufacturer.", ""},
    {AlertCode::kUnknownBatch, "unknown_batch", "A2 / NMVS_FE_LOT_03",
     "The product is known but the batch number is not registered for it.", ""},
    {AlertCode::kUnknownSerial, "unknown_serial", "A3 / NMVS_NC_PC_02",
     "No pack with this serial number was commissioned for the product.", ""},
    {AlertCode::kAlreadyDecommissioned, "already_decommissioned", "A24",
     "The pack is no longer active; the answer names its status.", ""},
    {AlertCode::kBatchMismatch, "batch_mismatch", "A68 / NMVS_FE_LOT_13",
     "The batch on the pack differs from the batch the serial was commissioned in.", ""},
    {AlertCode::kExpiryMismatch, "expiry_mismatch", "NMVS_FE_LOT_12",
     "The expiry date on the pack differs from the one registered for its batch.", ""},
    {AlertCode::kExpired, "expired", "", "The batch's expiry date has passed.", ""},
    {AlertCode::kRecalled, "recalled", "", "The manufacturer recalled the batch.", ""},
    {AlertCode::kWithdrawn, "withdrawn", "", "The manufacturer withdrew the batch from the market.",
     ""},
    {AlertCode::kNotInCustody, "not_in_custody", "",
     "The pack is held by another organisation; only the holder may ship, supply or decommission "
     "it.",
     ""},
    {AlertCode::kCloneSuspected, "clone_suspected", "",
     "The same serial was scanned as active in two places.", ""},
    {AlertCode::kReceiveBeforeShip, "receive_before_ship", "",
     "A receipt was recorded for a pack that was never shipped to the receiver.", ""},
    {AlertCode::kAggregationConflict, "aggregation_conflict", "",
     "The aggregation would put a child in two parents or create a cycle.", ""},
    {AlertCode::kTemperatureExcursion, "temperature_excursion", "",
     "A shipment that carried the pack left the product's allowed temperature range.", ""},
    {AlertCode::kUndoTooLate, "undo_too_late", "NMVS_NC_PCK_20",
     "The status was set more than 10 days ago.", ""},
    {AlertCode::kUndoOtherParty, "undo_other_party", "NMVS_NC_PCK_21",
     "Only the organisation that set the status, at the same location, may undo it.", ""},
    {AlertCode::kUndoForbidden, "undo_forbidden", "NMVS_NC_PCK_22",
     "Destroyed and stolen packs, and packs of recalled, withdrawn or expired batches, never "
     "return to active.",
     ""},
    {AlertCode::kUndoNotApplicable, "undo_not_applicable", "NMVS_NC_PCK_06",
     "The pack is active; there is nothing to undo.", ""},
    {AlertCode::kEnrolmentBeforeProtocol, "enrolment_before_protocol", "",
     "A site enrolled a subject in a trial whose sponsor has not yet sealed a protocol with its "
     "outcomes on the ledger.",
     ""},
    {AlertCode::kKitNotReceived, "kit_not_received", "",
     "The kit was dispensed or assigned before the site recorded the receipt of its shipment.", ""},
    {AlertCode::kKitQuarantined, "kit_quarantined", "",
     "The kit is quarantined after a temperature excursion and awaits the sponsor's decision.", ""},
}};

Alert Make(AlertCode code, std::string message) { return Alert{code, std::move(message)}; }

std::string DateText(std::chrono::year_month_day d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

// Batch-level reasons that bar a pack from supply and from undo.
std::optional<Alert> BatchBar(const PackFacts& pack, std::chrono::year_month_day today) {
  if (pack.batch_status == BatchStatus::kRecalled) {
    return Make(AlertCode::kRecalled, "the batch is recalled");
  }
  if (pack.batch_status == BatchStatus::kWithdrawn) {
    return Make(AlertCode::kWithdrawn, "the batch is withdrawn");
  }
  if (IsExpired(pack, today)) {
    return Make(AlertCode::kExpired, "the batch expired on " + DateText(pack.expiry) + " (today " +
                                         DateText(today) + ")");
  }
  return std::nullopt;
}

}  // namespace

std::string_view PackStatusName(PackStatus status) {
  return kPackStatusNames[static_cast<size_t>(status)];
}

Result<PackStatus> ParsePackStatus(std::string_view name) {
  for (size_t i = 0; i < kPackStatusNames.size(); ++i) {
    if (kPackStatusNames[i] == name) return static_cast<PackStatus>(i);
  }
  return Fail(Error("pack.unknown_status", "unknown pack status '" + std::string(name) +
                                               "'; expected one of active, supplied, destroyed, "
                                               "stolen, sample, free_sample, locked, exported, "
                                               "checked_out")
                  .at_field("status"));
}

std::string_view BatchStatusName(BatchStatus status) {
  switch (status) {
    case BatchStatus::kActive:
      return "active";
    case BatchStatus::kRecalled:
      return "recalled";
    case BatchStatus::kWithdrawn:
      return "withdrawn";
  }
  return "?";
}

namespace {

const std::array<AlertDefinition, 21>& Alerts() {
  static const std::array<AlertDefinition, 21> table = [] {
    std::array<AlertDefinition, 21> t = kAlerts;
    for (AlertDefinition& a : t) a.next_step = NextStepFor("alert." + std::string(a.id));
    return t;
  }();
  return table;
}

}  // namespace

const AlertDefinition& DescribeAlert(AlertCode code) { return Alerts()[static_cast<size_t>(code)]; }

std::span<const AlertDefinition> AllAlerts() { return Alerts(); }

std::optional<AlertCode> AlertCodeNamed(std::string_view id) {
  for (const AlertDefinition& a : kAlerts) {
    if (a.id == id) return a.code;
  }
  return std::nullopt;
}

std::string_view AlertClassName(AlertClass cls) {
  switch (cls) {
    case AlertClass::kFalsificationSignal:
      return "falsification_signal";
    case AlertClass::kSlip:
      return "slip";
    case AlertClass::kTechnical:
      return "technical";
  }
  return "?";
}

AlertClass ClassifyAlert(AlertCode code, bool by_status_setter) {
  switch (code) {
    case AlertCode::kAlreadyDecommissioned:
      return by_status_setter ? AlertClass::kSlip : AlertClass::kFalsificationSignal;
    case AlertCode::kUndoTooLate:
    case AlertCode::kUndoOtherParty:
    case AlertCode::kUndoForbidden:
    case AlertCode::kUndoNotApplicable:
    case AlertCode::kReceiveBeforeShip:
    case AlertCode::kAggregationConflict:
    case AlertCode::kEnrolmentBeforeProtocol:
    case AlertCode::kKitNotReceived:
      return AlertClass::kSlip;
    case AlertCode::kExpired:
    case AlertCode::kRecalled:
    case AlertCode::kWithdrawn:
    case AlertCode::kTemperatureExcursion:
    case AlertCode::kKitQuarantined:
      return AlertClass::kTechnical;
    case AlertCode::kUnknownProduct:
    case AlertCode::kUnknownBatch:
    case AlertCode::kUnknownSerial:
    case AlertCode::kBatchMismatch:
    case AlertCode::kExpiryMismatch:
    case AlertCode::kNotInCustody:
    case AlertCode::kCloneSuspected:
      return AlertClass::kFalsificationSignal;
  }
  return AlertClass::kFalsificationSignal;
}

bool AlertWeighs(std::string_view alert_class, std::string_view state,
                 std::string_view classification) {
  if (classification == "confirmed_falsification") return true;
  if (state == kAlertClosed) return false;
  return alert_class != AlertClassName(AlertClass::kSlip) &&
         alert_class != AlertClassName(AlertClass::kTechnical);
}

Error Alert::ToError() const {
  return Error("alert." + std::string(DescribeAlert(code).id), message);
}

bool IsExpired(const PackFacts& pack, std::chrono::year_month_day today) {
  return pack.expiry.ok() && std::chrono::sys_days(today) > std::chrono::sys_days(pack.expiry);
}

RuleResult CheckDecommission(const PackFacts& pack, PackStatus target, const Actor& actor,
                             std::chrono::year_month_day today) {
  if (target == PackStatus::kActive) {
    return std::unexpected(Make(AlertCode::kUndoNotApplicable,
                                "setting a pack active is an undo, not a decommission"));
  }
  if (target != PackStatus::kDestroyed) {
    if (auto bar = BatchBar(pack, today)) return std::unexpected(*bar);
  }
  if (pack.status != PackStatus::kActive) {
    return std::unexpected(Make(AlertCode::kAlreadyDecommissioned,
                                "the pack is already " + std::string(PackStatusName(pack.status))));
  }
  if (pack.holder_org != actor.org) {
    return std::unexpected(
        Make(AlertCode::kNotInCustody, "the pack is not in the custody of " + actor.org));
  }
  if (target == PackStatus::kSupplied && pack.temperature_excursion) {
    return std::unexpected(Make(AlertCode::kTemperatureExcursion,
                                "a shipment carrying the pack left the allowed temperature range"));
  }
  return {};
}

RuleResult CheckUndo(const PackFacts& pack, const Actor& actor, std::chrono::year_month_day today) {
  if (pack.status == PackStatus::kActive) {
    return std::unexpected(Make(AlertCode::kUndoNotApplicable, "the pack is already active"));
  }
  if (pack.status == PackStatus::kDestroyed || pack.status == PackStatus::kStolen) {
    return std::unexpected(
        Make(AlertCode::kUndoForbidden,
             "a " + std::string(PackStatusName(pack.status)) + " pack never returns to active"));
  }
  if (auto bar = BatchBar(pack, today)) {
    return std::unexpected(Make(AlertCode::kUndoForbidden, "no undo: " + bar->message));
  }
  if (pack.status_org != actor.org || pack.status_location != actor.location) {
    return std::unexpected(
        Make(AlertCode::kUndoOtherParty,
             "the status was set by another organisation or at another location; " + actor.org +
                 " at " + actor.location + " may not undo it"));
  }
  int64_t elapsed = actor.time - pack.status_time;
  if (elapsed > kUndoWindow.count()) {
    return std::unexpected(
        Make(AlertCode::kUndoTooLate, "the status was set " + std::to_string(elapsed / 86400) +
                                          " days ago; undo is allowed for 10 days"));
  }
  return {};
}

std::vector<Alert> CheckScan(const PackFacts& pack, std::optional<std::string_view> registered_lot,
                             std::optional<std::string_view> scanned_lot,
                             std::optional<std::chrono::year_month_day> scanned_expiry,
                             std::chrono::year_month_day today) {
  std::vector<Alert> found;
  if (registered_lot && scanned_lot && *registered_lot != *scanned_lot) {
    found.push_back(Make(AlertCode::kBatchMismatch,
                         "the pack shows batch '" + std::string(*scanned_lot) +
                             "', registered batch is '" + std::string(*registered_lot) + "'"));
  }
  if (scanned_expiry && pack.expiry.ok() && *scanned_expiry != pack.expiry) {
    found.push_back(
        Make(AlertCode::kExpiryMismatch, "the pack shows expiry " + DateText(*scanned_expiry) +
                                             ", registered expiry is " + DateText(pack.expiry)));
  }
  if (auto bar = BatchBar(pack, today)) found.push_back(*bar);
  if (pack.status != PackStatus::kActive) {
    found.push_back(Make(AlertCode::kAlreadyDecommissioned,
                         "the pack is " + std::string(PackStatusName(pack.status))));
  }
  if (pack.temperature_excursion) {
    found.push_back(Make(AlertCode::kTemperatureExcursion,
                         "a shipment carrying the pack left the allowed temperature range"));
  }
  return found;
}

}  // namespace pedigree::provenance
