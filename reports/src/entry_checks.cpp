// The verification and gathering shared by the reports: checkpoints, the registry and each
// entry's signature, key validity and inclusion.
#include "entry_checks.h"

#include <algorithm>

#include "pedigree/base/parallel.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/reports/evidence_index.h"

namespace pedigree::reports::internal {
namespace {

// One Ed25519 verification is ~60 µs: below a few dozen a thread costs more than it saves.
constexpr size_t kSignaturesPerThread = 64;

}  // namespace

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

void EntryVerification::Fail(std::string code, std::string message, std::optional<uint64_t> index,
                             std::string expected, std::string actual) {
  auto f = JsonValue::Object().set("code", std::move(code)).set("message", std::move(message));
  if (index) f.set("index", *index);
  if (!expected.empty()) f.set("expected", std::move(expected));
  if (!actual.empty()) f.set("actual", std::move(actual));
  failures_.push_back(std::move(f));
}

void EntryVerification::VerifyCheckpoints() {
  std::vector<log::NoteVerifier> verifiers{anchors_.log};
  for (const auto& w : anchors_.witnesses) verifiers.push_back(w);
  if (anchors_.policy) {
    for (const auto& w : anchors_.policy->witnesses) verifiers.push_back(w.key);
  }
  log_.set("verifierKey", anchors_.log.ToString());
  log_.set("checkpoint", evidence_.checkpoint);
  auto opened = log::OpenNote(evidence_.checkpoint, verifiers);
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
  } else if (auto cp = log::ParseCheckpoint(opened->text); !cp) {
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
        c.set("time", FormatUtcTime(static_cast<int64_t>(t)));
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

  bool latest_consistent = VerifyLatestConsistency(verifiers);
  if (anchors_.policy) VerifyQuorum(latest_consistent);
}

bool EntryVerification::VerifyLatestConsistency(std::span<const log::NoteVerifier> verifiers) {
  if (evidence_.latest_checkpoint.empty()) {
    checks_.push_back(Check("checkpoint.consistency", true,
                            "the proofs use the newest checkpoint the source holds"));
    return false;
  }
  auto latest_note = log::OpenNote(evidence_.latest_checkpoint, verifiers);
  std::optional<log::Checkpoint> latest;
  if (latest_note) {
    if (auto cp = log::ParseCheckpoint(latest_note->text)) latest = *cp;
  }
  if (!latest || latest->origin != anchors_.log.name()) {
    std::string why = latest_note ? "its body does not parse or names another origin"
                                  : latest_note.error().ToString();
    checks_.push_back(Check("checkpoint.consistency", false,
                            "the newest checkpoint is not signed by the trusted log: " + why));
    Fail(latest_note ? "checkpoint.origin" : latest_note.error().code(),
         "the newest checkpoint is not signed by the trusted log: " + why);
    return false;
  }
  log_.set("latestTreeSize", latest->size).set("latestRootHash", ToHex(latest->root));
  if (!checkpoint_) {
    checks_.push_back(Check("checkpoint.consistency", false,
                            "cannot check: the proofs' checkpoint is not verified"));
    return false;
  }
  auto consistent = log::VerifyConsistency(checkpoint_->size, latest->size, evidence_.consistency,
                                           checkpoint_->root, latest->root);
  if (!consistent) {
    checks_.push_back(Check("checkpoint.consistency", false, consistent.error().ToString()));
    Fail(consistent.error().code(),
         "checkpoint of size " + std::to_string(checkpoint_->size) +
             " is not consistent with the newest of size " + std::to_string(latest->size) + ": " +
             consistent.error().message(),
         checkpoint_->size);
    return false;
  }
  checks_.push_back(Check("checkpoint.consistency", true,
                          "size " + std::to_string(checkpoint_->size) + " is a prefix of size " +
                              std::to_string(latest->size)));
  return true;
}

void EntryVerification::VerifyQuorum(bool latest_consistent) {
  const log::Policy& policy = *anchors_.policy;
  auto list = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? std::string("no policy witness") : out;
  };
  auto proofs = log::EvaluateQuorum(policy, evidence_.checkpoint);
  if (!proofs) {
    checks_.push_back(Check("checkpoint.quorum", false, proofs.error().ToString()));
    Fail("checkpoint.quorum",
         "the checkpoint's cosignatures do not verify: " + proofs.error().message());
    return;
  }
  auto cosigned = JsonValue::Array();
  for (const auto& n : proofs->cosigned) cosigned.push_back(n);
  log_.set("quorum", JsonValue::Object()
                         .set("requirement", proofs->requirement)
                         .set("cosignedBy", std::move(cosigned))
                         .set("met", proofs->met));
  if (proofs->met) {
    checks_.push_back(Check(
        "checkpoint.quorum", true,
        "cosigned by " + list(proofs->cosigned) + "; the policy needs " + proofs->requirement));
    return;
  }
  // A witnessed newer checkpoint that is proved to extend this one vouches for it too.
  if (latest_consistent) {
    auto latest = log::EvaluateQuorum(policy, evidence_.latest_checkpoint);
    if (latest && latest->met) {
      checks_.push_back(Check("checkpoint.quorum", true,
                              "the newest checkpoint, which extends the proofs' checkpoint, is "
                              "cosigned by " +
                                  list(latest->cosigned) + "; the policy needs " +
                                  latest->requirement));
      return;
    }
  }
  std::string why =
      "cosigned by " + list(proofs->cosigned) + "; the policy needs " + proofs->requirement;
  checks_.push_back(Check("checkpoint.quorum", false, why));
  Fail("checkpoint.quorum", "the checkpoint does not meet the witness policy's quorum: " + why, {},
       proofs->requirement, list(proofs->cosigned));
}

void EntryVerification::VerifyAuthority() {
  auto raw = FromBase64(evidence_.authority_key);
  std::optional<log::PublicKey> claimed;
  if (raw) {
    if (auto key = log::PublicKey::FromRaw(*raw)) claimed = *key;
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

void EntryVerification::LearnRegistry() {
  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    if (!opened_[i]) continue;
    const JsonValue& p = opened_[i]->payload;
    std::string kind = Str(p, "kind");
    if (kind.rfind("org.", 0) != 0) continue;
    // Only registry entries signed by the authority teach anything; KeyCheck fails the others.
    if (!authority_ || !(opened_[i]->key == *authority_)) continue;
    std::string id = Str(p, "id");
    auto add_key = [&](const JsonValue& k) {
      auto raw = FromBase64(Str(k, "key"));
      if (!raw || raw->size() != 32) return;
      std::array<uint8_t, 32> key{};
      std::copy(raw->begin(), raw->end(), key.begin());
      RegisteredKey r{id, 0, {}, {}, evidence_.entries[i].index};
      if (auto t = ParseUtcTime(Str(k, "validFrom"))) r.valid_from = *t;
      if (auto t = ParseUtcTime(Str(k, "validUntil"))) r.valid_until = *t;
      keys_[key] = r;
    };
    if (kind == "org.register") {
      orgs_[id] = {Str(p, "name"), StrList(p, "roles")};
      if (const JsonValue* keys = p.find("keys"); keys && keys->is_array()) {
        for (const JsonValue& k : keys->as_array()) add_key(k);
      }
    } else if (kind == "org.key_add") {
      add_key(p);
    } else if (kind == "org.device_add") {
      auto raw = FromBase64(Str(p, "key"));
      const std::string device = Str(p, "device");
      // The first registration of a deviceID is the one the rules kept.
      if (raw && raw->size() == 32 && !device.empty() && !devices_.count(device)) {
        RegisteredDevice d{id, Str(p, "label"), {}, evidence_.entries[i].index, {}};
        std::copy(raw->begin(), raw->end(), d.key.begin());
        devices_[device] = d;
      }
    } else if (kind == "org.device_revoke") {
      auto it = devices_.find(Str(p, "device"));
      auto at = ParseUtcTime(Str(p, "revokedAt"));
      if (it != devices_.end() && it->second.org == id && at && !it->second.revoked_at) {
        it->second.revoked_at = *at;
      }
    } else if (kind == "org.key_revoke") {
      auto raw = FromBase64(Str(p, "key"));
      auto at = ParseUtcTime(Str(p, "revokedAt"));
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

JsonValue EntryVerification::SensorReadings(size_t i) {
  JsonValue out = JsonValue::Array();
  if (!opened_[i]) return out;
  const log::OpenedEntry& opened = *opened_[i];
  const JsonValue& p = opened.payload;
  const JsonValue* list = p.find("sensorElementList");
  if (!list || !list->is_array()) return out;
  const std::string org = Str(p, "org");
  const uint64_t index = evidence_.entries[i].index;
  Result<int64_t> time =
      opened.sequenced_at ? Result<int64_t>(*opened.sequenced_at) : ParseUtcTime(Str(p, "time"));
  for (size_t e = 0; e < list->as_array().size(); ++e) {
    const JsonValue& element = list->as_array()[e];
    const std::string field = "sensorElementList[" + std::to_string(e) + "]";
    auto reading = JsonValue::Object().set("element", static_cast<int64_t>(e)).set("org", org);
    auto reported = [&] { reading.set("by", "org").set("text", "reported by " + OrgName(org)); };
    auto signature = provenance::ReadDeviceSignature(element, field);
    if (signature && !*signature) {
      reported();
      out.push_back(std::move(reading));
      continue;
    }
    std::string problem;
    const RegisteredDevice* device = nullptr;
    if (!signature) {
      problem = signature.error().message();
    } else {
      const std::string& id = (*signature)->device_id;
      auto it = devices_.find(id);
      if (it == devices_.end() || it->second.index >= index) {
        problem = "device " + id + " has no org.device_add in the evidence before the entry";
      } else if (it->second.org != org) {
        problem = "device " + id + " belongs to '" + it->second.org + "', not '" + org + "'";
      } else if (it->second.revoked_at && (!time || *time >= *it->second.revoked_at)) {
        problem = "device " + id + " was revoked at " + FormatUtcTime(*it->second.revoked_at);
      } else {
        auto bytes = provenance::DeviceSignedBytes(element, field);
        auto key = log::PublicKey::FromRaw(it->second.key);
        if (!bytes || !key || !key->Verify(*bytes, (*signature)->sig)) {
          problem = "the signature of " + field + " does not verify under the key of device " + id;
        } else {
          device = &it->second;
        }
      }
    }
    if (device) {
      const std::string& id = (*signature)->device_id;
      reading.set("by", "device").set("device", id);
      if (!device->label.empty()) reading.set("label", device->label);
      reading.set("deviceEntry", static_cast<int64_t>(device->index));
      reading.set("text", "signed by logger " + id +
                              (device->label.empty() ? "" : " (" + device->label + ")") + " of " +
                              OrgName(org));
    } else {
      Fail("registry.device_signature", "entry " + std::to_string(index) + ": " + problem, index);
      reported();
    }
    out.push_back(std::move(reading));
  }
  return out;
}

std::string SensorAttributionText(const JsonValue& readings) {
  if (!readings.is_array() || readings.as_array().empty()) return "";
  std::vector<std::string> texts;
  for (const JsonValue& r : readings.as_array()) texts.push_back(Str(r, "text"));
  if (std::all_of(texts.begin(), texts.end(),
                  [&](const std::string& t) { return t == texts[0]; })) {
    return ", " + texts[0];
  }
  std::string out;
  for (size_t e = 0; e < texts.size(); ++e) {
    out += (e == 0 ? ", " : "; ") + std::string("element ") + std::to_string(e) + " " + texts[e];
  }
  return out;
}

JsonValue EntryVerification::KeyCheck(uint64_t index, const log::OpenedEntry& opened) {
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
  // The log's sequencing time when the leaf carries one: the time the ledger's rules judged
  // the key by; version 1 leaves have only the time their author claimed.
  Result<int64_t> time =
      opened.sequenced_at ? Result<int64_t>(*opened.sequenced_at) : ParseUtcTime(Str(p, "time"));
  if (!time) return fail("registry.bad_time", "event time does not parse", "", Str(p, "time"));
  auto it = keys_.find(opened.key.raw());
  if (it == keys_.end()) {
    return fail("registry.unknown_key",
                "key " + fp + " is in no registry entry of the evidence for '" + org + "'", org,
                "unregistered key");
  }
  const RegisteredKey& k = it->second;
  std::string when = FormatUtcTime(*time);
  if (k.org != org) {
    return fail("registry.wrong_org",
                "key " + fp + " belongs to '" + k.org + "', not '" + org + "'", org, k.org);
  }
  if (*time < k.valid_from) {
    return fail("registry.key_not_yet_valid",
                "key " + fp + " valid from " + FormatUtcTime(k.valid_from) + ", event at " + when,
                "time >= " + FormatUtcTime(k.valid_from), when);
  }
  if (k.valid_until && *time >= *k.valid_until) {
    return fail(
        "registry.key_expired",
        "key " + fp + " valid until " + FormatUtcTime(*k.valid_until) + ", event at " + when,
        "time < " + FormatUtcTime(*k.valid_until), when);
  }
  if (k.revoked_at && *time >= *k.revoked_at) {
    return fail("registry.key_revoked",
                "key " + fp + " revoked at " + FormatUtcTime(*k.revoked_at) + ", event at " + when,
                "time < " + FormatUtcTime(*k.revoked_at), when);
  }
  return Check("key.valid_at_time", true,
               "key " + fp + " of '" + org + "' registered at entry " + std::to_string(k.index) +
                   ", valid at " + when);
}

void EntryVerification::OpenEntries() {
  opened_.assign(evidence_.entries.size(), std::nullopt);
  // The Ed25519 checks are independent and are most of a report's verification time (a
  // receipt of 1,000 accesses: 1,000 signatures), so they run on every core.
  ParallelFor(evidence_.entries.size(), 0, kSignaturesPerThread, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const EvidenceEntry& e = evidence_.entries[i];
      if (e.envelope.empty()) continue;
      if (auto o = log::OpenEntry(e.envelope)) opened_[i] = std::move(*o);
    }
  });
  for (size_t i = 1; i < evidence_.entries.size(); ++i) {
    if (evidence_.entries[i].index <= evidence_.entries[i - 1].index) {
      Fail("evidence.order", "entries are not in strictly ascending index order",
           evidence_.entries[i].index);
    }
  }
}

JsonValue EntryVerification::EntryChecks(size_t i, bool& signature_ok) {
  const EvidenceEntry& entry = evidence_.entries[i];
  auto checks = JsonValue::Array();
  signature_ok = false;
  if (entry.envelope.empty()) {
    checks.push_back(Check("signature", false, "entry missing from the source"));
    Fail("entry.missing",
         "entry " + std::to_string(entry.index) + " is part of the " + what_ + " but missing",
         entry.index);
  } else if (!opened_[i]) {
    auto e = log::OpenEntry(entry.envelope).error();
    checks.push_back(Check("signature", false, e.ToString()));
    Fail(e.code(), "entry " + std::to_string(entry.index) + ": " + e.message(), entry.index);
  } else {
    signature_ok = true;
    checks.push_back(Check("signature", true, "Ed25519 by " + opened_[i]->key.Fingerprint()));
  }
  if (opened_[i] && opened_[i]->version >= 2 && opened_[i]->log != anchors_.log.name()) {
    // Signed for another log: an entry replayed from elsewhere.
    checks.push_back(Check("log", false, "signed for the log '" + opened_[i]->log + "'"));
    Fail("entry.wrong_log",
         "entry " + std::to_string(entry.index) + " is signed for the log '" + opened_[i]->log +
             "', not '" + anchors_.log.name() + "'",
         entry.index, anchors_.log.name(), opened_[i]->log);
  }
  if (opened_[i]) checks.push_back(KeyCheck(entry.index, *opened_[i]));

  if (!checkpoint_) {
    checks.push_back(Check("inclusion", false, "no verified checkpoint to prove against"));
  } else {
    Hash leaf = log::LeafHash(entry.envelope);
    auto root = log::RootFromInclusionProof(entry.index, checkpoint_->size, leaf, entry.proof);
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

// ---- Gathering ----

std::string& EnvelopeCache::Read(uint64_t index) {
  auto [it, fresh] = envelopes_.try_emplace(index);
  if (fresh) {
    auto entry = ledger_.storage().ReadEntry(index);
    if (entry) it->second = std::move(*entry);
  }
  return it->second;
}

JsonValue EnvelopeCache::Payload(uint64_t index) {
  auto parsed = ParseJson(Read(index), {.integers_only = true});
  if (!parsed || !parsed->is_object()) return {};
  const JsonValue* p = parsed->find("payload");
  return p && p->is_object() ? *p : JsonValue();
}

Status AddRegistryEntries(log::Ledger& ledger, provenance::ProvenanceView& view,
                          EnvelopeCache& envelopes, std::set<uint64_t>& indices,
                          std::initializer_list<const char*> org_members,
                          std::optional<uint64_t> limit) {
  std::set<std::string> orgs;
  for (uint64_t index : indices) {
    JsonValue payload = envelopes.Payload(index);
    for (const char* member : org_members) {
      std::string org = Str(payload, member);
      if (!org.empty() && org != "node" && org != "authority") orgs.insert(org);
    }
  }
  return AddRegistryEntriesOf(ledger, view, envelopes, indices, orgs, limit);
}

Status AddRegistryEntriesOf(log::Ledger& ledger, provenance::ProvenanceView& view,
                            EnvelopeCache& envelopes, std::set<uint64_t>& indices,
                            const std::set<std::string>& orgs, std::optional<uint64_t> limit) {
  PEDIGREE_ASSIGN(stored, ledger.storage().Size());
  const uint64_t size = std::min(*stored, limit.value_or(*stored));
  for (const std::string& org : orgs) {
    PEDIGREE_ASSIGN(registry, view.OrgRegistry(org));
    for (uint64_t i : registry->entries) {
      if (i < size) indices.insert(i);
    }
    // Revocations are not indexed by the model; they are rare, so look for them only when the
    // registry says a key of this organisation was revoked, after the first such key's entry.
    const std::vector<uint64_t>& revoked = registry->revoked_key_entries;
    if (!revoked.empty()) {
      for (uint64_t i = revoked.front() + 1; i < size; ++i) {
        JsonValue payload = envelopes.Payload(i);
        if (Str(payload, "kind") == "org.key_revoke" && Str(payload, "id") == org) {
          indices.insert(i);
        } else if (indices.count(i) == 0) {
          envelopes.Forget(i);
        }
      }
    }
  }
  return Ok();
}

// Adds to `indices` what explains where the container `sscc` was at entry `time`: the latest
// earlier aggregation putting it onto a parent, unless a later one (still before `time`) took
// it off again, and the same for that parent, up the chain. A pack packed into a case that is
// already on a pallet needs the case's older aggregation to make sense of the pallet's later
// shipment. Uses only entries before `time`, so the selection at a size never changes later.
Status AddNestingContext(provenance::ProvenanceView& view, EnvelopeCache& envelopes,
                         std::string sscc, uint64_t time, std::set<uint64_t>& indices) {
  for (int depth = 0; depth < 16 && !sscc.empty(); ++depth) {
    PEDIGREE_ASSIGN(history, view.ContainerHistory(sscc));
    std::string parent;
    uint64_t put_on = 0;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      if (*it >= time) continue;
      JsonValue p = envelopes.Payload(*it);
      auto children = StrList(p, "children");
      bool named = std::find(children.begin(), children.end(), sscc) != children.end();
      if (Str(p, "kind") == "aggregate" && named) {
        parent = Str(p, "parent");
        put_on = *it;
        break;
      }
    }
    if (parent.empty()) return Ok();
    // Taken off again before `time`?
    for (uint64_t i : *history) {
      if (i <= put_on || i >= time) continue;
      JsonValue p = envelopes.Payload(i);
      auto children = StrList(p, "children");
      if (Str(p, "kind") == "disaggregate" && Str(p, "parent") == parent &&
          (children.empty() ||
           std::find(children.begin(), children.end(), sscc) != children.end())) {
        return Ok();
      }
    }
    indices.insert(put_on);
    sscc = parent;
  }
  return Ok();
}

Result<LogEvidence> ProveEntries(log::Ledger& ledger, const std::set<uint64_t>& indices,
                                 EnvelopeCache& envelopes) {
  // Prove against the oldest stored checkpoint that covers every entry (the one witnesses
  // had the most time to cosign), then link it to the newest.
  uint64_t needed = *indices.rbegin() + 1;
  PEDIGREE_ASSIGN(sizes, ledger.storage().CheckpointSizes());
  auto covering = std::lower_bound(sizes->begin(), sizes->end(), needed);
  std::optional<log::StoredCheckpoint> checkpoint;
  if (covering != sizes->end()) {
    PEDIGREE_ASSIGN(stored, ledger.storage().CheckpointAt(*covering));
    checkpoint = *stored;
  }
  if (!checkpoint) {
    PEDIGREE_ASSIGN(signed_now, ledger.SignCheckpoint());
    checkpoint = *signed_now;
  }
  PEDIGREE_ASSIGN(latest, ledger.LatestCheckpoint());
  LogEvidence evidence;
  PEDIGREE_ASSIGN(authority, ledger.storage().GetMeta(provenance::kAuthorityKeyMeta));
  evidence.authority_key = *authority;
  evidence.checkpoint = checkpoint->note;
  evidence.checkpoint_size = checkpoint->size;
  if (*latest && (*latest)->size != checkpoint->size) {
    evidence.latest_checkpoint = (*latest)->note;
    PEDIGREE_ASSIGN(consistency, ledger.ProveConsistency(checkpoint->size, (*latest)->size));
    evidence.consistency = std::move(*consistency);
  }
  for (uint64_t index : indices) {
    // From the stored hashes alone: an entry row deleted behind the ledger's back still gets
    // its path, and the verification names it missing.
    PEDIGREE_ASSIGN(path, log::InclusionProof(index, checkpoint->size, ledger.storage()));
    evidence.entries.push_back({index, std::move(envelopes.Read(index)), std::move(*path)});
  }
  return evidence;
}

Result<PackEvidence> ProveEvidence(log::Ledger& ledger, std::string subject,
                                   const EvidenceSelector& select) {
  EnvelopeCache envelopes(ledger);
  PEDIGREE_ASSIGN(indices, select(envelopes, std::nullopt));
  PEDIGREE_ASSIGN(proved, ProveEntries(ledger, *indices, envelopes));
  for (int attempt = 0; attempt < 3; ++attempt) {
    // ProveEntries moved the envelopes out of the cache: select with a fresh one.
    EnvelopeCache fresh(ledger);
    PEDIGREE_ASSIGN(at_size, select(fresh, proved->checkpoint_size));
    if (*at_size == *indices) break;
    indices = std::move(at_size);
    PEDIGREE_ASSIGN(again, ProveEntries(ledger, *indices, fresh));
    proved = std::move(again);
  }
  PackEvidence evidence;
  evidence.pack = std::move(subject);
  evidence.authority_key = std::move(proved->authority_key);
  evidence.checkpoint = std::move(proved->checkpoint);
  evidence.latest_checkpoint = std::move(proved->latest_checkpoint);
  evidence.consistency = std::move(proved->consistency);
  evidence.entries = std::move(proved->entries);
  // Every selected index is below the checkpoint's size, and nothing at or above the newest
  // selected index concerns the subject, so the selection is its evidence at that size.
  // Only the log may sign it: a mirror (no log key) answers without one, and verifiers then
  // warn that completeness is not proven rather than trust a signature that is not the log's.
  if (!ledger.holds_log_key()) return evidence;
  evidence.evidence_index =
      FormatEvidenceIndex({ledger.origin(), proved->checkpoint_size, evidence.pack,
                           std::vector<uint64_t>(indices->begin(), indices->end())});
  evidence.evidence_index_signature = SignEvidenceIndex(ledger, evidence.evidence_index);
  return evidence;
}

}  // namespace pedigree::reports::internal
