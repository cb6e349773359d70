// The EPCIS 2.0 query interface over the ledger (docs/epcis.md, "Query"): the standard query
// parameters of `GET /events` and the REST paths that fix one of them, evaluated on the
// events the export renders (scanner::epcis::ExportDocument), with the access rules of
// docs/api.md and tamper-evident page tokens. Private to services/http.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/http/http_server.h"
#include "pedigree/provenance/shipment_view.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services::epcis_query {

// One query, parsed. Each list is a disjunction ("any of"), and the filters given are all
// required. Times are unix milliseconds; EPCs and locations canonical GS1 Digital Links;
// bizStep and disposition bare CBV words.
struct EventQuery {
  std::vector<std::string> event_types;
  std::optional<int64_t> ge_event_time, lt_event_time, ge_record_time, lt_record_time;
  std::vector<std::string> actions, biz_steps, dispositions, biz_locations, read_points;
  std::vector<std::string> match_epc, match_parent_id, match_any_epc, event_ids;
  size_t per_page = 30;
  bool descending = false;
  std::string page_token;  // as the client sent it; empty on the first page
};

inline constexpr size_t kMaxPerPage = 1000;
// The most entries one request examines when no EPC narrows the query: a page may then hold
// fewer than perPage events and still carry a next page token, so no request walks the whole
// log.
inline constexpr uint64_t kScanBudget = 20000;

// Parses the query parameters. Errors: epcis.query_parameter naming the parameter (field) and
// the offending value: an unknown parameter, a bad time, an EPC or location that is no GS1
// Digital Link or EPC URN, a perPage outside 1..kMaxPerPage, an unsupported orderBy.
[[nodiscard]] Result<EventQuery> ParseEventQuery(const std::map<std::string, std::string>& params);

// A pack (01 + 21) or a case's or pallet's SSCC, in any form NormaliseEpc and the report's
// code parsers read (GS1 Digital Link, EPC URN), as the canonical Digital Link the export
// writes; empty when it is neither.
std::optional<std::string> CanonicalEpc(const std::string& value);

// Page tokens: the ledger index a page ended at, bound to the query that produced it by a MAC
// under a key drawn when the node starts (a token outlives neither a restart nor a change of
// the query's filters). Thread-safe after construction.
class PageTokens {
 public:
  PageTokens();
  std::string Issue(uint64_t after_index, const std::string& binding) const;
  // The index of a token this node issued for `binding`; epcis.query_parameter otherwise.
  [[nodiscard]] Result<uint64_t> Check(const std::string& token, const std::string& binding) const;

 private:
  std::array<uint8_t, 32> key_{};
};

// The request's canonical form a page token is bound to: path and parameters without
// nextPageToken and perPage.
std::string Binding(const HttpRequest& req);

// Read connections for the shipment lookups, kept between requests (opening one reads the
// whole schema). Thread-safe; must not outlive the ledger's database file's users.
class ShipmentViews {
 public:
  explicit ShipmentViews(std::string db_path) : db_path_(std::move(db_path)) {}
  [[nodiscard]] Result<std::unique_ptr<provenance::ShipmentView>> Acquire();
  void Release(std::unique_ptr<provenance::ShipmentView> view);

 private:
  std::string db_path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<provenance::ShipmentView>> free_;
};

struct EventPage {
  JsonValue events = JsonValue::Array();  // rendered events, with pedigree:ledgerIndex/proof
  std::optional<uint64_t> next_after;     // set when more may follow
  // The extension prefixes the kept captured events among `events` need in @context.
  std::vector<std::pair<std::string, std::string>> prefixes;
};

// Runs `query` for `caller` (regulators see every event; others the events they signed or are
// named in, and the events naming a pack, case or pallet they handled). `after`: the index the
// previous page ended at. Errors: storage.* only.
[[nodiscard]] Result<EventPage> RunEventQuery(SupplyNode& node, ShipmentViews& ships,
                                              const Principal& caller, const EventQuery& query,
                                              std::optional<uint64_t> after);

// An EPCISQueryDocument around `events`; `prefixes` are declared in its @context beside
// pedigree's (the first binding of a prefix wins).
JsonValue QueryDocument(JsonValue events, int64_t creation_time,
                        const std::vector<std::pair<std::string, std::string>>& prefixes = {});

}  // namespace pedigree::services::epcis_query
