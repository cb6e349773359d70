// VerifyPack: the one verification of a pack's evidence, whichever source it came from.
#include "pedigree/reports/pack_report.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <set>

#include "entry_checks.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/pack_rules.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/evidence_index.h"

namespace pedigree::reports {
namespace {

using internal::Check;
using internal::Str;
using internal::StrList;
using internal::Warn;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::chrono::year_month_day DayOf(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

// The verification in progress: the report's arrays and what the evidence has taught so far.
class PackVerification {
 public:
  PackVerification(const PackEvidence& evidence, const TrustAnchors& anchors, int64_t now)
      : evidence_(evidence),
        anchors_(anchors),
        now_(now),
        v_({evidence.authority_key, evidence.checkpoint, evidence.latest_checkpoint,
            evidence.consistency, evidence.entries},
           anchors, "pack's evidence") {}

  JsonValue Run();

 private:
  // evidence.complete: the log's signed evidence index against the entries at hand.
  void CheckCompleteness();

  void Violation(std::string code, std::string message, uint64_t index, int64_t time,
                 const std::string& org, const std::string& location) {
    auto v = JsonValue::Object()
                 .set("code", std::move(code))
                 .set("message", std::move(message))
                 .set("index", index)
                 .set("time", FormatUtcTime(time));
    if (!org.empty()) v.set("org", org);
    if (!location.empty()) v.set("location", location);
    violations_.push_back(std::move(v));
  }

  // Replays the custody rules for one verified event; returns the rules check and fills
  // the event's summary.
  // `sequenced_at`: the leaf's sequencing time, which the rules judge by; without one
  // (version 1 leaves) the payload's claimed time.
  JsonValue Replay(uint64_t index, const JsonValue& payload, std::optional<int64_t> sequenced_at,
                   std::string& summary);
  bool ConcernsPack(const std::vector<std::string>& epcs) const;
  std::string OrgName(const std::string& org) const { return v_.OrgName(org); }

  const PackEvidence& evidence_;
  const TrustAnchors& anchors_;
  int64_t now_;
  internal::EntryVerification v_;

  JsonArray violations_, events_, alerts_, registry_;
  bool completeness_proven_ = false;

  // Custody replay state.
  std::string gtin_, serial_;
  bool commissioned_ = false;
  provenance::PackFacts facts_;
  std::string lot_, expiry_, product_name_, manufacturer_;
  // Nesting as the replay learns it: the case the pack is directly in, and the parent of every
  // container seen; containers_ is the chain from the pack's case up to the outermost.
  std::string pack_parent_;
  std::map<std::string, std::string> container_parent_;
  std::set<std::string> containers_;
  void UpdateChain() {
    containers_.clear();
    for (std::string c = pack_parent_; !c.empty() && containers_.insert(c).second;) {
      auto it = container_parent_.find(c);
      c = it == container_parent_.end() ? std::string() : it->second;
    }
  }
  std::string in_transit_to_, in_transit_from_, despatch_advice_;
  std::map<std::string, std::string> batch_expiry_;  // lot -> expiry, of this GTIN
  // The alerts about the pack, by ledger index: their position in alerts_ and when raised.
  struct RaisedAlert {
    size_t at = 0;
    int64_t time = 0;
  };
  std::map<uint64_t, RaisedAlert> raised_;
  uint64_t batch_status_index_ = 0;
  int64_t batch_status_time_ = 0;
  std::string batch_status_reason_;
};

bool PackVerification::ConcernsPack(const std::vector<std::string>& epcs) const {
  return std::any_of(epcs.begin(), epcs.end(), [&](const std::string& e) {
    return e == evidence_.pack || containers_.count(e) > 0;
  });
}

JsonValue PackVerification::Replay(uint64_t index, const JsonValue& p,
                                   std::optional<int64_t> sequenced_at, std::string& summary) {
  std::string kind = Str(p, "kind");
  std::string org = Str(p, "org");
  std::string location = Str(p, "location");
  int64_t time = sequenced_at ? *sequenced_at : ParseUtcTime(Str(p, "time")).value_or(0);
  size_t before = violations_.size();
  auto violate = [&](std::string code, std::string message) {
    Violation("rules." + code, std::move(message), index, time, org, location);
  };
  auto need_custody = [&](const char* what) {
    if (!commissioned_) {
      violate("not_commissioned", std::string(what) + " before the pack was commissioned");
    } else if (facts_.holder_org != org) {
      violate("not_in_custody", std::string(what) + " by '" + org + "' while '" +
                                    facts_.holder_org + "' holds the pack");
    } else if (!in_transit_to_.empty()) {
      violate("not_in_custody", std::string(what) + " by '" + org +
                                    "' while the pack is in transit to '" + in_transit_to_ + "'");
    }
  };
  // Evidence may only tell this pack's story: an authentic entry about another pack (a bundle
  // could carry one to fake custody) is a violation, not a step of the replay.
  auto unrelated = [&](bool related) {
    if (!related) {
      violate("unrelated_event", kind + " at entry " + std::to_string(index) +
                                     " does not name this pack or a case holding it");
    }
    return !related;
  };
  if (kind == "commission") {
    auto serials = StrList(p, "serials");
    if (unrelated(Str(p, "gtin") == gtin_ &&
                  std::find(serials.begin(), serials.end(), serial_) != serials.end())) {
      summary = "commission of other packs";
      return Check("rules", false, violations_.back().find("message")->as_string());
    }
  } else if (kind == "ship" || kind == "decommission" || kind == "undo" || kind == "verify") {
    if (unrelated(ConcernsPack(StrList(p, "epcs")))) {
      summary = kind + " of other packs";
      return Check("rules", false, violations_.back().find("message")->as_string());
    }
  } else if (kind == "aggregate" && !containers_.count(Str(p, "parent")) &&
             !ConcernsPack(StrList(p, "children")) && !StrList(p, "children").empty() &&
             std::ranges::all_of(StrList(p, "children"), [](const std::string& c) {
               return provenance::Sscc::Parse(c).has_value();
             })) {
    // Context: where a case was before this pack went into it (a case already on a pallet).
    // Nothing about the pack changes; the nesting is remembered for when it does.
    std::string parent = Str(p, "parent");
    for (const std::string& child : StrList(p, "children")) container_parent_[child] = parent;
    UpdateChain();
    summary = "case " + Join(StrList(p, "children")) + " put onto " + parent + " by " +
              OrgName(org) + " (before this pack was inside)";
    return Check("rules", true, "nesting context; the pack's custody is unchanged");
  } else if (kind == "aggregate" || kind == "disaggregate") {
    auto children = StrList(p, "children");
    bool related =
        containers_.count(Str(p, "parent")) > 0 || ConcernsPack(children) ||
        (kind == "disaggregate" && children.empty() && containers_.count(Str(p, "parent")) > 0);
    if (unrelated(related)) {
      summary = kind + " of other packs";
      return Check("rules", false, violations_.back().find("message")->as_string());
    }
  }
  if (kind == "product.register") {
    summary = "product " + Str(p, "gtin") + " registered: " + Str(p, "name");
  } else if (kind == "batch.register") {
    // Lot and expiry shown and judged are those of the batch the commissioning names, never
    // of another product's batch a bundle might carry.
    summary = "batch " + Str(p, "lot") + " registered, expiry " + Str(p, "expiry");
    if (!unrelated(Str(p, "gtin") == gtin_)) {
      batch_expiry_[Str(p, "lot")] = Str(p, "expiry");
      if (commissioned_ && Str(p, "lot") == lot_) {
        expiry_ = Str(p, "expiry");
        if (auto d = ParseDate(expiry_)) facts_.expiry = *d;
      }
    } else {
      summary = "batch of another product";
    }
  } else if (kind == "commission") {
    summary = "commissioned by " + OrgName(org) + " at " + location + ", lot " + Str(p, "lot");
    if (commissioned_) violate("commissioned_twice", "the pack was already commissioned");
    if (!commissioned_) {
      lot_ = Str(p, "lot");
      auto registered = batch_expiry_.find(lot_);
      expiry_ = registered == batch_expiry_.end() ? std::string() : registered->second;
      if (auto d = ParseDate(expiry_)) facts_.expiry = *d;
    }
    commissioned_ = true;
    facts_.holder_org = org;
    facts_.status = provenance::PackStatus::kActive;
  } else if (kind == "aggregate") {
    std::string parent = Str(p, "parent");
    auto children = StrList(p, "children");
    const bool direct =
        std::find(children.begin(), children.end(), evidence_.pack) != children.end();
    summary =
        (direct ? "packed into case " : "its case packed into ") + parent + " by " + OrgName(org);
    need_custody("aggregation");
    for (const std::string& child : children) {
      if (child == evidence_.pack) {
        pack_parent_ = parent;
      } else if (containers_.count(child) > 0) {
        container_parent_[child] = parent;
      }
    }
    UpdateChain();
  } else if (kind == "disaggregate") {
    std::string parent = Str(p, "parent");
    const bool direct = parent == pack_parent_;
    summary = (direct ? "unpacked from case " : "its case unpacked from ") + parent + " by " +
              OrgName(org);
    need_custody("disaggregation");
    auto children = StrList(p, "children");
    if (children.empty()) {
      // Everything directly in the parent comes out.
      if (pack_parent_ == parent) pack_parent_.clear();
      for (auto& [child, up] : container_parent_) {
        if (up == parent) up.clear();
      }
    } else {
      for (const std::string& child : children) {
        if (child == evidence_.pack && pack_parent_ == parent) pack_parent_.clear();
        auto it = container_parent_.find(child);
        if (it != container_parent_.end() && it->second == parent) it->second.clear();
      }
    }
    UpdateChain();
  } else if (kind == "ship") {
    std::string to = Str(p, "to");
    summary = "shipped to " + OrgName(to) + ", advice " + Str(p, "despatchAdvice");
    need_custody("shipment");
    in_transit_to_ = to;
    in_transit_from_ = org;
    despatch_advice_ = Str(p, "despatchAdvice");
  } else if (kind == "receive") {
    summary =
        "received by " + OrgName(org) + " at " + location + ", advice " + Str(p, "despatchAdvice");
    if (in_transit_to_.empty() || in_transit_to_ != org ||
        despatch_advice_ != Str(p, "despatchAdvice")) {
      violate("receive_before_ship",
              "'" + org + "' receives advice " + Str(p, "despatchAdvice") + " but the pack is " +
                  (in_transit_to_.empty() ? std::string("not in transit")
                                          : "in transit to '" + in_transit_to_ + "' under advice " +
                                                despatch_advice_));
    } else {
      facts_.holder_org = org;
      in_transit_to_.clear();
      in_transit_from_.clear();
      despatch_advice_.clear();
    }
  } else if (kind == "decommission") {
    auto status = provenance::ParsePackStatus(Str(p, "status"));
    summary = "decommissioned as " + Str(p, "status") + " by " + OrgName(org) + " at " + location;
    if (!status) {
      violate("bad_status", "unknown status '" + Str(p, "status") + "'");
    } else if (!commissioned_) {
      violate("not_commissioned", "decommission before the pack was commissioned");
    } else if (auto r = provenance::CheckDecommission(facts_, *status, {org, location, time},
                                                      DayOf(time));
               !r) {
      violate(std::string(provenance::DescribeAlert(r.error().code).id), r.error().message);
    } else {
      facts_.status = *status;
      facts_.status_org = org;
      facts_.status_location = location;
      facts_.status_time = time;
    }
  } else if (kind == "undo") {
    summary = "undo to active by " + OrgName(org) + " at " + location;
    if (auto r = provenance::CheckUndo(facts_, {org, location, time}, DayOf(time)); !r) {
      violate(std::string(provenance::DescribeAlert(r.error().code).id), r.error().message);
    } else {
      facts_.status = provenance::PackStatus::kActive;
      facts_.status_org.clear();
      facts_.status_location.clear();
      facts_.status_time = time;
    }
  } else if (kind == "batch.status") {
    std::string s = Str(p, "status");
    summary = "batch " + Str(p, "lot") + " " + s + ": " + Str(p, "reason");
    if (Str(p, "gtin") == gtin_ && Str(p, "lot") == lot_) {
      facts_.batch_status = s == "recalled"    ? provenance::BatchStatus::kRecalled
                            : s == "withdrawn" ? provenance::BatchStatus::kWithdrawn
                                               : provenance::BatchStatus::kActive;
      batch_status_index_ = index;
      batch_status_time_ = time;
      batch_status_reason_ = Str(p, "reason");
    }
  } else if (kind == "sensor") {
    summary = "temperature record for advice " + Str(p, "despatchAdvice");
  } else if (kind == "verify") {
    const JsonValue* v = p.find("verified");
    summary = "scanned by " + OrgName(org) + " at " + location + ": " +
              (v && v->is_bool() && v->as_bool() ? "verified" : "not verified");
  } else if (kind == "alert") {
    std::string code = Str(p, "code");
    std::string subject = Str(p, "subjectOrg");
    summary = "alert " + code + " raised against " + OrgName(subject) + ": " + Str(p, "message");
    // Classed as the rules class it, from the pack as it is when the alert is raised.
    const auto alert_code = provenance::AlertCodeNamed(code);
    const auto cls = alert_code ? provenance::ClassifyAlert(
                                      *alert_code, commissioned_ && facts_.status_org == subject)
                                : provenance::AlertClass::kFalsificationSignal;
    auto a = JsonValue::Object()
                 .set("index", index)
                 .set("code", code)
                 .set("class", std::string(provenance::AlertClassName(cls)))
                 .set("state", std::string(provenance::kAlertOpen))
                 .set("time", Str(p, "time"))
                 .set("org", subject)
                 .set("message", Str(p, "message"));
    if (const JsonValue* n = p.find("suppressed"); n && n->is_int() && n->as_int() > 0) {
      a.set("suppressed", n->as_int());
    }
    raised_[index] = {alerts_.size(), time};
    alerts_.push_back(std::move(a));
  } else if (kind == "alert.investigate" || kind == "alert.close") {
    const JsonValue* n = p.find("alert");
    const uint64_t alert =
        n && n->is_int() && n->as_int() >= 0 ? static_cast<uint64_t>(n->as_int()) : 0;
    auto it = n && n->is_int() ? raised_.find(alert) : raised_.end();
    const bool closing = kind == "alert.close";
    summary = "alert #" + std::to_string(alert) + (closing ? " closed" : " under investigation") +
              " by " + OrgName(org) +
              (closing ? " as " + Str(p, "classification") + ": " + Str(p, "reason") : "");
    if (unrelated(it != raised_.end())) {
      summary = kind + " of an alert not in the evidence";
    } else if (org != manufacturer_ && !v_.HasRole(org, "regulator")) {
      violate("alert_forbidden", "'" + org + "' is neither the manufacturer nor a regulator");
    } else {
      JsonValue& a = alerts_[it->second.at];
      if (Str(a, "state") == provenance::kAlertClosed) {
        violate("alert_closed", "alert #" + std::to_string(alert) + " was already closed");
      } else {
        a.set("state",
              std::string(closing ? provenance::kAlertClosed : provenance::kAlertInvestigating))
            .set("actor", org)
            .set("changedAt", index);
        if (closing) {
          a.set("classification", Str(p, "classification")).set("reason", Str(p, "reason"));
        }
      }
    }
  } else {
    summary = kind;
  }
  size_t added = violations_.size() - before;
  if (kind == "alert" && added == 0) {
    return Warn("rules", "the log recorded a refusal about this pack");
  }
  if (added == 0) return Check("rules", true, "custody rules hold");
  return Check("rules", false, violations_.back().find("message")->as_string());
}

void PackVerification::CheckCompleteness() {
  completeness_proven_ =
      internal::CheckCompleteness(v_, anchors_, evidence_.pack, evidence_.evidence_index,
                                  evidence_.evidence_index_signature, "pack");
}

JsonValue PackVerification::Run() {
  auto id = ParsePackCode(evidence_.pack);
  if (id) {
    gtin_ = id->gtin().value();
    serial_ = id->serial().value();
  } else {
    v_.Fail("report.not_a_pack", "the evidence names no pack: " + id.error().message());
  }
  v_.VerifyCheckpoints();
  v_.VerifyAuthority();
  v_.OpenEntries();
  CheckCompleteness();
  v_.LearnRegistry();
  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    if (!v_.opened(i)) continue;
    const JsonValue& p = v_.opened(i)->payload;
    if (Str(p, "kind") == "product.register" && Str(p, "gtin") == gtin_) {
      product_name_ = Str(p, "name");
      manufacturer_ = Str(p, "org");
    }
  }

  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    const EvidenceEntry& entry = evidence_.entries[i];
    bool signature_ok = false;
    JsonValue checks = v_.EntryChecks(i, signature_ok);
    const JsonValue payload = v_.opened(i) ? v_.opened(i)->payload : JsonValue::Object();
    std::string kind = Str(payload, "kind");
    std::string org = Str(payload, "org");
    auto event = JsonValue::Object().set("index", entry.index).set("kind", kind);
    // Both times: the one the author claims and the log's own (empty for version 1 leaves).
    event.set("time", Str(payload, "time"))
        .set("sequencedTime", v_.opened(i) ? v_.opened(i)->sequenced_text : std::string())
        .set("org", org)
        .set("orgName", OrgName(org));
    if (!Str(payload, "location").empty()) event.set("location", Str(payload, "location"));
    event.set("key", v_.opened(i) ? v_.opened(i)->key.Fingerprint() : std::string());
    if (kind.rfind("org.", 0) == 0) {
      std::string subject = Str(payload, "id");
      registry_.push_back(event.set("subject", subject)
                              .set("summary", kind + " for " + subject)
                              .set("checks", std::move(checks)));
      continue;
    }
    std::string summary = signature_ok ? "" : "unreadable: the entry fails verification";
    if (signature_ok)
      checks.push_back(Replay(entry.index, payload, v_.opened(i)->sequenced_at, summary));
    if (signature_ok && kind == "sensor") {
      JsonValue readings = v_.SensorReadings(i);
      summary += internal::SensorAttributionText(readings);
      event.set("sensorReadings", std::move(readings));
    }
    event.set("summary", summary)
        .set("statusAfter", commissioned_ ? std::string(provenance::PackStatusName(facts_.status))
                                          : std::string("not commissioned"))
        .set("holderAfter", facts_.holder_org);
    event.set("checks", std::move(checks));
    events_.push_back(std::move(event));
  }

  // An alert weighs by its state at the end: open falsification signals and confirmed
  // falsifications; slips, technical alerts and alerts closed as errors are listed only.
  for (auto& [index, raised] : raised_) {
    JsonValue& a = alerts_[raised.at];
    const bool weighs =
        provenance::AlertWeighs(Str(a, "class"), Str(a, "state"), Str(a, "classification"));
    a.set("weighs", weighs);
    if (weighs) {
      Violation("alert." + Str(a, "code"), Str(a, "message"), index, raised.time, Str(a, "org"),
                "");
    }
  }

  JsonArray& failures_ = v_.failures();
  // Batch-level judgement at report time.
  if (facts_.batch_status != provenance::BatchStatus::kActive &&
      facts_.status != provenance::PackStatus::kDestroyed) {
    std::string s(provenance::BatchStatusName(facts_.batch_status));
    Violation("rules.batch_" + s, "batch " + lot_ + " was " + s + ": " + batch_status_reason_,
              batch_status_index_, batch_status_time_, manufacturer_, "");
  } else if (commissioned_ && facts_.status == provenance::PackStatus::kActive &&
             provenance::IsExpired(facts_, DayOf(now_))) {
    Violation("rules.expired", "the pack expired on " + expiry_ + " and is still active",
              evidence_.entries.empty() ? 0 : evidence_.entries.back().index, now_, "", "");
  }
  if (!commissioned_ && failures_.empty()) {
    Violation("rules.not_commissioned", "the evidence holds no commissioning of the pack", 0, now_,
              "", "");
  }

  std::string verdict = internal::VerdictOf(failures_, violations_);
  std::string status = commissioned_ ? std::string(provenance::PackStatusName(facts_.status))
                                     : std::string("unknown");
  std::string summary;
  if (verdict == "FAILED") {
    const JsonValue& f = failures_.front();
    summary = "The evidence for this pack is broken (" + f.find("code")->as_string() +
              (f.find("index") ? " at entry " + std::to_string(f.find("index")->as_int()) : "") +
              "): do not rely on its history.";
  } else if (verdict == "SUSPECT") {
    summary = "The history is authentic but " + std::to_string(violations_.size()) +
              " problem(s) speak against this pack, first: " +
              violations_.front().find("message")->as_string() + ".";
  } else {
    summary = "Every event of this pack is signed, logged and follows the custody rules; it is " +
              status + (facts_.holder_org.empty() ? "" : " with " + OrgName(facts_.holder_org)) +
              "." +
              (completeness_proven_
                   ? ""
                   : " Completeness is not proven: the evidence has no evidence index signed by "
                     "the log, so an entry left out would go unnoticed.");
  }
  auto subject = JsonValue::Object()
                     .set("pack", evidence_.pack)
                     .set("gtin", gtin_)
                     .set("serial", serial_)
                     .set("lot", lot_)
                     .set("expiry", expiry_)
                     .set("productName", product_name_)
                     .set("manufacturer", manufacturer_)
                     .set("status", status)
                     .set("holder", facts_.holder_org);
  if (!in_transit_to_.empty()) subject.set("inTransitTo", in_transit_to_);
  if (facts_.batch_status != provenance::BatchStatus::kActive) {
    subject.set("batchStatus", std::string(provenance::BatchStatusName(facts_.batch_status)));
  }
  return JsonValue::Object()
      .set("format", "pedigree-report/v1")
      .set("report", "pack")
      .set("generatedAt", FormatUtcTime(now_))
      .set("verdict", verdict)
      .set("summary", summary)
      .set("subject", std::move(subject))
      .set("log", std::move(v_.log()))
      .set("checks", std::move(v_.checks()))
      .set("events", std::move(events_))
      .set("registry", std::move(registry_))
      .set("alerts", std::move(alerts_))
      .set("failures", std::move(failures_))
      .set("violations", std::move(violations_));
}

}  // namespace

JsonValue VerifyPack(const PackEvidence& evidence, const TrustAnchors& anchors,
                     int64_t generated_at) {
  return PackVerification(evidence, anchors, generated_at).Run();
}

}  // namespace pedigree::reports
