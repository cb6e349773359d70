#include "pedigree/usecases/supply_actions.h"

#include <algorithm>
#include <cassert>

#include "pedigree/base/bytes.h"
#include "pedigree/base/time.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::services {
namespace {

using Fixed = std::pair<std::string_view, std::string_view>;
constexpr Fixed kSupplied[] = {{"status", "supplied"}};
constexpr Fixed kRecalled[] = {{"status", "recalled"}};

constexpr SupplyAction kActions[] = {
    {"product register", "product.register", {}},
    {"batch register", "batch.register", {}},
    {"commission", "commission", {}},
    {"aggregate", "aggregate", {}},
    {"disaggregate", "disaggregate", {}},
    {"ship", "ship", {}},
    {"receive", "receive", {}},
    {"dispense", "decommission", kSupplied},
    {"decommission", "decommission", {}},
    {"undo", "undo", {}},
    {"batch status", "batch.status", {}},
    {"recall", "batch.status", kRecalled},
    {"sensor", "sensor", {}},
    {"alert investigate", "alert.investigate", {}},
    {"alert close", "alert.close", {}},
};

Error InvalidBody(const std::string& field, std::string message) {
  return Error("request.invalid_body", std::move(message)).at_field(field);
}

}  // namespace

std::span<const SupplyAction> SupplyActions() { return kActions; }

const SupplyAction& ActionNamed(std::string_view name) {
  auto it = std::find_if(std::begin(kActions), std::end(kActions),
                         [&](const SupplyAction& a) { return a.name == name; });
  assert(it != std::end(kActions));
  return *it;
}

Result<std::string> EpcOfCode(std::string_view code) {
  // A bare SSCC as printed under a logistic label's barcode, without its AI.
  if (code.size() == 18 && std::all_of(code.begin(), code.end(), provenance::IsDigit)) {
    PEDIGREE_ASSIGN(sscc, provenance::Sscc::Parse(code));
    return sscc->value();
  }
  PEDIGREE_ASSIGN(data, scanner::ParseGs1(code));
  if (auto pack = data->pack_id()) return pack->DigitalLinkUri();
  if (auto sscc = data->sscc()) return sscc->value();
  return Fail(Error("scan.not_a_pack",
                    "'" + std::string(code) + "' names no pack (01+21) or logistic unit (00)")
                  .at_field("code"));
}

Result<JsonValue> ActionPayload(const SupplyAction& action, JsonValue fields) {
  if (!fields.is_object()) return Fail(InvalidBody("", "the command must be a JSON object"));
  JsonValue payload = JsonValue::Object();
  payload.set("kind", JsonValue(action.kind));
  const JsonValue* code = fields.find("code");
  if (code && fields.find("epcs")) {
    return Fail(InvalidBody("code", "give either code or epcs, not both"));
  }
  for (const auto& [member, value] : fields.as_object()) {
    if (member == "kind") {
      if (!value.is_string() || value.as_string() != action.kind) {
        return Fail(InvalidBody(
            "kind", std::string(action.name) + " signs kind '" + std::string(action.kind) + "'"));
      }
      continue;
    }
    if (member == "code") {
      std::vector<std::string> codes;
      if (value.is_string()) {
        codes.push_back(value.as_string());
      } else if (value.is_array() && !value.as_array().empty()) {
        for (const JsonValue& c : value.as_array()) {
          if (!c.is_string()) return Fail(InvalidBody("code", "every code must be a string"));
          codes.push_back(c.as_string());
        }
      } else {
        return Fail(InvalidBody("code", "code must be a string or a non-empty array of strings"));
      }
      JsonArray epcs;
      for (const std::string& c : codes) {
        PEDIGREE_ASSIGN(epc, EpcOfCode(c));
        epcs.emplace_back(std::move(*epc));
      }
      payload.set("epcs", JsonValue(std::move(epcs)));
      continue;
    }
    // Containers and their children in any scanner form, as for `code`.
    if ((action.kind == "aggregate" || action.kind == "disaggregate") &&
        (member == "children" || member == "parent")) {
      if (member == "parent" && value.is_string()) {
        PEDIGREE_ASSIGN(epc, EpcOfCode(value.as_string()));
        payload.set("parent", JsonValue(std::move(*epc)));
        continue;
      }
      if (member == "children" && value.is_array()) {
        JsonArray epcs;
        for (size_t i = 0; i < value.as_array().size(); ++i) {
          const JsonValue& c = value.as_array()[i];
          if (!c.is_string()) return Fail(InvalidBody("children", "every child must be a string"));
          auto epc = EpcOfCode(c.as_string());
          if (!epc) {
            return Fail(
                epc.error().with_context("child " + std::to_string(i + 1)).at_field("children"));
          }
          epcs.emplace_back(std::move(*epc));
        }
        payload.set("children", JsonValue(std::move(epcs)));
        continue;
      }
    }
    if (member == "generate" && action.kind == "commission") {
      if (!value.is_int()) {
        return Fail(InvalidBody("generate", "generate must be an integer from 1 to " +
                                                std::to_string(kMaxGeneratedSerials)));
      }
      if (value.as_int() < 1 || value.as_int() > kMaxGeneratedSerials) {
        return Fail(Error("request.generate_over_limit",
                          "generate " + std::to_string(value.as_int()) + " is outside 1 to " +
                              std::to_string(kMaxGeneratedSerials) +
                              ", the most serials one commission may generate")
                        .at_field("generate"));
      }
      if (fields.find("serials")) {
        return Fail(InvalidBody("generate", "give either serials or generate, not both"));
      }
      payload.set("serials", JsonValue::Strings(
                                 provenance::RandomSerials(static_cast<size_t>(value.as_int()))));
      continue;
    }
    payload.set(member, value);
  }
  for (const auto& [member, fixed] : action.fixed) {
    if (const JsonValue* given = payload.find(member);
        given && !(given->is_string() && given->as_string() == fixed)) {
      return Fail(InvalidBody(std::string(member), std::string(action.name) + " always has " +
                                                       std::string(member) + " '" +
                                                       std::string(fixed) + "'"));
    }
    payload.set(std::string(member), JsonValue(fixed));
  }
  return payload;
}

JsonValue DispensePayload(std::vector<std::string> epcs, std::string location) {
  auto fields = JsonValue::Object();
  fields.set("epcs", JsonValue::Strings(epcs));
  fields.set("location", JsonValue(std::move(location)));
  auto payload = ActionPayload(ActionNamed("dispense"), std::move(fields));
  assert(payload.has_value());  // epcs and location cannot contradict the fixed status
  return std::move(*payload);
}

Result<std::string> SignCommand(JsonValue& payload, const std::string& org,
                                const log::PrivateKey& key, int64_t now,
                                std::string_view client_prefix, std::string_view origin) {
  if (!payload.find("v")) payload.set("v", JsonValue(int64_t{1}));
  payload.set("org", JsonValue(org));
  if (!payload.find("time")) payload.set("time", JsonValue(FormatUtcTime(now)));
  if (!payload.find("clientId")) {
    uint8_t random[12];
    RandomBytes(random);
    payload.set("clientId", JsonValue(std::string(client_prefix) + ToHex(random)));
  }
  return log::SignEntry(payload, key, origin);
}

}  // namespace pedigree::services
