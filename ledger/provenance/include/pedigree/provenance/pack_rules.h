// The pack rules of the provenance model: EU FMD pack statuses, the undo window and
// the coded alerts a refusal raises. Pure functions over the facts of one pack; the
// caller looks the facts up and records what the rules decide. See docs/alerts.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::provenance {

// Pack-level statuses (Delegated Regulation (EU) 2016/161). Every status but kActive
// is a decommissioned state.
enum class PackStatus : uint8_t {
  kActive,
  kSupplied,  // dispensed to the public
  kDestroyed,
  kStolen,
  kSample,
  kFreeSample,
  kLocked,
  kExported,
  kCheckedOut,
};

// Batch-level statuses set by the manufacturer. Expiry is not stored: it follows from
// the batch's expiry date and the day of the decision.
enum class BatchStatus : uint8_t { kActive, kRecalled, kWithdrawn };

// "active", "supplied", "destroyed", "stolen", "sample", "free_sample", "locked",
// "exported", "checked_out".
std::string_view PackStatusName(PackStatus status);
[[nodiscard]] Result<PackStatus> ParsePackStatus(std::string_view name);
std::string_view BatchStatusName(BatchStatus status);

enum class AlertCode : uint8_t {
  kUnknownProduct,
  kUnknownBatch,
  kUnknownSerial,
  kAlreadyDecommissioned,
  kBatchMismatch,
  kExpiryMismatch,
  kExpired,
  kRecalled,
  kWithdrawn,
  kNotInCustody,
  kCloneSuspected,
  kReceiveBeforeShip,
  kAggregationConflict,
  kTemperatureExcursion,
  kUndoTooLate,
  kUndoOtherParty,
  kUndoForbidden,
  kUndoNotApplicable,
  // Clinical trials (docs/events.md, trial and kit kinds).
  kEnrolmentBeforeProtocol,
  kKitNotReceived,
  kKitQuarantined,
};

// What an alert means and what the user should do next; the table behind docs/alerts.md.
struct AlertDefinition {
  AlertCode code;
  std::string_view id;    // stable identifier, e.g. "unknown_serial"
  std::string_view emvs;  // the EU system's nearest alert or NMVS return code, or ""
  std::string_view cause;
  std::string_view next_step;
};

const AlertDefinition& DescribeAlert(AlertCode code);
std::span<const AlertDefinition> AllAlerts();

// The alert called `id` ("unknown_serial"), or nothing for an unknown id.
std::optional<AlertCode> AlertCodeNamed(std::string_view id);

// What a recorded alert says about the pack it names (docs/alerts.md, "Classes").
enum class AlertClass : uint8_t {
  // May mean a falsified or diverted pack: weighs on the pack's verdict while open.
  kFalsificationSignal,
  // A member's own process mistake that the rules stopped (dispensing a pack twice, an undo
  // from the wrong place or too late): listed, never weighs unless confirmed.
  kSlip,
  // Restates a status the ledger already holds (expired, recalled, withdrawn, excursion),
  // which the verdict weighs by itself: listed, never weighs unless confirmed.
  kTechnical,
};

// "falsification_signal", "slip", "technical".
std::string_view AlertClassName(AlertClass cls);

// The class of an alert with `code`. `by_status_setter`: the refused organisation is the
// one that set the pack's current status, which makes already_decommissioned a slip (the
// same organisation dispensing twice) rather than a second pack with the same code.
AlertClass ClassifyAlert(AlertCode code, bool by_status_setter);

// The lifecycle of a recorded alert (alert.investigate, alert.close): its states and the
// classifications a close must give.
inline constexpr std::string_view kAlertOpen = "open";
inline constexpr std::string_view kAlertInvestigating = "investigating";
inline constexpr std::string_view kAlertClosed = "closed";
inline constexpr std::string_view kAlertClassifications[] = {"technical_error", "process_error",
                                                             "confirmed_falsification"};

// Whether an alert weighs on the verdict of the pack or batch it names: a confirmed
// falsification always; an alert closed otherwise never; an open or investigated one
// when its class is falsification_signal. Unknown classes weigh (fail safe).
bool AlertWeighs(std::string_view alert_class, std::string_view state,
                 std::string_view classification);

// A refusal by the rules: the alert code and a message naming the values involved.
struct Alert {
  AlertCode code;
  std::string message;
  // As an Error: code "alert.<id>", same message.
  Error ToError() const;
};

using RuleResult = std::expected<void, Alert>;

// Undo is possible for this long after the status change (Art. 13: ten days).
inline constexpr std::chrono::seconds kUndoWindow{10 * 24 * 3600};

// What the rules need to know about one pack when a command arrives.
struct PackFacts {
  PackStatus status = PackStatus::kActive;
  // Who set the current status, where and when (unix seconds). Empty for packs that
  // have been active since commissioning.
  std::string status_org;
  std::string status_location;
  int64_t status_time = 0;
  std::string holder_org;  // the organisation with custody
  BatchStatus batch_status = BatchStatus::kActive;
  std::chrono::year_month_day expiry{};  // last day the pack may be supplied
  bool temperature_excursion = false;
};

// Who acts, where (GLN) and when (unix seconds).
struct Actor {
  std::string org;
  std::string location;
  int64_t time = 0;
};

// True once `today` is after the expiry date.
bool IsExpired(const PackFacts& pack, std::chrono::year_month_day today);

// May `actor` move the pack from active to `target`? Refusals, in order: target is
// kActive (use undo), batch recalled / withdrawn / expired (destruction stays allowed
// so that the holder can dispose of such stock), already decommissioned (the message
// names the status, not the other party), not in the actor's custody, and for
// kSupplied a temperature excursion.
[[nodiscard]] RuleResult CheckDecommission(const PackFacts& pack, PackStatus target,
                                           const Actor& actor, std::chrono::year_month_day today);

// May `actor` return a decommissioned pack to active? Only the organisation that set
// the status, at the same location, within kUndoWindow, never for destroyed or stolen
// packs nor for packs of a recalled, withdrawn or expired batch.
[[nodiscard]] RuleResult CheckUndo(const PackFacts& pack, const Actor& actor,
                                   std::chrono::year_month_day today);

// Compares what was scanned with what the manufacturer registered, and reports every
// reason the pack must not be supplied, most serious first. Empty means the pack is
// active and may be supplied.
std::vector<Alert> CheckScan(const PackFacts& pack, std::optional<std::string_view> registered_lot,
                             std::optional<std::string_view> scanned_lot,
                             std::optional<std::chrono::year_month_day> scanned_expiry,
                             std::chrono::year_month_day today);

}  // namespace pedigree::provenance
