#include "pedigree/usecases/supply_node.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <unordered_map>

#include "pedigree/log/envelope.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/usecases/supply_actions.h"

namespace pedigree::services {
namespace fs = std::filesystem;

namespace {

std::string KeyPath(const std::string& dir, const std::string& org) {
  return (fs::path(dir) / "keys" / (org + ".pem")).string();
}

// Org ids are registry identifiers ([a-z0-9.-]); anything else must not reach a path.
bool SafeOrgId(const std::string& org) { return IsRegistryOrgId(org); }

std::string StringMember(const JsonValue& obj, const char* name) {
  const JsonValue* v = obj.find(name);
  return v && v->is_string() ? v->as_string() : std::string();
}

std::chrono::year_month_day Today(int64_t now) {
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{now / 86400}}};
}

// Puts every object's members of `v` in RFC 8785 order, the order a parse of its canonical
// bytes gives: the rules, handed this tree instead of parsing the stored entry, then see
// exactly what a replay of the log sees (members iterate in the same order).
void SortMembers(JsonValue& v) {
  if (v.is_array()) {
    for (JsonValue& item : v.as_array()) SortMembers(item);
  } else if (v.is_object()) {
    auto& members = v.as_object();
    for (auto& member : members) SortMembers(member.second);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return Utf16Less(a.first, b.first); });
  }
}

// The node's clock unless SetClock replaces it: unix seconds.
int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool IsRegistryOrgId(std::string_view org) {
  return !org.empty() && org.size() <= 63 && org[0] != '.' &&
         std::all_of(org.begin(), org.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
         });
}

SupplyNode::~SupplyNode() {
  // The sequencer calls into state_; stop it first.
  ledger_.reset();
}

Result<std::unique_ptr<SupplyNode>> SupplyNode::Create(const std::string& dir,
                                                       const std::string& origin,
                                                       const log::PublicKey& authority,
                                                       provenance::TimeBounds bounds,
                                                       const std::string& storage) {
  return Start(dir, origin, &authority, bounds, storage);
}

Result<std::unique_ptr<SupplyNode>> SupplyNode::Open(const std::string& dir,
                                                     provenance::TimeBounds bounds) {
  return Start(dir, std::nullopt, nullptr, bounds);
}

Result<std::unique_ptr<SupplyNode>> SupplyNode::Start(const std::string& dir,
                                                      std::optional<std::string> origin,
                                                      const log::PublicKey* authority,
                                                      provenance::TimeBounds bounds,
                                                      const std::string& storage) {
  std::unique_ptr<SupplyNode> node(new SupplyNode());
  node->dir_ = dir;
  node->now_ = SystemNow;
  SupplyNode* self = node.get();
  log::LedgerOptions options = provenance::ProvenanceLedgerOptions(
      node->state_, [self] { return self->Now(); },
      authority ? std::optional<log::PublicKey>(*authority) : std::nullopt, bounds, storage, dir);
  Result<std::unique_ptr<log::Ledger>> ledger =
      origin ? log::Ledger::Create(dir, *origin, options) : log::Ledger::Open(dir, options);
  if (!ledger) return std::unexpected(ledger.error());
  node->ledger_ = std::move(*ledger);
  return node;
}

Result<std::unique_ptr<SupplyNode>> SupplyNode::OpenReadOnly(const std::string& dir) {
  std::unique_ptr<SupplyNode> node(new SupplyNode());
  node->dir_ = dir;
  node->now_ = SystemNow;
  // No model attached: the rules run on the writer, and a read-only ledger refuses appends.
  PEDIGREE_ASSIGN(ledger, log::Ledger::Open(dir, log::LedgerOptions{.read_only = true}));
  node->ledger_ = std::move(*ledger);
  return node;
}

Result<std::unique_ptr<SupplyNode>> SupplyNode::OpenMirror(const std::string& dir) {
  std::unique_ptr<SupplyNode> node(new SupplyNode());
  node->dir_ = dir;
  node->now_ = SystemNow;
  // The mirror's rules ran when it replayed each entry (Replica::Append); reads need none.
  PEDIGREE_ASSIGN(ledger,
                  log::Ledger::Open(dir, log::LedgerOptions{.read_only = true, .replica = true}));
  node->ledger_ = std::move(*ledger);
  return node;
}

void SupplyNode::SetClock(std::function<int64_t()> now) { now_ = std::move(now); }
int64_t SupplyNode::Now() const { return now_(); }

Result<std::unique_ptr<provenance::ProvenanceView>> SupplyNode::AcquireView() {
  {
    std::lock_guard lock(views_mutex_);
    if (!views_.empty()) {
      auto view = std::move(views_.back());
      views_.pop_back();
      return view;
    }
  }
  return provenance::ProvenanceView::Open(ledger_->db_path());
}

void SupplyNode::ReleaseView(std::unique_ptr<provenance::ProvenanceView> view) {
  std::lock_guard lock(views_mutex_);
  views_.push_back(std::move(view));
}

Result<uint64_t> SupplyNode::Submit(std::string envelope) {
  auto parsed = ParseJson(envelope, {.integers_only = true});
  if (!parsed) return std::unexpected(parsed.error().with_context("envelope"));
  const JsonValue* payload = parsed->find("payload");
  if (!payload || !payload->is_object()) {
    return Fail(Error("entry.malformed", "envelope has no payload object").at_field("payload"));
  }
  return SubmitChecked(std::move(envelope), *payload, false);
}

Result<uint64_t> SupplyNode::SubmitChecked(std::string envelope, const JsonValue& payload,
                                           bool signed_here) {
  std::string org = StringMember(payload, "org");
  std::string client_id = StringMember(payload, "clientId");
  if (org.empty() || client_id.empty())
    return Append(std::move(envelope), {}, payload, signed_here);
  // A client id names one command: a replay must carry the same one (see
  // docs/api.md, "Idempotency"). What counts is the command, so the time a node fills in
  // is left out of the comparison.
  // The comparison is paid only when a key is reused, never on a first use.
  std::string key = org + "\n" + client_id;
  {
    std::lock_guard lock(in_flight_mutex_);
    auto [it, fresh] = in_flight_.try_emplace(key, InFlight{&payload, {}, 0});
    if (!fresh) {
      InFlight& first = it->second;
      // The first payload is alive while no second has joined; keep its text from then on.
      if (first.command.empty()) first.command = CommandOf(*first.payload, signed_here);
      if (first.command != CommandOf(payload, signed_here))
        return Fail(IdempotencyConflict(client_id, {}));
    }
    ++it->second.count;
  }
  const uint64_t committed_before = ledger_->size();
  auto index = Append(std::move(envelope), key, payload, signed_here);
  {
    std::lock_guard lock(in_flight_mutex_);
    auto it = in_flight_.find(key);
    if (--it->second.count == 0) in_flight_.erase(it);
  }
  // Not in flight when we looked, so a first use is committed below `committed_before`
  // and the sequencer answered with its index: compare with what was stored there.
  if (index && *index < committed_before) {
    PEDIGREE_ASSIGN(stored, ledger_->Entry(*index));
    auto parsed = ParseJson(*stored, {.integers_only = true});
    const JsonValue* first = parsed ? parsed->find("payload") : nullptr;
    if (!first || CommandOf(*first, signed_here) != CommandOf(payload, signed_here)) {
      return Fail(IdempotencyConflict(client_id, *index));
    }
  }
  return index;
}

Result<uint64_t> SupplyNode::Append(std::string envelope, std::string key, const JsonValue& payload,
                                    bool signed_here) {
  // What this node signed a moment ago needs no second signature check (it is ~130 µs,
  // most of a node-signed command's cost); the rules still run, on `payload` (the tree this
  // node signed or parsed the envelope into, alive until Append returns) rather than on a
  // second parse of the envelope.
  auto index = ledger_->Append(std::move(envelope), std::move(key), signed_here, &payload);
  if (!index && index.error().code().rfind("alert.", 0) == 0) RecordAlert(index.error(), payload);
  return index;
}

std::string SupplyNode::CommandOf(const JsonValue& payload, bool signed_here) {
  // A captured EPCIS event keeps the bytes it came in (epcisEvent, epcisContext;
  // docs/epcis.md): the same event in another serialisation is the same command, so they
  // are left out as well.
  const bool kept = payload.is_object() && payload.find("epcisEvent") != nullptr;
  if ((!signed_here || !payload.is_object() || !payload.find("time")) && !kept) {
    return Canonicalize(payload);
  }
  auto command = JsonValue::Object();
  for (const auto& [name, value] : payload.as_object()) {
    if ((signed_here && name == "time") || name == "epcisEvent" || name == "epcisContext") continue;
    command.set(name, value);
  }
  return Canonicalize(command);
}

Error SupplyNode::IdempotencyConflict(const std::string& client_id,
                                      std::optional<uint64_t> first_index) {
  std::string first =
      first_index ? "entry " + std::to_string(*first_index) : "a command still being committed";
  return Error("idempotency.conflict",
               "idempotency key '" + client_id + "' was first used for a different command (" +
                   first + "); send the same body to replay it, or a new key for a new command")
      .at_field("clientId");
}

void SupplyNode::SetAlertLimit(int64_t max_alerts, int64_t window_seconds) {
  std::lock_guard lock(alerts_mutex_);
  alert_limit_ = std::max<int64_t>(0, max_alerts);
  alert_window_ = std::max<int64_t>(1, window_seconds);
}

void SupplyNode::RecordAlert(const Error& refusal, const JsonValue& payload) {
  std::string org = StringMember(payload, "org");
  std::string client_id = StringMember(payload, "clientId");
  const std::string subject = org.empty() ? std::string("unknown") : org;
  const std::string code = refusal.code().substr(std::string_view("alert.").size());
  std::lock_guard lock(alerts_mutex_);
  const int64_t now = Now();
  auto recent = Read([&](provenance::ProvenanceView& v) {
    return v.AlertsSince(subject, code, now - alert_window_ + 1);
  });
  int64_t& suppressed = suppressed_alerts_[{subject, code}];
  if (!recent || *recent >= alert_limit_) {
    ++suppressed;
    return;
  }
  auto alert = JsonValue::Object();
  alert.set("v", JsonValue(int64_t{1}));
  alert.set("kind", JsonValue("alert"));
  alert.set("org", JsonValue("node"));
  alert.set("clientId", JsonValue("alert/" + org + "/" + client_id));
  alert.set("time", JsonValue(FormatUtcTime(now)));
  alert.set("code", JsonValue(code));
  alert.set("subjectOrg", JsonValue(subject));
  if (suppressed > 0) alert.set("suppressed", JsonValue(suppressed));
  alert.set("message", JsonValue(refusal.message()));
  alert.set("refusedKind", JsonValue(StringMember(payload, "kind")));
  // The pack the refusal names: the rules start such messages with "<pack id>: ".
  const std::string& m = refusal.message();
  if (size_t colon = m.find(": ");
      m.rfind("https://id.gs1.org/", 0) == 0 && colon != std::string::npos) {
    alert.set("epc", JsonValue(m.substr(0, colon)));
  } else if (const JsonValue* epcs = payload.find("epcs");
             epcs && epcs->is_array() && epcs->size() == 1 && epcs->as_array()[0].is_string()) {
    alert.set("epc", epcs->as_array()[0]);
  }
  auto envelope = ledger_->SignAsNode(alert);
  if (!envelope) return;
  // A replay of the same refused command records its alert once.
  auto recorded =
      ledger_->Append(std::move(*envelope), "node\nalert/" + org + "/" + client_id, true);
  if (recorded) suppressed = 0;
}

Result<uint64_t> SupplyNode::SubmitAsAuthority(const log::PrivateKey& authority,
                                               const std::string& kind,
                                               const std::string& client_id, JsonValue payload) {
  payload.set("kind", JsonValue(kind));
  payload.set("clientId", JsonValue(client_id));
  PEDIGREE_ASSIGN(envelope,
                  SignCommand(payload, "authority", authority, Now(), "", ledger_->origin()));
  return Submit(std::move(*envelope));
}

Result<uint64_t> SupplyNode::RegisterOrg(const log::PrivateKey& authority,
                                         const OrgRegistration& org) {
  auto key = JsonValue::Object();
  key.set("key", JsonValue(org.public_key));
  key.set("validFrom", JsonValue(org.valid_from));
  auto keys = JsonValue::Array();
  keys.push_back(key);
  auto p = JsonValue::Object();
  p.set("id", JsonValue(org.id));
  p.set("name", JsonValue(org.name));
  p.set("roles", JsonValue::Strings(org.roles));
  if (!org.company_prefixes.empty())
    p.set("companyPrefixes", JsonValue::Strings(org.company_prefixes));
  if (!org.glns.empty()) p.set("glns", JsonValue::Strings(org.glns));
  p.set("keys", keys);
  return SubmitAsAuthority(authority, "org.register", "register-" + org.id, std::move(p));
}

Status SupplyNode::HoldKey(const std::string& org, const log::PrivateKey& key) {
  if (!SafeOrgId(org))
    return Fail(Error("node.bad_org", "'" + org + "' is not an organisation id").at_field("org"));
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "keys", ec);
  if (ec) return Fail("node.io", "cannot create " + dir_ + "/keys: " + ec.message());
  PEDIGREE_TRY(key.SavePem(KeyPath(dir_, org)));
  std::lock_guard lock(keys_mutex_);
  keys_[org] = std::make_unique<log::PrivateKey>(log::PrivateKey::FromPem(key.ToPem()).value());
  return Ok();
}

bool SupplyNode::HoldsKey(const std::string& org) const {
  std::lock_guard lock(keys_mutex_);
  return keys_.count(org) > 0 || (SafeOrgId(org) && fs::exists(KeyPath(dir_, org)));
}

namespace {

// The key this node holds for `org` (node-held-key mode), loaded from `dir`/keys on first use
// and kept in `keys` under `mutex`: node.bad_org for an id that is not one, node.no_key when
// the node holds none. The key lives as long as the node.
Result<const log::PrivateKey*> HeldKey(
    std::mutex& mutex, std::map<std::string, std::unique_ptr<log::PrivateKey>>& keys,
    const std::string& dir, const std::string& org) {
  if (!SafeOrgId(org))
    return Fail(Error("node.bad_org", "'" + org + "' is not an organisation id").at_field("org"));
  std::lock_guard lock(mutex);
  auto it = keys.find(org);
  if (it == keys.end()) {
    auto loaded = log::PrivateKey::LoadPem(KeyPath(dir, org));
    if (!loaded) {
      return Fail(Error("node.no_key", "this node holds no key for '" + org +
                                           "'; sign the event yourself or import a key")
                      .at_field("org"));
    }
    it = keys.emplace(org, std::make_unique<log::PrivateKey>(std::move(*loaded))).first;
  }
  return it->second.get();
}

}  // namespace

Result<uint64_t> SupplyNode::SubmitAs(const std::string& org, JsonValue payload) {
  PEDIGREE_ASSIGN(key, HeldKey(keys_mutex_, keys_, dir_, org));
  PEDIGREE_ASSIGN(envelope, SignCommand(payload, org, **key, Now(), "node-", ledger_->origin()));
  // The payload is at hand (SignCommand completed it and signed exactly it): no need to parse
  // the envelope back, here or in the rules.
  SortMembers(payload);
  return SubmitChecked(std::move(*envelope), payload, true);
}

namespace {

Error GroupAborted() {
  return Error("sequencer.group_aborted",
               "another entry of the same all-or-nothing group was refused; nothing of the group "
               "was written");
}

// `count` results: `refused`'s error at `at`, sequencer.group_aborted for the others.
std::vector<Result<uint64_t>> RefusedGroup(size_t count, size_t at, const Error& refused) {
  std::vector<Result<uint64_t>> results(count, Result<uint64_t>(std::unexpected(GroupAborted())));
  results[at] = std::unexpected(refused);
  return results;
}

}  // namespace

std::vector<Result<uint64_t>> SupplyNode::SubmitGroupAs(const std::string& org,
                                                        std::vector<JsonValue> payloads) {
  auto held = HeldKey(keys_mutex_, keys_, dir_, org);
  if (!held) {
    return std::vector<Result<uint64_t>>(payloads.size(),
                                         Result<uint64_t>(std::unexpected(held.error())));
  }
  const log::PrivateKey* key = *held;
  std::vector<std::string> envelopes;
  envelopes.reserve(payloads.size());
  const int64_t now = Now();
  for (size_t i = 0; i < payloads.size(); ++i) {
    auto envelope = SignCommand(payloads[i], org, *key, now, "node-", ledger_->origin());
    // Nothing is submitted: the refused payload's error, the others aborted.
    if (!envelope) return RefusedGroup(payloads.size(), i, envelope.error());
    envelopes.push_back(std::move(*envelope));
  }
  return SubmitGroupChecked(std::move(envelopes), payloads, true);
}

std::vector<Result<uint64_t>> SupplyNode::SubmitEachAs(const std::string& org,
                                                       std::vector<JsonValue> payloads) {
  auto held = HeldKey(keys_mutex_, keys_, dir_, org);
  if (!held) {
    return std::vector<Result<uint64_t>>(payloads.size(),
                                         Result<uint64_t>(std::unexpected(held.error())));
  }
  std::vector<std::string> envelopes(payloads.size());
  std::vector<std::optional<Error>> refused(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    // Each is signed at its turn's time, as SubmitAs signs.
    auto envelope = SignCommand(payloads[i], org, **held, Now(), "node-", ledger_->origin());
    if (envelope) {
      envelopes[i] = std::move(*envelope);
    } else {
      refused[i] = envelope.error();
    }
  }
  return SubmitGroupChecked(std::move(envelopes), payloads, true, false, std::move(refused));
}

std::vector<Result<uint64_t>> SupplyNode::SubmitGroup(std::vector<std::string> envelopes) {
  std::vector<JsonValue> payloads;
  payloads.reserve(envelopes.size());
  for (size_t i = 0; i < envelopes.size(); ++i) {
    auto parsed = ParseJson(envelopes[i], {.integers_only = true});
    if (!parsed) {
      return RefusedGroup(envelopes.size(), i, parsed.error().with_context("envelope"));
    }
    const JsonValue* payload = parsed->find("payload");
    if (!payload || !payload->is_object()) {
      return RefusedGroup(
          envelopes.size(), i,
          Error("entry.malformed", "envelope has no payload object").at_field("payload"));
    }
    payloads.push_back(*payload);
  }
  return SubmitGroupChecked(std::move(envelopes), payloads, false);
}

std::vector<Result<uint64_t>> SupplyNode::SubmitGroupChecked(
    std::vector<std::string> envelopes, const std::vector<JsonValue>& payloads, bool signed_here,
    bool all_or_nothing, std::vector<std::optional<Error>> refused) {
  const size_t count = envelopes.size();
  std::vector<Result<uint64_t>> results(count, Result<uint64_t>(0));
  refused.resize(count);
  // A conflict refuses the group, or (each on its own) only its payload.
  auto conflict = [&](size_t i, const Error& e) -> bool {
    if (all_or_nothing) {
      results = RefusedGroup(count, i, e);
      return true;
    }
    refused[i] = e;
    return false;
  };
  // Idempotency before the commit, so that a conflict writes nothing of the group. `keys[i]`
  // is payload i's (org, clientId) key; `answered[i]` says its result is known without
  // appending it (a replay of the ledger's or of an earlier payload of the group).
  std::vector<std::string> keys(count);
  std::vector<bool> answered(count, false);
  std::vector<size_t> same_as(count, SIZE_MAX);  // an earlier payload of the group it repeats
  std::unordered_map<std::string_view, size_t> first_of;
  std::vector<std::string_view> lookup;
  std::vector<size_t> looked_up;
  for (size_t i = 0; i < count; ++i) {
    const std::string org = StringMember(payloads[i], "org");
    const std::string client_id = StringMember(payloads[i], "clientId");
    if (org.empty() || client_id.empty()) continue;
    keys[i] = org + "\n" + client_id;
  }
  for (size_t i = 0; i < count; ++i) {
    if (refused[i]) answered[i] = true;
    if (keys[i].empty() || refused[i]) continue;
    auto [it, fresh] = first_of.try_emplace(keys[i], i);
    if (fresh) {
      lookup.push_back(keys[i]);
      looked_up.push_back(i);
      continue;
    }
    answered[i] = true;
    if (CommandOf(payloads[it->second], signed_here) != CommandOf(payloads[i], signed_here)) {
      Error e = IdempotencyConflict(StringMember(payloads[i], "clientId"), {});
      if (conflict(i, Error(e.code(), e.message() + " (payload " + std::to_string(it->second) +
                                          " of the same group)")
                          .at_field("clientId"))) {
        return results;
      }
      continue;
    }
    same_as[i] = it->second;
  }
  if (!lookup.empty()) {
    auto found = ledger_->storage().FindIdempotencyKeys(lookup);
    if (!found) return std::vector<Result<uint64_t>>(count, Result<uint64_t>(Fail(found.error())));
    for (size_t j = 0; j < looked_up.size(); ++j) {
      if (!(*found)[j]) continue;
      const size_t i = looked_up[j];
      const uint64_t first_index = *(*found)[j];
      auto stored = ledger_->Entry(first_index);
      if (!stored)
        return std::vector<Result<uint64_t>>(count, Result<uint64_t>(Fail(stored.error())));
      auto parsed = ParseJson(*stored, {.integers_only = true});
      const JsonValue* first = parsed ? parsed->find("payload") : nullptr;
      answered[i] = true;
      if (!first || CommandOf(*first, signed_here) != CommandOf(payloads[i], signed_here)) {
        if (conflict(i, IdempotencyConflict(StringMember(payloads[i], "clientId"), first_index))) {
          return results;
        }
        continue;
      }
      results[i] = first_index;
    }
  }
  // The rest, in order, in one transaction.
  std::vector<std::string> submitted, submitted_keys;
  std::vector<size_t> position;
  for (size_t i = 0; i < count; ++i) {
    if (answered[i]) continue;
    submitted.push_back(std::move(envelopes[i]));
    submitted_keys.push_back(keys[i]);
    position.push_back(i);
  }
  const uint64_t committed_before = ledger_->size();
  std::vector<Result<uint64_t>> appended;
  if (submitted.empty()) {
  } else if (all_or_nothing) {
    appended = ledger_->AppendGroup(std::move(submitted), std::move(submitted_keys), signed_here);
  } else {
    // All queued before the first is awaited: the sequencer keeps their order and commits
    // them in batches, judging each on its own.
    std::vector<std::future<Result<uint64_t>>> futures;
    futures.reserve(submitted.size());
    for (size_t k = 0; k < submitted.size(); ++k) {
      futures.push_back(
          ledger_->Submit(std::move(submitted[k]), std::move(submitted_keys[k]), signed_here));
    }
    for (auto& f : futures) appended.push_back(f.get());
  }
  for (size_t i = 0; i < count; ++i) {
    if (refused[i]) results[i] = std::unexpected(*refused[i]);
  }
  for (size_t k = 0; k < appended.size(); ++k) {
    const size_t i = position[k];
    results[i] = std::move(appended[k]);
    if (!results[i]) {
      if (results[i].error().code().rfind("alert.", 0) == 0)
        RecordAlert(results[i].error(), payloads[i]);
      continue;
    }
    // Committed by someone else since the look-up: it must hold the same command.
    if (*results[i] < committed_before && !keys[i].empty()) {
      auto stored = ledger_->Entry(*results[i]);
      if (!stored) {
        results[i] = std::unexpected(stored.error());
        continue;
      }
      auto parsed = ParseJson(*stored, {.integers_only = true});
      const JsonValue* first = parsed ? parsed->find("payload") : nullptr;
      if (!first || CommandOf(*first, signed_here) != CommandOf(payloads[i], signed_here)) {
        results[i] = std::unexpected(
            IdempotencyConflict(StringMember(payloads[i], "clientId"), *results[i]));
      }
    }
  }
  // A group refused by the rules wrote nothing: its replays of the ledger stand (their entries
  // are there), its repeats of its own payloads share their outcome.
  for (size_t i = 0; i < count; ++i) {
    if (same_as[i] != SIZE_MAX) results[i] = results[same_as[i]];
  }
  return results;
}

namespace {

// Where the pack is, relative to `caller` (VerifyAnswer::custody).
void DescribeCustody(const provenance::PackView& p, std::string_view caller, VerifyAnswer& a) {
  using provenance::PackStatus;
  if (p.facts.status != PackStatus::kActive) {
    a.custody = "decommissioned";
    const std::string what = p.facts.status == PackStatus::kSupplied
                                 ? std::string("dispensed")
                                 : std::string(provenance::PackStatusName(p.facts.status));
    a.custody_hint = what + (p.facts.status_org.empty() ? "" : " by " + p.facts.status_org) +
                     " on " + FormatDate(Today(p.facts.status_time));
    if (!caller.empty() && p.facts.status_org == caller) a.custody_hint += " (by you)";
    return;
  }
  if (caller.empty()) return;
  const std::string& holder = p.facts.holder_org;
  if (!p.in_transit_to.empty()) {
    if (p.in_transit_to == caller) {
      a.custody = "shipped_to_you";
      a.custody_hint = "shipped to you by " + holder + ", not yet received: receive it first";
    } else {
      a.custody = "in_transit";
      a.custody_hint = "in transit from " + holder + " to " + p.in_transit_to + ", not to you";
    }
  } else if (holder == caller) {
    a.custody = "yours";
    a.custody_hint = "in your custody";
  } else {
    a.custody = "held_by_other";
    a.custody_hint = "held by " + holder + ", not by you: receive it first";
  }
}

}  // namespace

Result<VerifyAnswer> SupplyNode::Verify(std::string_view code, std::string_view caller_org) {
  PEDIGREE_ASSIGN(data, scanner::ParseGs1(code));
  VerifyAnswer answer;
  for (const auto& w : data->warnings) answer.scan_hints.push_back(w.message);
  auto pack = data->pack_id();
  if (!pack) {
    return Fail(
        Error("verify.not_a_pack", "the code carries no GTIN and serial (AI 01 + 21) to verify")
            .at_field("code"));
  }
  answer.pack_id = pack->DigitalLinkUri();
  answer.gtin = pack->gtin().value();
  answer.serial = pack->serial().value();
  auto scanned_lot = data->lot();
  auto scanned_expiry = data->expiry();
  if (scanned_lot) answer.lot = scanned_lot->value();
  if (scanned_expiry) answer.expiry = scanned_expiry->IsoDate();
  int64_t now = Now();
  auto found =
      Read([&](provenance::ProvenanceView& view) -> Result<std::optional<provenance::PackView>> {
        auto p = view.Pack(answer.gtin, answer.serial);
        if (!p || *p) return p;
        PEDIGREE_ASSIGN(known, view.ProductExists(answer.gtin));
        answer.reasons.push_back(
            *known ? provenance::Alert{provenance::AlertCode::kUnknownSerial,
                                       "no pack with serial '" + answer.serial +
                                           "' was commissioned for " + answer.gtin}
                   : provenance::Alert{provenance::AlertCode::kUnknownProduct,
                                       "product " + answer.gtin + " is not registered"});
        return p;
      });
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    answer.status = "unknown";
    for (const auto& f : scanner::DiagnoseGs1(code).findings)
      answer.scan_hints.push_back(f.message);
    return answer;
  }
  const provenance::PackView& p = **found;
  answer.lot = p.lot;
  answer.expiry = FormatDate(p.facts.expiry);
  answer.product_name = p.product_name;
  answer.status = std::string(provenance::PackStatusName(p.facts.status));
  answer.holder = p.facts.holder_org;
  answer.in_transit_to = p.in_transit_to;
  answer.batch_status = std::string(provenance::BatchStatusName(p.facts.batch_status));
  answer.batch_status_reason = p.batch_status_reason;
  answer.batch_status_index = p.batch_status_index;
  answer.status_org = p.facts.status_org;
  answer.status_time = p.facts.status_time;
  DescribeCustody(p, caller_org, answer);
  std::optional<std::string_view> lot_view;
  if (scanned_lot) lot_view = scanned_lot->value();
  std::optional<std::chrono::year_month_day> expiry_view;
  if (scanned_expiry) expiry_view = scanned_expiry->date();
  answer.reasons = provenance::CheckScan(p.facts, p.lot, lot_view, expiry_view, Today(now));
  // A recall or withdrawal names the manufacturer's reason and the entry that recorded it.
  for (provenance::Alert& r : answer.reasons) {
    if (r.code == provenance::AlertCode::kRecalled || r.code == provenance::AlertCode::kWithdrawn) {
      r.message = answer.batch_status + ": " + answer.batch_status_reason +
                  " (batch.status entry " + std::to_string(answer.batch_status_index) + ")";
    }
  }
  answer.verified = answer.reasons.empty();
  return answer;
}

namespace {

JsonValue AlertJson(const provenance::Alert& a) {
  auto o = JsonValue::Object();
  o.set("code", JsonValue(std::string(provenance::DescribeAlert(a.code).id)));
  o.set("message", JsonValue(a.message));
  o.set("nextStep", JsonValue(std::string(provenance::DescribeAlert(a.code).next_step)));
  return o;
}

}  // namespace

JsonValue VerifyAnswerJson(const VerifyAnswer& v, int64_t now) {
  auto o = JsonValue::Object();
  o.set("verified", JsonValue(v.verified));
  o.set("packId", JsonValue(v.pack_id));
  o.set("gtin", JsonValue(v.gtin));
  o.set("serial", JsonValue(v.serial));
  if (!v.lot.empty()) o.set("lot", JsonValue(v.lot));
  if (!v.expiry.empty()) o.set("expiry", JsonValue(v.expiry));
  if (!v.product_name.empty()) o.set("product", JsonValue(v.product_name));
  o.set("status", JsonValue(v.status));
  if (!v.batch_status.empty()) {
    o.set("batchStatus", JsonValue(v.batch_status));
    if (v.batch_status != "active") {
      o.set("batchStatusReason", JsonValue(v.batch_status_reason));
      o.set("batchStatusEntry", JsonValue(static_cast<int64_t>(v.batch_status_index)));
    }
  }
  if (!v.holder.empty()) o.set("holder", JsonValue(v.holder));
  if (!v.in_transit_to.empty()) o.set("inTransitTo", JsonValue(v.in_transit_to));
  if (!v.status_org.empty()) {
    o.set("statusBy", JsonValue(v.status_org));
    o.set("statusTime", JsonValue(FormatUtcTime(v.status_time)));
  }
  if (!v.custody.empty()) o.set("custody", JsonValue(v.custody));
  if (!v.custody_hint.empty()) o.set("custodyHint", JsonValue(v.custody_hint));
  auto reasons = JsonValue::Array();
  for (const auto& r : v.reasons) reasons.push_back(AlertJson(r));
  o.set("reasons", reasons);
  auto hints = JsonValue::Array();
  for (const auto& h : v.scan_hints) hints.push_back(JsonValue(h));
  o.set("scanHints", hints);
  o.set("timestamp", JsonValue(FormatUtcTime(now)));
  return o;
}

}  // namespace pedigree::services
