// VerifyPack: the one verification of a pack's evidence, whichever source it came from.
#include "pedigree/reports/pack_report.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "pedigree/ledger/envelope.h"
#include "pedigree/ledger/merkle.h"
#include "pedigree/ledger/pack_rules.h"
#include "pedigree/ledger/proof.h"
#include "pedigree/ledger/provenance.h"

namespace pedigree::reports {
namespace {

using ledger::JsonArray;
using ledger::JsonValue;

std::string Str(const JsonValue& o, const char* name) {
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  return v && v->is_string() ? v->as_string() : std::string();
}

std::vector<std::string> StrList(const JsonValue& o, const char* name) {
  std::vector<std::string> out;
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  if (v && v->is_array()) {
    for (const JsonValue& i : v->as_array()) {
      if (i.is_string()) out.push_back(i.as_string());
    }
  }
  return out;
}

std::chrono::year_month_day DayOf(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

JsonValue Check(std::string id, bool pass, std::string detail) {
  return JsonValue::Object()
      .set("id", std::move(id))
      .set("result", pass ? "pass" : "fail")
      .set("detail", std::move(detail));
}
JsonValue Warn(std::string id, std::string detail) {
  return JsonValue::Object()
      .set("id", std::move(id))
      .set("result", "warn")
      .set("detail", std::move(detail));
}

// A key of the registry as the evidence's registry entries define it.
struct RegisteredKey {
  std::string org;
  int64_t valid_from = 0;
  std::optional<int64_t> valid_until;
  std::optional<int64_t> revoked_at;
  uint64_t index = 0;  // entry that added it
};

struct OrgInfo {
  std::string name;
  std::vector<std::string> roles;
};

// The verification in progress: the report's arrays and what the evidence has taught so far.
class PackVerification {
 public:
  PackVerification(const PackEvidence& evidence, const TrustAnchors& anchors, int64_t now)
      : evidence_(evidence), anchors_(anchors), now_(now) {}

  JsonValue Run();

 private:
  void Fail(std::string code, std::string message, std::optional<uint64_t> index = {},
            std::string expected = {}, std::string actual = {}) {
    auto f = JsonValue::Object().set("code", std::move(code)).set("message", std::move(message));
    if (index) f.set("index", *index);
    if (!expected.empty()) f.set("expected", std::move(expected));
    if (!actual.empty()) f.set("actual", std::move(actual));
    failures_.push_back(std::move(f));
  }
  void Violation(std::string code, std::string message, uint64_t index, int64_t time,
                 const std::string& org, const std::string& location) {
    auto v = JsonValue::Object()
                 .set("code", std::move(code))
                 .set("message", std::move(message))
                 .set("index", index)
                 .set("time", ledger::FormatUtcTime(time));
    if (!org.empty()) v.set("org", org);
    if (!location.empty()) v.set("location", location);
    violations_.push_back(std::move(v));
  }

  void VerifyCheckpoints();
  void VerifyAuthority();
  void LearnRegistry();
  JsonValue EntryChecks(size_t i, const EvidenceEntry& entry, bool& signature_ok);
  JsonValue KeyCheck(uint64_t index, const ledger::OpenedEntry& opened);
  // Replays the custody rules for one verified event; returns the rules check and fills
  // the event's summary.
  JsonValue Replay(uint64_t index, const JsonValue& payload, std::string& summary);
  bool ConcernsPack(const std::vector<std::string>& epcs) const;
  std::string OrgName(const std::string& org) const {
    auto it = orgs_.find(org);
    return it == orgs_.end() ? org : it->second.name;
  }

  const PackEvidence& evidence_;
  const TrustAnchors& anchors_;
  int64_t now_;

  JsonArray checks_, failures_, violations_, events_, alerts_, registry_;
  JsonValue log_ = JsonValue::Object();
  std::optional<ledger::Checkpoint> checkpoint_;
  std::optional<ledger::PublicKey> authority_;
  std::vector<std::optional<ledger::OpenedEntry>> opened_;
  std::map<std::array<uint8_t, 32>, RegisteredKey> keys_;
  std::map<std::string, OrgInfo> orgs_;

  // Custody replay state.
  std::string gtin_, serial_;
  bool commissioned_ = false;
  ledger::PackFacts facts_;
  std::string lot_, expiry_, product_name_, manufacturer_;
  std::set<std::string> containers_;  // SSCCs the pack is inside, innermost first
  std::string in_transit_to_, in_transit_from_, despatch_advice_;
  uint64_t batch_status_index_ = 0;
  int64_t batch_status_time_ = 0;
  std::string batch_status_reason_;
};

void PackVerification::VerifyCheckpoints() {
  std::vector<ledger::NoteVerifier> verifiers{anchors_.log};
  for (const auto& w : anchors_.witnesses) verifiers.push_back(w);
  log_.set("verifierKey", anchors_.log.ToString());
  log_.set("checkpoint", evidence_.checkpoint);
  auto opened = ledger::OpenNote(evidence_.checkpoint, verifiers);
  bool log_signed = false;
  if (opened) {
    for (const auto& s : opened->verified) log_signed |= s.verifier_index == 0;
  }
  if (!opened || !log_signed) {
    std::string why = opened ? "no signature by the trusted log key " + anchors_.log.ToString()
                             : opened.error().ToString();
    checks_.push_back(Check("checkpoint.signature", false, why));
    Fail(opened ? "note.no_verified_signature" : opened.error().code(),
         "the checkpoint the proofs use is not signed by the trusted log key: " + why);
  } else if (auto cp = ledger::ParseCheckpoint(opened->text); !cp) {
    checks_.push_back(Check("checkpoint.signature", false, cp.error().ToString()));
    Fail(cp.error().code(), "the signed checkpoint body does not parse: " + cp.error().message());
  } else if (cp->origin != anchors_.log.name()) {
    checks_.push_back(Check("checkpoint.signature", false,
                            "origin '" + cp->origin + "' is not the trusted log's"));
    Fail("checkpoint.origin", "the checkpoint names origin '" + cp->origin + "'", {},
         anchors_.log.name(), cp->origin);
  } else {
    checkpoint_ = *cp;
    log_.set("origin", cp->origin).set("treeSize", cp->size).set("rootHash", ToHex(cp->root));
    checks_.push_back(Check(
        "checkpoint.signature", true,
        "signed by " + anchors_.log.name() + " (tree size " + std::to_string(cp->size) + ")"));
  }

  // Cosignatures: every signature line that is not the log's, with its time when it is a
  // cosignature/v1 (key ID, u64 timestamp, signature = 76 bytes).
  auto cosignatures = JsonValue::Array();
  size_t verified = 0, listed = 0;
  size_t sep = evidence_.checkpoint.find("\n\n");
  if (sep != std::string::npos) {
    std::string_view rest = std::string_view(evidence_.checkpoint).substr(sep + 2);
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      constexpr std::string_view kDash = "\xE2\x80\x94 ";
      if (line.substr(0, kDash.size()) != kDash) continue;
      line.remove_prefix(kDash.size());
      size_t space = line.find(' ');
      if (space == std::string_view::npos) continue;
      std::string name(line.substr(0, space));
      if (name == anchors_.log.name()) continue;
      ++listed;
      auto c = JsonValue::Object().set("name", name);
      auto raw = FromBase64(line.substr(space + 1));
      if (raw && raw->size() == 76) {
        uint64_t t = 0;
        for (size_t k = 4; k < 12; ++k) t = (t << 8) | (*raw)[k];
        c.set("time", ledger::FormatUtcTime(static_cast<int64_t>(t)));
      }
      bool ok = false;
      if (opened) {
        for (const auto& s : opened->verified) ok |= s.name == name && s.verifier_index > 0;
      }
      verified += ok;
      c.set("verified", ok);
      cosignatures.push_back(std::move(c));
    }
  }
  log_.set("cosignatures", std::move(cosignatures));
  if (listed == 0) {
    checks_.push_back(Warn("checkpoint.cosignatures", "no witness has cosigned this checkpoint"));
  } else if (verified < listed) {
    checks_.push_back(Warn("checkpoint.cosignatures",
                           std::to_string(listed) + " cosignature(s), " + std::to_string(verified) +
                               " verified; the others are by witness keys not trusted here"));
  } else {
    checks_.push_back(Check("checkpoint.cosignatures", true,
                            std::to_string(verified) + " witness cosignature(s) verified"));
  }

  // Consistency with the newest checkpoint.
  if (evidence_.latest_checkpoint.empty()) {
    checks_.push_back(Check("checkpoint.consistency", true,
                            "the proofs use the newest checkpoint the source holds"));
    return;
  }
  auto latest_note = ledger::OpenNote(evidence_.latest_checkpoint, verifiers);
  std::optional<ledger::Checkpoint> latest;
  if (latest_note) {
    if (auto cp = ledger::ParseCheckpoint(latest_note->text)) latest = *cp;
  }
  if (!latest || latest->origin != anchors_.log.name()) {
    std::string why = latest_note ? "its body does not parse or names another origin"
                                  : latest_note.error().ToString();
    checks_.push_back(Check("checkpoint.consistency", false,
                            "the newest checkpoint is not signed by the trusted log: " + why));
    Fail(latest_note ? "checkpoint.origin" : latest_note.error().code(),
         "the newest checkpoint is not signed by the trusted log: " + why);
    return;
  }
  log_.set("latestTreeSize", latest->size).set("latestRootHash", ToHex(latest->root));
  if (!checkpoint_) {
    checks_.push_back(Check("checkpoint.consistency", false,
                            "cannot check: the proofs' checkpoint is not verified"));
    return;
  }
  auto consistent = ledger::VerifyConsistency(
      checkpoint_->size, latest->size, evidence_.consistency, checkpoint_->root, latest->root);
  if (!consistent) {
    checks_.push_back(Check("checkpoint.consistency", false, consistent.error().ToString()));
    Fail(consistent.error().code(),
         "checkpoint of size " + std::to_string(checkpoint_->size) +
             " is not consistent with the newest of size " + std::to_string(latest->size) + ": " +
             consistent.error().message(),
         checkpoint_->size);
  } else {
    checks_.push_back(Check("checkpoint.consistency", true,
                            "size " + std::to_string(checkpoint_->size) + " is a prefix of size " +
                                std::to_string(latest->size)));
  }
}

void PackVerification::VerifyAuthority() {
  auto raw = FromBase64(evidence_.authority_key);
  std::optional<ledger::PublicKey> claimed;
  if (raw) {
    if (auto key = ledger::PublicKey::FromRaw(*raw)) claimed = *key;
  }
  if (anchors_.authority) {
    authority_ = anchors_.authority;
    if (!claimed || !(*claimed == *anchors_.authority)) {
      checks_.push_back(Check("registry.authority", false,
                              "the evidence's authority key is not the trusted one"));
      Fail("registry.authority_mismatch", "the evidence names another consortium authority key", {},
           ToBase64(anchors_.authority->raw()), evidence_.authority_key);
      return;
    }
    checks_.push_back(
        Check("registry.authority", true,
              "registry signed by the trusted authority key " + anchors_.authority->Fingerprint()));
    return;
  }
  if (!claimed) {
    checks_.push_back(Check("registry.authority", false, "the evidence holds no authority key"));
    Fail("registry.authority_mismatch", "the evidence's authority key is not a valid key", {}, "",
         evidence_.authority_key);
    return;
  }
  authority_ = claimed;
  checks_.push_back(Warn("registry.authority", "authority key " + claimed->Fingerprint() +
                                                   " taken from the evidence, not pinned by the "
                                                   "verifier (give the authority key to pin it)"));
}

void PackVerification::LearnRegistry() {
  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    if (!opened_[i]) continue;
    const JsonValue& p = opened_[i]->payload;
    std::string kind = Str(p, "kind");
    if (kind.rfind("org.", 0) != 0) {
      if (kind == "product.register" && Str(p, "gtin") == gtin_) {
        product_name_ = Str(p, "name");
        manufacturer_ = Str(p, "org");
      }
      continue;
    }
    // Only registry entries signed by the authority teach anything; KeyCheck fails the others.
    if (!authority_ || !(opened_[i]->key == *authority_)) continue;
    std::string id = Str(p, "id");
    auto add_key = [&](const JsonValue& k) {
      auto raw = FromBase64(Str(k, "key"));
      if (!raw || raw->size() != 32) return;
      std::array<uint8_t, 32> key{};
      std::copy(raw->begin(), raw->end(), key.begin());
      RegisteredKey r{id, 0, {}, {}, evidence_.entries[i].index};
      if (auto t = ledger::ParseUtcTime(Str(k, "validFrom"))) r.valid_from = *t;
      if (auto t = ledger::ParseUtcTime(Str(k, "validUntil"))) r.valid_until = *t;
      keys_[key] = r;
    };
    if (kind == "org.register") {
      orgs_[id] = {Str(p, "name"), StrList(p, "roles")};
      if (const JsonValue* keys = p.find("keys"); keys && keys->is_array()) {
        for (const JsonValue& k : keys->as_array()) add_key(k);
      }
    } else if (kind == "org.key_add") {
      add_key(p);
    } else if (kind == "org.key_revoke") {
      auto raw = FromBase64(Str(p, "key"));
      auto at = ledger::ParseUtcTime(Str(p, "revokedAt"));
      if (raw && raw->size() == 32 && at) {
        std::array<uint8_t, 32> key{};
        std::copy(raw->begin(), raw->end(), key.begin());
        if (auto it = keys_.find(key); it != keys_.end() && it->second.org == id) {
          if (!it->second.revoked_at || *at < *it->second.revoked_at) it->second.revoked_at = *at;
        }
      }
    }
  }
}

JsonValue PackVerification::KeyCheck(uint64_t index, const ledger::OpenedEntry& opened) {
  const JsonValue& p = opened.payload;
  std::string kind = Str(p, "kind");
  std::string org = Str(p, "org");
  std::string fp = opened.key.Fingerprint();
  auto fail = [&](std::string code, std::string message, std::string expected, std::string actual) {
    Fail(code, "entry " + std::to_string(index) + ": " + message, index, expected, actual);
    return Check("key.valid_at_time", false, message);
  };
  if (kind.rfind("org.", 0) == 0) {
    if (!authority_ || !(opened.key == *authority_)) {
      return fail("registry.not_authority",
                  "registry entry " + kind + " signed by " + fp + ", not by the authority",
                  authority_ ? authority_->Fingerprint() : "", fp);
    }
    return Check("key.valid_at_time", true, "consortium authority key " + fp);
  }
  if (kind == "alert") {
    if (!(opened.key == anchors_.log.public_key())) {
      return fail("registry.not_node", "alert signed by " + fp + ", not by the log's node key",
                  anchors_.log.public_key().Fingerprint(), fp);
    }
    return Check("key.valid_at_time", true, "the node's own key " + fp);
  }
  auto time = ledger::ParseUtcTime(Str(p, "time"));
  if (!time) return fail("registry.bad_time", "event time does not parse", "", Str(p, "time"));
  auto it = keys_.find(opened.key.raw());
  if (it == keys_.end()) {
    return fail("registry.unknown_key",
                "key " + fp + " is in no registry entry of the evidence for '" + org + "'", org,
                "unregistered key");
  }
  const RegisteredKey& k = it->second;
  std::string when = ledger::FormatUtcTime(*time);
  if (k.org != org) {
    return fail("registry.wrong_org",
                "key " + fp + " belongs to '" + k.org + "', not '" + org + "'", org, k.org);
  }
  if (*time < k.valid_from) {
    return fail(
        "registry.key_not_yet_valid",
        "key " + fp + " valid from " + ledger::FormatUtcTime(k.valid_from) + ", event at " + when,
        "time >= " + ledger::FormatUtcTime(k.valid_from), when);
  }
  if (k.valid_until && *time >= *k.valid_until) {
    return fail("registry.key_expired",
                "key " + fp + " valid until " + ledger::FormatUtcTime(*k.valid_until) +
                    ", event at " + when,
                "time < " + ledger::FormatUtcTime(*k.valid_until), when);
  }
  if (k.revoked_at && *time >= *k.revoked_at) {
    return fail(
        "registry.key_revoked",
        "key " + fp + " revoked at " + ledger::FormatUtcTime(*k.revoked_at) + ", event at " + when,
        "time < " + ledger::FormatUtcTime(*k.revoked_at), when);
  }
  return Check("key.valid_at_time", true,
               "key " + fp + " of '" + org + "' registered at entry " + std::to_string(k.index) +
                   ", valid at " + when);
}

JsonValue PackVerification::EntryChecks(size_t i, const EvidenceEntry& entry, bool& signature_ok) {
  auto checks = JsonValue::Array();
  signature_ok = false;
  if (entry.envelope.empty()) {
    checks.push_back(Check("signature", false, "entry missing from the source"));
    Fail("entry.missing",
         "entry " + std::to_string(entry.index) + " is part of the pack's evidence but missing",
         entry.index);
  } else if (!opened_[i]) {
    auto e = ledger::OpenEntry(entry.envelope).error();
    checks.push_back(Check("signature", false, e.ToString()));
    Fail(e.code(), "entry " + std::to_string(entry.index) + ": " + e.message(), entry.index);
  } else {
    signature_ok = true;
    checks.push_back(Check("signature", true, "Ed25519 by " + opened_[i]->key.Fingerprint()));
  }
  if (opened_[i]) checks.push_back(KeyCheck(entry.index, *opened_[i]));

  if (!checkpoint_) {
    checks.push_back(Check("inclusion", false, "no verified checkpoint to prove against"));
  } else {
    Hash leaf = ledger::LeafHash(entry.envelope);
    auto root = ledger::RootFromInclusionProof(entry.index, checkpoint_->size, leaf, entry.proof);
    if (!root) {
      checks.push_back(Check("inclusion", false, root.error().ToString()));
      Fail(root.error().code(),
           "entry " + std::to_string(entry.index) + ": " + root.error().message(), entry.index);
    } else if (*root != checkpoint_->root) {
      std::string detail = "proof leads to root " + ToHex(*root) + ", checkpoint root is " +
                           ToHex(checkpoint_->root);
      checks.push_back(Check("inclusion", false, detail));
      Fail("merkle.root_mismatch",
           "entry " + std::to_string(entry.index) + " is not in the checkpointed tree of size " +
               std::to_string(checkpoint_->size) + " (leaf hash " + ToHex(leaf) + ")",
           entry.index, ToHex(checkpoint_->root), ToHex(*root));
    } else {
      checks.push_back(
          Check("inclusion", true, "in the tree of size " + std::to_string(checkpoint_->size)));
    }
  }
  return checks;
}

bool PackVerification::ConcernsPack(const std::vector<std::string>& epcs) const {
  return std::any_of(epcs.begin(), epcs.end(), [&](const std::string& e) {
    return e == evidence_.pack || containers_.count(e) > 0;
  });
}

JsonValue PackVerification::Replay(uint64_t index, const JsonValue& p, std::string& summary) {
  std::string kind = Str(p, "kind");
  std::string org = Str(p, "org");
  std::string location = Str(p, "location");
  int64_t time = ledger::ParseUtcTime(Str(p, "time")).value_or(0);
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
    lot_ = Str(p, "lot");
    expiry_ = Str(p, "expiry");
    if (auto d = ledger::ParseDate(expiry_)) facts_.expiry = *d;
    summary = "batch " + lot_ + " registered, expiry " + expiry_;
  } else if (kind == "commission") {
    summary = "commissioned by " + OrgName(org) + " at " + location + ", lot " + Str(p, "lot");
    if (commissioned_) violate("commissioned_twice", "the pack was already commissioned");
    commissioned_ = true;
    facts_.holder_org = org;
    facts_.status = ledger::PackStatus::kActive;
    if (lot_.empty()) lot_ = Str(p, "lot");
  } else if (kind == "aggregate") {
    std::string parent = Str(p, "parent");
    summary = "packed into case " + parent + " by " + OrgName(org);
    need_custody("aggregation");
    if (ConcernsPack(StrList(p, "children"))) containers_.insert(parent);
  } else if (kind == "disaggregate") {
    std::string parent = Str(p, "parent");
    summary = "unpacked from case " + parent + " by " + OrgName(org);
    need_custody("disaggregation");
    auto children = StrList(p, "children");
    if (children.empty() || ConcernsPack(children)) containers_.erase(parent);
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
    auto status = ledger::ParsePackStatus(Str(p, "status"));
    summary = "decommissioned as " + Str(p, "status") + " by " + OrgName(org) + " at " + location;
    if (!status) {
      violate("bad_status", "unknown status '" + Str(p, "status") + "'");
    } else if (!commissioned_) {
      violate("not_commissioned", "decommission before the pack was commissioned");
    } else if (auto r =
                   ledger::CheckDecommission(facts_, *status, {org, location, time}, DayOf(time));
               !r) {
      violate(std::string(ledger::DescribeAlert(r.error().code).id), r.error().message);
    } else {
      facts_.status = *status;
      facts_.status_org = org;
      facts_.status_location = location;
      facts_.status_time = time;
    }
  } else if (kind == "undo") {
    summary = "undo to active by " + OrgName(org) + " at " + location;
    if (auto r = ledger::CheckUndo(facts_, {org, location, time}, DayOf(time)); !r) {
      violate(std::string(ledger::DescribeAlert(r.error().code).id), r.error().message);
    } else {
      facts_.status = ledger::PackStatus::kActive;
      facts_.status_org.clear();
      facts_.status_location.clear();
      facts_.status_time = time;
    }
  } else if (kind == "batch.status") {
    std::string s = Str(p, "status");
    summary = "batch " + Str(p, "lot") + " " + s + ": " + Str(p, "reason");
    if (Str(p, "gtin") == gtin_ && Str(p, "lot") == lot_) {
      facts_.batch_status = s == "recalled"    ? ledger::BatchStatus::kRecalled
                            : s == "withdrawn" ? ledger::BatchStatus::kWithdrawn
                                               : ledger::BatchStatus::kActive;
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
    alerts_.push_back(JsonValue::Object()
                          .set("index", index)
                          .set("code", code)
                          .set("time", Str(p, "time"))
                          .set("org", subject)
                          .set("message", Str(p, "message")));
    Violation("alert." + code, Str(p, "message"), index, time, subject, "");
  } else {
    summary = kind;
  }
  size_t added = violations_.size() - before;
  if (kind == "alert") return Warn("rules", "the log recorded a refusal about this pack");
  if (added == 0) return Check("rules", true, "custody rules hold");
  return Check("rules", false, violations_.back().find("message")->as_string());
}

JsonValue PackVerification::Run() {
  auto id = ParsePackCode(evidence_.pack);
  if (id) {
    gtin_ = id->gtin().value();
    serial_ = id->serial().value();
  } else {
    Fail("report.not_a_pack", "the evidence names no pack: " + id.error().message());
  }
  VerifyCheckpoints();
  VerifyAuthority();
  opened_.reserve(evidence_.entries.size());
  for (const auto& e : evidence_.entries) {
    auto o = e.envelope.empty() ? Result<ledger::OpenedEntry>(std::unexpected(Error("", "")))
                                : ledger::OpenEntry(e.envelope);
    opened_.push_back(o ? std::optional<ledger::OpenedEntry>(std::move(*o)) : std::nullopt);
  }
  for (size_t i = 1; i < evidence_.entries.size(); ++i) {
    if (evidence_.entries[i].index <= evidence_.entries[i - 1].index) {
      Fail("evidence.order", "entries are not in strictly ascending index order",
           evidence_.entries[i].index);
    }
  }
  LearnRegistry();

  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    const EvidenceEntry& entry = evidence_.entries[i];
    bool signature_ok = false;
    JsonValue checks = EntryChecks(i, entry, signature_ok);
    const JsonValue payload = opened_[i] ? opened_[i]->payload : JsonValue::Object();
    std::string kind = Str(payload, "kind");
    std::string org = Str(payload, "org");
    auto event = JsonValue::Object().set("index", entry.index).set("kind", kind);
    event.set("time", Str(payload, "time")).set("org", org).set("orgName", OrgName(org));
    if (!Str(payload, "location").empty()) event.set("location", Str(payload, "location"));
    event.set("key", opened_[i] ? opened_[i]->key.Fingerprint() : std::string());
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
        .set("statusAfter", commissioned_ ? std::string(ledger::PackStatusName(facts_.status))
                                          : std::string("not commissioned"))
        .set("holderAfter", facts_.holder_org);
    event.set("checks", std::move(checks));
    events_.push_back(std::move(event));
  }

  // Batch-level judgement at report time.
  if (facts_.batch_status != ledger::BatchStatus::kActive &&
      facts_.status != ledger::PackStatus::kDestroyed) {
    std::string s(ledger::BatchStatusName(facts_.batch_status));
    Violation("rules.batch_" + s, "batch " + lot_ + " was " + s + ": " + batch_status_reason_,
              batch_status_index_, batch_status_time_, manufacturer_, "");
  } else if (commissioned_ && facts_.status == ledger::PackStatus::kActive &&
             ledger::IsExpired(facts_, DayOf(now_))) {
    Violation("rules.expired", "the pack expired on " + expiry_ + " and is still active",
              evidence_.entries.empty() ? 0 : evidence_.entries.back().index, now_, "", "");
  }
  if (!commissioned_ && failures_.empty()) {
    Violation("rules.not_commissioned", "the evidence holds no commissioning of the pack", 0, now_,
              "", "");
  }

  std::string verdict = !failures_.empty()     ? "FAILED"
                        : !violations_.empty() ? "SUSPECT"
                                               : "VERIFIED";
  std::string status =
      commissioned_ ? std::string(ledger::PackStatusName(facts_.status)) : std::string("unknown");
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
              ".";
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
  if (facts_.batch_status != ledger::BatchStatus::kActive) {
    subject.set("batchStatus", std::string(ledger::BatchStatusName(facts_.batch_status)));
  }
  return JsonValue::Object()
      .set("format", "pedigree-report/v1")
      .set("report", "pack")
      .set("generatedAt", ledger::FormatUtcTime(now_))
      .set("verdict", verdict)
      .set("summary", summary)
      .set("subject", std::move(subject))
      .set("log", std::move(log_))
      .set("checks", std::move(checks_))
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
