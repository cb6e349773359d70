// The organisation scopes of the routes: object resolvers over the provenance and trial views.
// One rule per kind of object; an object the caller may not see answers as an unknown one.
#include "api_scope.h"

#include <algorithm>
#include <charconv>

#include "pedigree/base/canonical_json.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::services::api {
namespace {

// The identifier a request names: a path parameter, or the `code` query parameter.
Result<std::string> Named(const HttpRequest& req, NamedBy named_by, const std::string& param) {
  if (named_by == NamedBy::kPath) return req.path_params.at(param);
  auto it = req.query.find("code");
  if (it == req.query.end() || it->second.empty()) {
    return Fail(
        Error("request.missing_parameter", "parameter 'code' is required").at_field("code"));
  }
  return it->second;
}

const char* FieldOf(NamedBy named_by, const char* param) {
  return named_by == NamedBy::kPath ? param : "code";
}

// Whether any entry of `history` names `org` (custody events only).
Result<bool> AnyNames(SupplyNode& node, const std::vector<uint64_t>& history,
                      const std::string& org) {
  for (uint64_t index : history) {
    PEDIGREE_ASSIGN(named, NamesOrg(node, index, org, /*custody_only=*/true));
    if (*named) return true;
  }
  return false;
}

}  // namespace

bool IsRegulator(const Principal& p) { return p.roles.contains("regulator"); }

Result<bool> NamesOrg(SupplyNode& node, uint64_t index, const std::string& org, bool custody_only) {
  PEDIGREE_ASSIGN(entry, node.ledger().Entry(index));
  auto envelope = ParseJson(*entry);
  if (!envelope) {
    return Fail(Error("storage.corrupt", "stored entry " + std::to_string(index) +
                                             " does not parse: " + envelope.error().ToString()));
  }
  const JsonValue* payload = envelope->find("payload");
  if (!payload || !payload->is_object()) return false;
  if (custody_only) {
    const JsonValue* kind = payload->find("kind");
    if (kind && kind->is_string() &&
        (kind->as_string() == "verify" || kind->as_string().starts_with("alert"))) {
      return false;
    }
  }
  for (const char* member : {"org", "to", "from"}) {
    const JsonValue* v = payload->find(member);
    if (v && v->is_string() && v->as_string() == org) return true;
  }
  return false;
}

ScopeCheck PackScope(SupplyNode& node, NamedBy named_by) {
  return [&node, named_by](const HttpRequest& req) -> Status {
    PEDIGREE_ASSIGN(named, Named(req, named_by, "serial"));
    std::string gtin, serial;
    if (named_by == NamedBy::kPath) {
      gtin = req.path_params.at("gtin");
      serial = *named;
    } else {
      PEDIGREE_ASSIGN(pack, reports::ParsePackCode(*named));
      gtin = pack->gtin().value();
      serial = pack->serial().value();
    }
    auto not_found = [&] {
      return Fail(Error("pack.not_found", "no pack " + gtin + " / " + serial)
                      .at_field(FieldOf(named_by, "serial")));
    };
    PEDIGREE_ASSIGN(pack,
                    node.Read([&](provenance::ProvenanceView& v) { return v.Pack(gtin, serial); }));
    if (!*pack) return not_found();
    if (IsRegulator(*req.principal)) return Ok();
    PEDIGREE_ASSIGN(history, node.Read([&](provenance::ProvenanceView& v) {
      return v.PackHistory(gtin, serial);
    }));
    PEDIGREE_ASSIGN(handled, AnyNames(node, *history, req.principal->org_id));
    if (!*handled) return not_found();
    return Ok();
  };
}

ScopeCheck ContainerScope(SupplyNode& node, NamedBy named_by) {
  return [&node, named_by](const HttpRequest& req) -> Status {
    const char* field = FieldOf(named_by, "sscc");
    PEDIGREE_ASSIGN(named, Named(req, named_by, "sscc"));
    auto sscc = reports::ParseContainerCode(*named);
    if (!sscc) return Fail(sscc.error().at_field(field));
    auto not_found = [&] {
      return Fail(Error("container.not_found", "no container " + sscc->value()).at_field(field));
    };
    PEDIGREE_ASSIGN(container, node.Read([&](provenance::ProvenanceView& v) {
      return v.Container(sscc->value());
    }));
    if (!*container) return not_found();
    if (IsRegulator(*req.principal)) return Ok();
    PEDIGREE_ASSIGN(history, node.Read([&](provenance::ProvenanceView& v) {
      return v.ContainerHistory(sscc->value());
    }));
    PEDIGREE_ASSIGN(handled, AnyNames(node, *history, req.principal->org_id));
    if (!*handled) return not_found();
    return Ok();
  };
}

ScopeCheck BatchScope(SupplyNode& node) {
  return [&node](const HttpRequest& req) -> Status {
    const std::string& gtin = req.path_params.at("gtin");
    const std::string& lot = req.path_params.at("lot");
    PEDIGREE_ASSIGN(batch,
                    node.Read([&](provenance::ProvenanceView& v) { return v.Batch(gtin, lot); }));
    if (!*batch ||
        (!IsRegulator(*req.principal) && (*batch)->manufacturer != req.principal->org_id)) {
      return Fail(Error("batch.not_found", "no batch " + lot + " of " + gtin).at_field("lot"));
    }
    return Ok();
  };
}

ScopeCheck EntryScope(SupplyNode& node) {
  return [&node](const HttpRequest& req) -> Status {
    const std::string& text = req.path_params.at("index");
    uint64_t index = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Fail(Error("request.bad_parameter",
                        "parameter 'index' must be a non-negative integer, got '" + text + "'")
                      .at_field("index"));
    }
    auto not_found = [&] {
      return Fail(Error("entry.not_found", "no entry " + std::to_string(index) + " in this log")
                      .at_field("index"));
    };
    if (index >= node.ledger().size()) return not_found();
    // A mirror keeps the whole log (docs/mirror.md): every entry, like a regulator.
    if (IsRegulator(*req.principal) || req.principal->roles.contains("mirror")) return Ok();
    PEDIGREE_ASSIGN(named, NamesOrg(node, index, req.principal->org_id, false));
    if (!*named) return not_found();
    return Ok();
  };
}

namespace {

// Whether the caller is one of the trial's `parties` (regulators always: the route's roles
// decide whether a regulator may call it at all).
Result<bool> TrialParty(SupplyNode& node, const Principal& p, const std::string& trial_id,
                        TrialParties parties) {
  PEDIGREE_ASSIGN(view, provenance::TrialView::Open(node.ledger().db_path()));
  PEDIGREE_ASSIGN(trial, (*view)->Trial(trial_id));
  if (!*trial) return false;
  if (IsRegulator(p) || (*trial)->sponsor == p.org_id) return true;
  if (parties == TrialParties::kSponsorGrantees) {
    PEDIGREE_ASSIGN(grants, (*view)->Grants(trial_id));
    return std::any_of(grants->begin(), grants->end(),
                       [&](const provenance::GrantRecord& g) { return g.grantee == p.org_id; });
  }
  return parties == TrialParties::kSponsorSites &&
         std::find((*trial)->sites.begin(), (*trial)->sites.end(), p.org_id) !=
             (*trial)->sites.end();
}

}  // namespace

ScopeCheck TrialScope(SupplyNode& node, TrialParties parties) {
  return [&node, parties](const HttpRequest& req) -> Status {
    const std::string& id = req.path_params.at("id");
    PEDIGREE_ASSIGN(party, TrialParty(node, *req.principal, id, parties));
    if (!*party) return Fail(Error("trial.not_found", "no trial '" + id + "'").at_field("id"));
    return Ok();
  };
}

ScopeCheck TrialInBodyScope(SupplyNode& node, TrialParties parties) {
  return [&node, parties](const HttpRequest& req) -> Status {
    auto body = ParseJson(req.body);
    const JsonValue* id = body && body->is_object() ? body->find("trialId") : nullptr;
    if (!id || !id->is_string()) return Ok();
    PEDIGREE_ASSIGN(party, TrialParty(node, *req.principal, id->as_string(), parties));
    if (!*party) {
      return Fail(
          Error("trial.not_found", "no trial '" + id->as_string() + "'").at_field("trialId"));
    }
    return Ok();
  };
}

ScopeCheck KitScope(SupplyNode& node, NamedBy named_by) {
  return [&node, named_by](const HttpRequest& req) -> Status {
    const char* field = FieldOf(named_by, "kit");
    PEDIGREE_ASSIGN(named, Named(req, named_by, "kit"));
    auto data = scanner::ParseGs1(*named);
    if (!data) return Fail(data.error().at_field(field));
    auto pack = data->pack_id();
    if (!pack) {
      return Fail(Error("scan.not_a_pack", "the code names no kit (01+21)").at_field(field));
    }
    const std::string kit_id = pack->DigitalLinkUri();
    PEDIGREE_ASSIGN(view, provenance::TrialView::Open(node.ledger().db_path()));
    PEDIGREE_ASSIGN(kit, (*view)->Kit(kit_id));
    bool visible = false;
    if (*kit) {
      PEDIGREE_ASSIGN(party,
                      TrialParty(node, *req.principal, (*kit)->trial, TrialParties::kSponsorSites));
      visible = *party;
    }
    if (!visible) return Fail(Error("kit.not_found", "no kit " + kit_id).at_field(field));
    return Ok();
  };
}

}  // namespace pedigree::services::api
