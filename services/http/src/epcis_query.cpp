// The EPCIS 2.0 query interface: parameters, candidates, rendering, filters, access, pages.
// Events are rendered one at a time by the export's own mapping (with the registry, batch and
// shipment entries it needs), so a queried event has the eventID an export gives it.
#include "epcis_query.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include "api_scope.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/time.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/shipment_view.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/epcis.h"

namespace pedigree::services::epcis_query {
namespace {

Error Bad(const std::string& param, const std::string& value, const std::string& why) {
  return Error("epcis.query_parameter",
               "parameter '" + param + "' " + why + ", got '" + value + "'")
      .at_field(param);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    out.push_back(
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool ReadDigits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// An EPCIS (xsd:dateTime) time with a zone: YYYY-MM-DDThh:mm:ss[.f…](Z|±hh:mm), as unix
// milliseconds (fractions below a millisecond are dropped).
std::optional<int64_t> ParseEpcisTime(std::string_view text) {
  if (text.size() < 20) return std::nullopt;
  auto base = ParseUtcTime(std::string(text.substr(0, 19)) + "Z");
  if (!base) return std::nullopt;
  size_t at = 19;
  int64_t millis = 0;
  if (text[at] == '.') {
    ++at;
    int64_t scale = 100;
    size_t digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int hh = 0, mm = 0;
    if (!ReadDigits(text, at + 1, 2, &hh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !ReadDigits(text, at + 4, 2, &mm) || hh > 23 || mm > 59) {
      return std::nullopt;
    }
    offset = (hh * 3600 + mm * 60) * (text[at] == '+' ? 1 : -1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  return (*base - offset) * 1000 + millis;
}

// A CBV value in any of its spellings (bare word, urn:epcglobal:cbv:…, https://ref.gs1.org/cbv/…)
// as the bare word the export writes.
std::optional<std::string> CbvWord(const std::string& value, std::string_view urn_prefix,
                                   std::string_view web_prefix) {
  std::string word = value;
  if (value.starts_with(urn_prefix)) {
    word = value.substr(urn_prefix.size());
  } else if (value.starts_with(web_prefix)) {
    word = value.substr(web_prefix.size());
  }
  if (word.empty() || !std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      })) {
    return std::nullopt;
  }
  return word;
}

// A GLN location (Digital Link /414/ or an sgln URN) as the export writes it.
std::optional<std::string> CanonicalLocation(const std::string& value) {
  const std::string uri = scanner::epcis::NormaliseEpc(value);
  constexpr std::string_view kPrefix = "https://id.gs1.org/414/";
  if (!uri.starts_with(kPrefix) || uri.size() != kPrefix.size() + 13) return std::nullopt;
  int ignored = 0;
  for (size_t i = kPrefix.size(); i < uri.size(); ++i) {
    if (!ReadDigits(uri, i, 1, &ignored)) return std::nullopt;
  }
  return uri;
}

const std::string* Text(const JsonValue& o, std::string_view key) {
  const JsonValue* v = o.find(key);
  return v != nullptr && v->is_string() ? &v->as_string() : nullptr;
}

const std::string* LocationId(const JsonValue& ev, std::string_view key) {
  const JsonValue* loc = ev.find(key);
  return loc != nullptr && loc->is_object() ? Text(*loc, "id") : nullptr;
}

bool Contains(const std::vector<std::string>& list, const std::string* value) {
  return value != nullptr && std::find(list.begin(), list.end(), *value) != list.end();
}

// The EPCs an event names in epcList / childEPCs (and parentID when `with_parent`).
std::vector<std::string> EpcsOf(const JsonValue& ev, bool with_list, bool with_parent) {
  std::vector<std::string> out;
  if (with_list) {
    for (const char* member : {"epcList", "childEPCs"}) {
      const JsonValue* list = ev.find(member);
      if (list == nullptr || !list->is_array()) continue;
      for (const JsonValue& e : list->as_array()) {
        if (e.is_string()) out.push_back(e.as_string());
      }
    }
  }
  if (with_parent) {
    if (const std::string* parent = Text(ev, "parentID")) out.push_back(*parent);
  }
  return out;
}

bool AnyOf(const std::vector<std::string>& wanted, const std::vector<std::string>& named) {
  for (const std::string& n : named) {
    if (std::find(wanted.begin(), wanted.end(), n) != wanted.end()) return true;
  }
  return false;
}

bool InRange(std::optional<int64_t> t, std::optional<int64_t> ge, std::optional<int64_t> lt) {
  if (!ge && !lt) return true;
  if (!t) return false;
  return (!ge || *t >= *ge) && (!lt || *t < *lt);
}

bool Matches(const EventQuery& q, const JsonValue& ev, int64_t sequenced_at) {
  if (!q.event_types.empty() && !Contains(q.event_types, Text(ev, "type"))) return false;
  std::optional<int64_t> event_time;
  if (const std::string* t = Text(ev, "eventTime")) event_time = ParseEpcisTime(*t);
  if (!InRange(event_time, q.ge_event_time, q.lt_event_time)) return false;
  std::optional<int64_t> record_time;
  if (sequenced_at > 0) record_time = sequenced_at * 1000;
  if (!InRange(record_time, q.ge_record_time, q.lt_record_time)) return false;
  if (!q.actions.empty() && !Contains(q.actions, Text(ev, "action"))) return false;
  if (!q.biz_steps.empty() && !Contains(q.biz_steps, Text(ev, "bizStep"))) return false;
  if (!q.dispositions.empty() && !Contains(q.dispositions, Text(ev, "disposition"))) return false;
  if (!q.biz_locations.empty() && !Contains(q.biz_locations, LocationId(ev, "bizLocation"))) {
    return false;
  }
  if (!q.read_points.empty() && !Contains(q.read_points, LocationId(ev, "readPoint"))) {
    return false;
  }
  if (!q.match_epc.empty() && !AnyOf(q.match_epc, EpcsOf(ev, true, false))) return false;
  if (!q.match_parent_id.empty() && !AnyOf(q.match_parent_id, EpcsOf(ev, false, true))) {
    return false;
  }
  if (!q.match_any_epc.empty() && !AnyOf(q.match_any_epc, EpcsOf(ev, true, true))) return false;
  if (!q.event_ids.empty() && !Contains(q.event_ids, Text(ev, "eventID"))) return false;
  return true;
}

const std::set<std::string>& EventKinds() {
  static const std::set<std::string> kinds = {"commission",   "aggregate", "disaggregate",
                                              "ship",         "receive",   "sensor",
                                              "decommission", "undo",      "verify"};
  return kinds;
}

// Renders single entries as the export does, loading the entries each one needs (the
// registry entries of its parties, its batch, the shipment a receipt closes). One per request.
class Renderer {
 public:
  Renderer(SupplyNode& node, ShipmentViews& ships) : node_(node), pool_(ships) {}
  ~Renderer() {
    if (ships_) pool_.Release(std::move(ships_));
  }
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  // The entry's EPCIS event, or nothing when its kind is none (registry, alerts, …).
  Result<std::optional<JsonValue>> Render(uint64_t index) {
    PEDIGREE_ASSIGN(self, Load(index));
    const JsonValue& p = (*self)->payload;
    const std::string* kind = Text(p, "kind");
    if (kind == nullptr || !EventKinds().contains(*kind)) return std::optional<JsonValue>();
    // Before the Loads below, which may drop `self` from the cache.
    PEDIGREE_ASSIGN(kept, scanner::epcis::KeptEvent(**self));
    kept_ = std::move(*kept);
    kept_index_ = index;
    std::set<uint64_t> context;
    for (const char* member : {"org", "to", "from"}) {
      const std::string* org = Text(p, member);
      if (org == nullptr) continue;
      PEDIGREE_ASSIGN(reg, OrgRegisterEntry(*org));
      if (*reg) context.insert(**reg);
    }
    if (*kind == "commission") {
      const std::string* gtin = Text(p, "gtin");
      const std::string* lot = Text(p, "lot");
      if (gtin != nullptr && lot != nullptr) {
        PEDIGREE_ASSIGN(batch, node_.Read([&](provenance::ProvenanceView& v) {
          return v.BatchEntries(*gtin, *lot);
        }));
        if (!batch->empty()) context.insert(batch->front());
      }
    } else if (*kind == "receive" || *kind == "sensor") {
      const std::string* from = Text(p, "from");
      const std::string* advice = Text(p, "despatchAdvice");
      if (from != nullptr && advice != nullptr) {
        // Opened on first use: most queries meet no receipt or sensor report.
        if (!ships_) {
          PEDIGREE_ASSIGN(opened, pool_.Acquire());
          ships_ = std::move(*opened);
        }
        PEDIGREE_ASSIGN(ship, ships_->ShippedEntry(*from, *advice));
        if (*ship) context.insert(**ship);
      }
    }
    context.insert(index);
    std::vector<scanner::epcis::LedgerEvent> entries;
    for (uint64_t i : context) {
      PEDIGREE_ASSIGN(e, Load(i));
      entries.push_back(**e);
    }
    // The filters match the pedigree rendering (bare CBV words, Digital Links), whatever form
    // a captured event came in; the answer is the kept event (Answer) under its own eventID.
    PEDIGREE_ASSIGN(doc, scanner::epcis::ExportDocument(entries, 0, {.kept = false}));
    const std::string proof = "/v1/log/proof/inclusion?index=" + std::to_string(index);
    if (kept_) kept_->set(std::string(scanner::epcis::kProofMember), proof);
    for (JsonValue& ev : doc->find("epcisBody")->find("eventList")->as_array()) {
      const JsonValue* at = ev.find(scanner::epcis::kLedgerIndexMember);
      if (at != nullptr && at->is_int() && static_cast<uint64_t>(at->as_int()) == index) {
        ev.set(std::string(scanner::epcis::kProofMember), proof);
        if (kept_) ev.set("eventID", *kept_->find("eventID"));
        return std::optional<JsonValue>(std::move(ev));
      }
    }
    return std::optional<JsonValue>();
  }

  // What the answer carries for the event Render(index) returned: the kept captured event
  // when the entry keeps one, else the rendering itself. `prefixes` receives the extension
  // prefixes the kept event needs.
  JsonValue Answer(uint64_t index, JsonValue rendered,
                   std::vector<std::pair<std::string, std::string>>& prefixes) {
    if (kept_index_ != index || !kept_) return rendered;
    auto self = Load(index);
    if (self) {
      for (auto& p : scanner::epcis::KeptPrefixes((*self)->payload)) prefixes.push_back(p);
    }
    JsonValue out = std::move(*kept_);
    kept_.reset();
    return out;
  }

  Result<const scanner::epcis::LedgerEvent*> Load(uint64_t index) {
    auto it = loaded_.find(index);
    if (it != loaded_.end()) return &it->second;
    PEDIGREE_ASSIGN(envelope, node_.ledger().Entry(index));
    // The log verified the signature when it appended the entry; a query renders what the
    // log holds and links the proof, as the entries route does.
    auto parsed = ParseJson(*envelope);
    const JsonValue* payload = parsed ? parsed->find("payload") : nullptr;
    if (payload == nullptr || !payload->is_object()) {
      return Fail(Error("storage.corrupt",
                        "stored entry " + std::to_string(index) + " has no payload object"));
    }
    scanner::epcis::LedgerEvent e{index, *payload, log::LeafSequencingTime(*envelope).value_or(0)};
    if (loaded_.size() > 4096) loaded_.clear();
    return &loaded_.emplace(index, std::move(e)).first->second;
  }

 private:
  Result<std::optional<uint64_t>> OrgRegisterEntry(const std::string& org) {
    auto it = org_register_.find(org);
    if (it != org_register_.end()) return it->second;
    PEDIGREE_ASSIGN(reg,
                    node_.Read([&](provenance::ProvenanceView& v) { return v.OrgRegistry(org); }));
    std::optional<uint64_t> first;
    if (!reg->entries.empty()) first = reg->entries.front();
    org_register_[org] = first;
    return first;
  }

  SupplyNode& node_;
  ShipmentViews& pool_;
  std::optional<JsonValue> kept_;  // of the last rendered entry, kept_index_
  uint64_t kept_index_ = 0;
  std::unique_ptr<provenance::ShipmentView> ships_;
  std::unordered_map<uint64_t, scanner::epcis::LedgerEvent> loaded_;
  std::unordered_map<std::string, std::optional<uint64_t>> org_register_;
};

// The access rule of docs/api.md for one event: regulators every event; an organisation the
// events it signed or is named in, and the events naming a pack, case or pallet it handled
// (the pack and container rule).
class Visibility {
 public:
  Visibility(SupplyNode& node, const Principal& caller) : node_(node), caller_(caller) {}

  Result<bool> Visible(const JsonValue& payload, const JsonValue& event) {
    if (api::IsRegulator(caller_)) return true;
    for (const char* member : {"org", "to", "from"}) {
      const std::string* org = Text(payload, member);
      if (org != nullptr && *org == caller_.org_id) return true;
    }
    for (const std::string& epc : EpcsOf(event, true, true)) {
      PEDIGREE_ASSIGN(handled, Handled(epc));
      if (*handled) return true;
    }
    return false;
  }

 private:
  Result<bool> Handled(const std::string& epc) {
    auto it = handled_.find(epc);
    if (it != handled_.end()) return it->second;
    std::vector<uint64_t> history;
    if (auto pack = reports::ParsePackCode(epc)) {
      PEDIGREE_ASSIGN(h, node_.Read([&](provenance::ProvenanceView& v) {
        return v.PackHistory(pack->gtin().value(), pack->serial().value());
      }));
      history = std::move(*h);
    } else if (auto sscc = reports::ParseContainerCode(epc)) {
      PEDIGREE_ASSIGN(h, node_.Read([&](provenance::ProvenanceView& v) {
        return v.ContainerHistory(sscc->value());
      }));
      history = std::move(*h);
    }
    bool handled = false;
    for (uint64_t index : history) {
      PEDIGREE_ASSIGN(named, api::NamesOrg(node_, index, caller_.org_id, /*custody_only=*/true));
      if (*named) {
        handled = true;
        break;
      }
    }
    handled_[epc] = handled;
    return handled;
  }

  SupplyNode& node_;
  const Principal& caller_;
  std::unordered_map<std::string, bool> handled_;
};

// Every entry that can name one of `epcs`: the histories the provenance tables index by pack
// and by container.
Result<std::vector<uint64_t>> HistoryOf(SupplyNode& node, const std::vector<std::string>& epcs) {
  std::vector<uint64_t> out;
  for (const std::string& epc : epcs) {
    Result<std::vector<uint64_t>> h = std::vector<uint64_t>();
    if (auto pack = reports::ParsePackCode(epc)) {
      h = node.Read([&](provenance::ProvenanceView& v) {
        return v.PackHistory(pack->gtin().value(), pack->serial().value());
      });
    } else if (auto sscc = reports::ParseContainerCode(epc)) {
      h = node.Read(
          [&](provenance::ProvenanceView& v) { return v.ContainerHistory(sscc->value()); });
    }
    if (!h) return std::unexpected(h.error());
    out.insert(out.end(), h->begin(), h->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::optional<std::string> CanonicalEpc(const std::string& value) {
  const std::string uri = scanner::epcis::NormaliseEpc(value);
  if (!uri.starts_with("https://") && !uri.starts_with("http://")) return std::nullopt;
  if (auto pack = reports::ParsePackCode(uri)) return pack->DigitalLinkUri();
  if (auto sscc = reports::ParseContainerCode(uri)) return "https://id.gs1.org/00/" + sscc->value();
  return std::nullopt;
}

Result<EventQuery> ParseEventQuery(const std::map<std::string, std::string>& params) {
  EventQuery q;
  for (const auto& [name, value] : params) {
    auto words = [&](std::vector<std::string>& into, std::string_view urn,
                     std::string_view web) -> Status {
      for (const std::string& v : SplitList(value)) {
        auto word = CbvWord(v, urn, web);
        if (!word) return Fail(Bad(name, v, "is not a CBV value"));
        into.push_back(*word);
      }
      return Ok();
    };
    auto epcs = [&](std::vector<std::string>& into) -> Status {
      for (const std::string& v : SplitList(value)) {
        auto epc = CanonicalEpc(v);
        if (!epc) {
          return Fail(Bad(name, v,
                          "is not the GS1 Digital Link or EPC URN of a pack (01 + 21) or an SSCC "
                          "(patterns are not supported)"));
        }
        into.push_back(*epc);
      }
      return Ok();
    };
    auto locations = [&](std::vector<std::string>& into) -> Status {
      for (const std::string& v : SplitList(value)) {
        auto loc = CanonicalLocation(v);
        if (!loc) return Fail(Bad(name, v, "is not a GLN (https://id.gs1.org/414/… or sgln URN)"));
        into.push_back(*loc);
      }
      return Ok();
    };
    auto time = [&](std::optional<int64_t>& into) -> Status {
      auto t = ParseEpcisTime(value);
      if (!t) return Fail(Bad(name, value, "is not a time YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm)"));
      into = t;
      return Ok();
    };
    Status s = Ok();
    if (name == "eventType") {
      static const std::set<std::string> kTypes = {"ObjectEvent", "AggregationEvent",
                                                   "TransactionEvent", "TransformationEvent",
                                                   "AssociationEvent"};
      for (const std::string& v : SplitList(value)) {
        if (!kTypes.contains(v)) {
          s = Fail(Bad(name, v, "is not an EPCIS 2.0 event type"));
          break;
        }
        q.event_types.push_back(v);
      }
    } else if (name == "GE_eventTime") {
      s = time(q.ge_event_time);
    } else if (name == "LT_eventTime") {
      s = time(q.lt_event_time);
    } else if (name == "GE_recordTime") {
      s = time(q.ge_record_time);
    } else if (name == "LT_recordTime") {
      s = time(q.lt_record_time);
    } else if (name == "EQ_action") {
      for (const std::string& v : SplitList(value)) {
        if (v != "ADD" && v != "OBSERVE" && v != "DELETE") {
          s = Fail(Bad(name, v, "is not ADD, OBSERVE or DELETE"));
          break;
        }
        q.actions.push_back(v);
      }
    } else if (name == "EQ_bizStep") {
      s = words(q.biz_steps, "urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-");
    } else if (name == "EQ_disposition") {
      s = words(q.dispositions, "urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-");
    } else if (name == "EQ_bizLocation") {
      s = locations(q.biz_locations);
    } else if (name == "EQ_readPoint") {
      s = locations(q.read_points);
    } else if (name == "MATCH_epc") {
      s = epcs(q.match_epc);
    } else if (name == "MATCH_parentID") {
      s = epcs(q.match_parent_id);
    } else if (name == "MATCH_anyEPC") {
      s = epcs(q.match_any_epc);
    } else if (name == "EQ_eventID") {
      for (const std::string& v : SplitList(value)) {
        if (v.empty()) {
          s = Fail(Bad(name, value, "holds an empty eventID"));
          break;
        }
        q.event_ids.push_back(v);
      }
    } else if (name == "perPage") {
      size_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMaxPerPage) {
        s = Fail(Bad(name, value, "must be an integer from 1 to " + std::to_string(kMaxPerPage)));
      }
      q.per_page = n;
    } else if (name == "nextPageToken") {
      q.page_token = value;
    } else if (name == "orderBy") {
      if (value != "recordTime") {
        s = Fail(
            Bad(name, value, "must be recordTime (ledger order; no other order is supported)"));
      }
    } else if (name == "orderDirection") {
      if (value != "ASC" && value != "DESC") s = Fail(Bad(name, value, "must be ASC or DESC"));
      q.descending = value == "DESC";
    } else {
      s = Fail(Bad(name, value,
                   "is not a query parameter pedigree supports (docs/epcis.md, "
                   "\"Query\")"));
    }
    if (!s) return std::unexpected(s.error());
  }
  return q;
}

PageTokens::PageTokens() { RandomBytes(key_); }

namespace {
// H(key ‖ H(key ‖ message)): keyed so nobody else can mint a token, nested so the length
// extension of a plain H(key ‖ message) does not apply.
std::string Mac(const std::array<uint8_t, 32>& key, const std::string& message) {
  std::string inner(key.begin(), key.end());
  inner += message;
  Hash h = Sha256(inner);
  std::string outer(key.begin(), key.end());
  outer.append(h.begin(), h.end());
  Hash mac = Sha256(outer);
  return ToHex(std::span<const uint8_t>(mac.data(), 16));
}

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

std::string PageTokens::Issue(uint64_t after_index, const std::string& binding) const {
  const std::string head = Hex16(after_index);
  return head + Mac(key_, head + "\n" + binding);
}

Result<uint64_t> PageTokens::Check(const std::string& token, const std::string& binding) const {
  auto refuse = [&] {
    return Fail(Bad("nextPageToken", token,
                    "is not a token this node issued for this query (tokens do not survive a "
                    "restart or a change of the filters)"));
  };
  if (token.size() != 48) return refuse();
  const std::string head = token.substr(0, 16);
  if (Mac(key_, head + "\n" + binding) != token.substr(16)) return refuse();
  uint64_t index = 0;
  auto [end, ec] = std::from_chars(head.data(), head.data() + head.size(), index, 16);
  if (ec != std::errc() || end != head.data() + head.size()) return refuse();
  return index;
}

std::string Binding(const HttpRequest& req) {
  std::string out = req.path;
  for (const auto& [k, v] : req.query) {
    if (k == "nextPageToken" || k == "perPage") continue;
    out += "\n" + k + "=" + v;
  }
  return out;
}

Result<std::unique_ptr<provenance::ShipmentView>> ShipmentViews::Acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto view = std::move(free_.back());
      free_.pop_back();
      return view;
    }
  }
  return provenance::ShipmentView::Open(db_path_);
}

void ShipmentViews::Release(std::unique_ptr<provenance::ShipmentView> view) {
  std::lock_guard lock(mutex_);
  // As many as requests ran at once, and no more than a server's threads would use.
  if (free_.size() < 16) free_.push_back(std::move(view));
}

Result<EventPage> RunEventQuery(SupplyNode& node, ShipmentViews& ships, const Principal& caller,
                                const EventQuery& q, std::optional<uint64_t> after) {
  Renderer renderer(node, ships);
  Visibility visibility(node, caller);
  EventPage page;

  // Returns true when the page is full.
  auto consider = [&](uint64_t index) -> Result<bool> {
    PEDIGREE_ASSIGN(event, renderer.Render(index));
    if (!*event) return false;
    PEDIGREE_ASSIGN(entry, renderer.Load(index));
    if (!Matches(q, **event, (*entry)->sequenced_at)) return false;
    PEDIGREE_ASSIGN(visible, visibility.Visible((*entry)->payload, **event));
    if (!*visible) return false;
    page.events.push_back(renderer.Answer(index, std::move(**event), page.prefixes));
    return page.events.size() >= q.per_page;
  };

  std::vector<std::string> named = q.match_epc;
  named.insert(named.end(), q.match_parent_id.begin(), q.match_parent_id.end());
  named.insert(named.end(), q.match_any_epc.begin(), q.match_any_epc.end());
  if (!named.empty()) {
    // Every event naming an EPC is in that EPC's history (pack_events, container_events).
    PEDIGREE_ASSIGN(candidates, HistoryOf(node, named));
    if (q.descending) std::reverse(candidates->begin(), candidates->end());
    for (size_t i = 0; i < candidates->size(); ++i) {
      const uint64_t index = (*candidates)[i];
      if (after && (q.descending ? index >= *after : index <= *after)) continue;
      PEDIGREE_ASSIGN(full, consider(index));
      if (*full) {
        if (i + 1 < candidates->size()) page.next_after = index;
        break;
      }
    }
    return page;
  }

  const uint64_t size = node.ledger().size();
  if (size == 0) return page;
  uint64_t examined = 0;
  if (!q.descending) {
    for (uint64_t index = after ? *after + 1 : 0; index < size; ++index) {
      PEDIGREE_ASSIGN(full, consider(index));
      ++examined;
      if (*full || examined >= kScanBudget) {
        if (index + 1 < size) page.next_after = index;
        break;
      }
    }
  } else {
    if (after && *after == 0) return page;
    for (uint64_t index = after ? *after - 1 : size - 1;; --index) {
      PEDIGREE_ASSIGN(full, consider(index));
      ++examined;
      if (*full || examined >= kScanBudget) {
        if (index > 0) page.next_after = index;
        break;
      }
      if (index == 0) break;
    }
  }
  return page;
}

JsonValue QueryDocument(JsonValue events, int64_t creation_time,
                        const std::vector<std::pair<std::string, std::string>>& prefixes) {
  JsonValue context = JsonValue::Array();
  context.push_back(std::string(scanner::epcis::kEpcisContextUrl));
  JsonValue declared = JsonValue::Object().set(std::string(scanner::epcis::kPedigreePrefix),
                                               std::string(scanner::epcis::kPedigreeNamespace));
  for (const auto& [prefix, iri] : prefixes) {
    if (declared.find(prefix) == nullptr) declared.set(prefix, iri);
  }
  context.push_back(std::move(declared));
  JsonValue results =
      JsonValue::Object()
          .set("queryName", "SimpleEventQuery")
          .set("resultsBody", JsonValue::Object().set("eventList", std::move(events)));
  return JsonValue::Object()
      .set("@context", std::move(context))
      .set("type", "EPCISQueryDocument")
      .set("schemaVersion", "2.0")
      .set("creationDate", FormatUtcTime(creation_time))
      .set("epcisBody", JsonValue::Object().set("queryResults", std::move(results)));
}

}  // namespace pedigree::services::epcis_query
