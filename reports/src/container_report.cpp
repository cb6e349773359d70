// The container report: gathering a case's or pallet's evidence and verifying it, with a
// replay of its contents and custody. Shares the entry checks and the evidence index with the
// pack report.
#include "pedigree/reports/container_report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "entry_checks.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/evidence_index.h"

namespace pedigree::reports {
namespace {

using internal::Check;
using internal::EnvelopeCache;
using internal::Str;
using internal::StrList;

constexpr std::string_view kContainerUriPrefix = "https://id.gs1.org/00/";

Result<std::set<uint64_t>> SelectEntries(log::Ledger& ledger, provenance::ProvenanceView& view,
                                         EnvelopeCache& envelopes, const provenance::Sscc& sscc,
                                         std::optional<uint64_t> limit) {
  PEDIGREE_ASSIGN(container, view.Container(sscc.value()));
  if (!*container || (limit && (*container)->created_index >= *limit)) {
    return Fail(Error("report.no_such_container", "no case or pallet " + sscc.value() +
                                                      " was ever aggregated on log " +
                                                      ledger.origin())
                    .at_field("code"));
  }
  PEDIGREE_ASSIGN(history, view.ContainerHistory(sscc.value()));
  std::set<uint64_t> indices;
  for (uint64_t i : *history) {
    if (limit && i >= *limit) break;
    indices.insert(i);
    // Where the pallet it is put onto already was (its older aggregations).
    JsonValue p = envelopes.Payload(i);
    auto children = StrList(p, "children");
    if (Str(p, "kind") == "aggregate" &&
        std::find(children.begin(), children.end(), sscc.value()) != children.end()) {
      PEDIGREE_TRY(internal::AddNestingContext(view, envelopes, Str(p, "parent"), i, indices));
    }
  }
  PEDIGREE_TRY(
      internal::AddRegistryEntries(ledger, view, envelopes, indices, {"org", "to"}, limit));
  return indices;
}

class ContainerVerification {
 public:
  ContainerVerification(const PackEvidence& evidence, const TrustAnchors& anchors, int64_t now)
      : evidence_(evidence),
        anchors_(anchors),
        now_(now),
        v_({evidence.authority_key, evidence.checkpoint, evidence.latest_checkpoint,
            evidence.consistency, evidence.entries},
           anchors, "container's evidence") {}

  JsonValue Run();

 private:
  JsonValue Replay(uint64_t index, const JsonValue& p, std::string& summary);
  void UpdateChain() {
    chain_.clear();
    for (std::string c = me_; !c.empty() && chain_.insert(c).second;) {
      auto it = up_.find(c);
      c = it == up_.end() ? std::string() : it->second;
    }
  }
  bool Concerns(const std::vector<std::string>& epcs) const {
    return std::any_of(epcs.begin(), epcs.end(),
                       [&](const std::string& e) { return chain_.count(e) > 0; });
  }

  const PackEvidence& evidence_;
  const TrustAnchors& anchors_;
  int64_t now_;
  internal::EntryVerification v_;
  JsonArray violations_, events_, registry_, contents_log_;

  std::string me_;
  bool created_ = false;
  std::string holder_, in_transit_to_, despatch_advice_;
  std::map<std::string, std::string> up_;  // me and every container above: its parent
  std::set<std::string> chain_;            // me and the containers I am (transitively) in
  std::set<std::string> contents_;         // what is directly inside me
};

JsonValue ContainerVerification::Replay(uint64_t index, const JsonValue& p, std::string& summary) {
  std::string kind = Str(p, "kind");
  std::string org = Str(p, "org");
  int64_t time = ParseUtcTime(Str(p, "time")).value_or(0);
  size_t before = violations_.size();
  auto violate = [&](std::string code, std::string message) {
    auto v = JsonValue::Object()
                 .set("code", "rules." + std::move(code))
                 .set("message", std::move(message))
                 .set("index", index)
                 .set("time", FormatUtcTime(time));
    if (!org.empty()) v.set("org", org);
    violations_.push_back(std::move(v));
  };
  auto need_custody = [&](const std::string& what) {
    if (!created_) {
      violate("not_in_custody", what + " before the container was first packed");
    } else if (holder_ != org) {
      violate("not_in_custody", what + " by '" + org + "' while '" + holder_ + "' holds it");
    } else if (!in_transit_to_.empty()) {
      violate("not_in_custody",
              what + " by '" + org + "' while it is in transit to '" + in_transit_to_ + "'");
    }
  };
  auto change = [&](const char* what, std::vector<std::string> items) {
    auto list = JsonValue::Array();
    for (const std::string& i : items) list.push_back(i);
    contents_log_.push_back(JsonValue::Object()
                                .set("index", index)
                                .set("time", Str(p, "time"))
                                .set("org", org)
                                .set("change", what)
                                .set("items", std::move(list)));
  };
  std::string parent = Str(p, "parent");
  std::vector<std::string> children = StrList(p, "children");
  if (kind == "aggregate") {
    if (parent == me_) {
      if (!created_) {
        created_ = true;
        holder_ = org;
      } else {
        need_custody("packing into it");
      }
      contents_.insert(children.begin(), children.end());
      summary = std::to_string(children.size()) + " item(s) packed into it by " + v_.OrgName(org);
      change("added", children);
    } else if (std::find(children.begin(), children.end(), me_) != children.end()) {
      need_custody("putting it onto " + parent);
      up_[me_] = parent;
      summary = "put onto " + parent + " by " + v_.OrgName(org);
    } else if (Concerns(children)) {
      for (const std::string& c : children) {
        if (chain_.count(c) > 0) up_[c] = parent;
      }
      summary = "the container holding it put onto " + parent + " by " + v_.OrgName(org);
    } else {
      // Below it, or context: where a pallet it later goes onto already was.
      for (const std::string& c : children) {
        if (provenance::Sscc::Parse(c)) up_[c] = parent;
      }
      summary = "contents of " + parent + " changed by " + v_.OrgName(org);
    }
  } else if (kind == "disaggregate") {
    if (parent == me_) {
      need_custody("unpacking it");
      std::vector<std::string> removed;
      if (children.empty()) {
        removed.assign(contents_.begin(), contents_.end());
        contents_.clear();
      } else {
        for (const std::string& c : children) {
          if (contents_.erase(c) > 0) removed.push_back(c);
        }
      }
      summary = std::to_string(removed.size()) + " item(s) unpacked from it by " + v_.OrgName(org);
      change("removed", removed);
    } else if (chain_.count(parent) > 0) {
      for (auto& [c, up] : up_) {
        if (up == parent &&
            (children.empty() || std::find(children.begin(), children.end(), c) != children.end()))
          up.clear();
      }
      summary = "unpacked from " + parent + " by " + v_.OrgName(org);
    } else {
      summary = "contents of " + parent + " inside it unpacked by " + v_.OrgName(org);
    }
  } else if (kind == "ship") {
    if (!Concerns(StrList(p, "epcs"))) {
      violate("unrelated_event", "ship at entry " + std::to_string(index) +
                                     " does not name this container or one holding it");
    } else {
      need_custody("shipment");
      in_transit_to_ = Str(p, "to");
      despatch_advice_ = Str(p, "despatchAdvice");
    }
    summary = "shipped to " + v_.OrgName(Str(p, "to")) + ", advice " + Str(p, "despatchAdvice");
  } else if (kind == "receive") {
    summary = "received by " + v_.OrgName(org) + ", advice " + Str(p, "despatchAdvice");
    if (in_transit_to_.empty() || in_transit_to_ != org ||
        despatch_advice_ != Str(p, "despatchAdvice")) {
      violate("receive_before_ship",
              "'" + org + "' receives advice " + Str(p, "despatchAdvice") +
                  " but the container is " +
                  (in_transit_to_.empty() ? std::string("not in transit")
                                          : "in transit to '" + in_transit_to_ + "'"));
    } else {
      holder_ = org;
      in_transit_to_.clear();
      despatch_advice_.clear();
    }
  } else {
    summary = kind;
  }
  UpdateChain();
  if (violations_.size() == before) return Check("rules", true, "custody rules hold");
  return Check("rules", false, violations_.back().find("message")->as_string());
}

JsonValue ContainerVerification::Run() {
  if (evidence_.pack.starts_with(kContainerUriPrefix)) {
    me_ = evidence_.pack.substr(kContainerUriPrefix.size());
  }
  if (!provenance::Sscc::Parse(me_)) {
    v_.Fail("report.not_a_container", "the evidence names no container: " + evidence_.pack);
  }
  chain_.insert(me_);
  v_.VerifyCheckpoints();
  v_.VerifyAuthority();
  v_.OpenEntries();
  bool complete =
      internal::CheckCompleteness(v_, anchors_, evidence_.pack, evidence_.evidence_index,
                                  evidence_.evidence_index_signature, "container");
  v_.LearnRegistry();
  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    const EvidenceEntry& entry = evidence_.entries[i];
    bool signature_ok = false;
    JsonValue checks = v_.EntryChecks(i, signature_ok);
    const JsonValue payload = v_.opened(i) ? v_.opened(i)->payload : JsonValue::Object();
    std::string kind = Str(payload, "kind");
    std::string org = Str(payload, "org");
    auto event = JsonValue::Object().set("index", entry.index).set("kind", kind);
    event.set("time", Str(payload, "time")).set("org", org).set("orgName", v_.OrgName(org));
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
    if (signature_ok) checks.push_back(Replay(entry.index, payload, summary));
    event.set("summary", summary)
        .set("holderAfter", holder_)
        .set("contentsAfter", static_cast<int64_t>(contents_.size()))
        .set("checks", std::move(checks));
    events_.push_back(std::move(event));
  }
  JsonArray& failures = v_.failures();
  if (!created_ && failures.empty()) {
    violations_.push_back(JsonValue::Object()
                              .set("code", "rules.not_commissioned")
                              .set("message", "the evidence holds no packing of the container")
                              .set("index", 0)
                              .set("time", FormatUtcTime(now_)));
  }
  std::string verdict = internal::VerdictOf(failures, violations_);
  std::string summary;
  if (verdict == "FAILED") {
    const JsonValue& f = failures.front();
    summary = "The evidence for this container is broken (" + f.find("code")->as_string() +
              (f.find("index") ? " at entry " + std::to_string(f.find("index")->as_int()) : "") +
              "): do not rely on its history.";
  } else if (verdict == "SUSPECT") {
    summary = "The history is authentic but " + std::to_string(violations_.size()) +
              " problem(s) speak against this container, first: " +
              violations_.front().find("message")->as_string() + ".";
  } else {
    summary =
        "Every event of this container is signed, logged and follows the custody rules; it "
        "holds " +
        std::to_string(contents_.size()) + " item(s)" +
        (holder_.empty() ? "" : " with " + v_.OrgName(holder_)) + "." +
        (complete ? ""
                  : " Completeness is not proven: the evidence has no evidence index "
                    "signed by the log, so an entry left out would go unnoticed.");
  }
  auto contents = JsonValue::Array();
  for (const std::string& c : contents_) contents.push_back(c);
  auto subject = JsonValue::Object()
                     .set("container", evidence_.pack)
                     .set("sscc", me_)
                     .set("holder", holder_)
                     .set("contents", std::move(contents));
  if (!in_transit_to_.empty()) subject.set("inTransitTo", in_transit_to_);
  if (auto it = up_.find(me_); it != up_.end() && !it->second.empty()) {
    subject.set("parent", it->second);
  }
  return JsonValue::Object()
      .set("format", "pedigree-report/v1")
      .set("report", "container")
      .set("generatedAt", FormatUtcTime(now_))
      .set("verdict", verdict)
      .set("summary", summary)
      .set("subject", std::move(subject))
      .set("log", std::move(v_.log()))
      .set("checks", std::move(v_.checks()))
      .set("events", std::move(events_))
      .set("contentsHistory", std::move(contents_log_))
      .set("registry", std::move(registry_))
      .set("failures", std::move(failures))
      .set("violations", std::move(violations_));
}

}  // namespace

std::string ContainerUri(const provenance::Sscc& sscc) {
  return std::string(kContainerUriPrefix) + sscc.value();
}

Result<std::vector<uint64_t>> SelectContainerEvidence(log::Ledger& ledger, std::string_view code,
                                                      uint64_t size) {
  PEDIGREE_ASSIGN(sscc, ParseContainerCode(code));
  PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(ledger.db_path()));
  EnvelopeCache envelopes(ledger);
  PEDIGREE_ASSIGN(indices, SelectEntries(ledger, **view, envelopes, *sscc, size));
  return std::vector<uint64_t>(indices->begin(), indices->end());
}

Result<PackEvidence> GatherContainerEvidence(log::Ledger& ledger, std::string_view code) {
  PEDIGREE_ASSIGN(sscc, ParseContainerCode(code));
  PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(ledger.db_path()));
  return internal::ProveEvidence(ledger, ContainerUri(*sscc),
                                 [&](EnvelopeCache& envelopes, std::optional<uint64_t> limit) {
                                   return SelectEntries(ledger, **view, envelopes, *sscc, limit);
                                 });
}

JsonValue VerifyContainer(const PackEvidence& evidence, const TrustAnchors& anchors,
                          int64_t generated_at) {
  return ContainerVerification(evidence, anchors, generated_at).Run();
}

}  // namespace pedigree::reports
