// The supply chain's user actions, each defined once: the event kind it signs, the members
// it fixes, and how a scanned code becomes the ledger's epc. The HTTP API
// (POST /v1/<action>), the CLI (`pedigree <action>`), the demo and the benchmarks all build
// their payloads here, so "dispense" means one thing everywhere. Payloads: docs/events.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"

namespace pedigree::services {

struct SupplyAction {
  std::string_view name;  // as the user says it: "dispense", "batch register"
  std::string_view kind;  // the event kind signed: "decommission", "batch.register"
  // Members every payload of this action carries with exactly this value.
  std::span<const std::pair<std::string_view, std::string_view>> fixed;
};

// Every supply action, in the order the CLI lists them.
std::span<const SupplyAction> SupplyActions();
// The action called `name`; requires a name from SupplyActions() (asserted).
const SupplyAction& ActionNamed(std::string_view name);

// A scanned code in any scanner form (GS1 element string with or without symbology
// identifier, bracketed AIs, Digital Link URI) or a bare 18-digit SSCC, as the ledger's
// epc: the pack's Digital Link URI, or the SSCC. scan.not_a_pack (field "code") when it
// names neither a pack (AI 01 + 21) nor a logistic unit (AI 00); gs1.* when it does not parse.
[[nodiscard]] Result<std::string> EpcOfCode(std::string_view code);

// The most serials one `generate` may ask for.
inline constexpr int64_t kMaxGeneratedSerials = 10000;

// The payload of `action` from the members a user gave (`fields`, a JSON object):
// - `kind` and the action's fixed members are set; a member given with another value than
//   the fixed one is request.invalid_body (e.g. {"status":"destroyed"} to dispense);
// - `code` (a string, or an array of strings, each any scanner form) becomes `epcs`;
//   giving both `code` and `epcs` is request.invalid_body;
// - for commission, `generate: N` (1..kMaxGeneratedSerials) becomes N random serials.
// The result is unsigned: v, org, time and clientId are filled in by SignCommand.
[[nodiscard]] Result<JsonValue> ActionPayload(const SupplyAction& action, JsonValue fields);

// Dispensing (decommission as supplied) of `epcs` at `location` (a GLN): the pharmacy's
// everyday action, for callers that have the epcs already.
[[nodiscard]] JsonValue DispensePayload(std::vector<std::string> epcs, std::string location);

// Fills in what a command needs to be signed — v 1, org, time (`now`, unix seconds) unless
// present, clientId (`client_prefix` + 96 random bits) unless present — and signs it with
// `key` for the log named `origin` as docs/ledger-format.md describes (version 2 envelope).
// The envelope is ready for SupplyNode::Submit on that log.
[[nodiscard]] Result<std::string> SignCommand(JsonValue& payload, const std::string& org,
                                              const log::PrivateKey& key, int64_t now,
                                              std::string_view client_prefix,
                                              std::string_view origin);

}  // namespace pedigree::services
