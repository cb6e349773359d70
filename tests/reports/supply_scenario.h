// A small supply chain on a real ledger for the report tests: a manufacturer commissions two
// packs, packs them into a case and ships it to a wholesaler, who unpacks and ships the packs
// on to a pharmacy; the pharmacy dispenses one. Plus the SQL tamper hook.
#pragma once

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/tamper_sql.h"
#include "common/temp_dir.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::reports::testing {

using pedigree::JsonValue;

inline std::string WithCheckDigit(const std::string& digits) {
  return digits + std::to_string(provenance::Gs1CheckDigit(digits));
}

inline JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

class SupplyScenario {
 public:
  static inline const std::string kGtin = "09506000134352";
  const std::string mfg_gln = WithCheckDigit("950600000000");
  const std::string wh_gln = WithCheckDigit("400000300000");
  const std::string ph1_gln = WithCheckDigit("400000100000");
  const std::string ph2_gln = WithCheckDigit("400000200000");
  const std::string sscc = WithCheckDigit("09506000000000001");
  const std::string pallet = WithCheckDigit("09506000000000002");

  explicit SupplyScenario(const std::string& product_name = "Examplamab 40 mg") {
    node_ = services::SupplyNode::Create(dir(), "example.org/report-test", authority_.public_key())
                .value();
    node_->SetClock([this] { return now_; });
    Register("mfg", "manufacturer", "9506000", mfg_gln);
    Register("wh", "wholesaler", "4000003", wh_gln);
    Register("ph1", "dispenser", "4000001", ph1_gln);
    Register("ph2", "dispenser", "4000002", ph2_gln);
    Submit("mfg", JsonValue::Object()
                      .set("kind", "product.register")
                      .set("gtin", kGtin)
                      .set("name", product_name));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "batch.register")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("expiry", "2028-03-31")
                      .set("quantity", 10));
  }

  std::string dir() const { return tmp_ / "ledger"; }
  static std::string Pack(const std::string& serial) {
    return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
  }
  // The scanner form a pharmacy's handheld types: symbology id, GS separators.
  static std::string Scan(const std::string& serial) {
    return "]d201" + kGtin + "17280331" + "10LOT1\x1d" + "21" + serial;
  }

  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id + " Ltd", {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  uint64_t Submit(const std::string& org, JsonValue payload) {
    now_ += 60;
    auto index = node_->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    return *index;
  }
  // A command the rules refuse; the node records an alert. Returns the refusal code.
  std::string Refused(const std::string& org, JsonValue payload) {
    now_ += 60;
    auto index = node_->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE(!index.has_value());
    return index.error().code();
  }

  // commission S1,S2 -> aggregate both into the case `sscc`.
  void CommissionIntoCase() {
    Submit("mfg", JsonValue::Object()
                      .set("kind", "commission")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("location", mfg_gln)
                      .set("serials", Strings({"S1", "S2"})));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "aggregate")
                      .set("parent", sscc)
                      .set("children", Strings({Pack("S1"), Pack("S2")})));
  }

  // commission S1,S2 -> aggregate into a case -> ship case to wh -> receive -> disaggregate ->
  // ship S1,S2 to ph1 -> receive -> dispense S1. Returns the index of the dispense.
  uint64_t RunChain() {
    CommissionIntoCase();
    Ship("mfg", {sscc}, "wh", wh_gln, "DA-1");
    Receive("wh", "mfg", "DA-1", wh_gln);
    Submit("wh", JsonValue::Object().set("kind", "disaggregate").set("parent", sscc));
    // A checkpoint here, so that later ones must be proved consistent with it.
    BOOST_REQUIRE(node_->ledger().SignCheckpoint().has_value());
    Ship("wh", {Pack("S1"), Pack("S2")}, "ph1", ph1_gln, "DA-2");
    Receive("ph1", "wh", "DA-2", ph1_gln);
    return Decommission("ph1", "S1", "supplied", ph1_gln);
  }

  // commission S1,S2 -> a case -> the case onto a pallet -> ship the pallet to wh -> receive
  // -> unpack the pallet -> unpack the case -> ship S1 to ph1 -> receive -> dispense S1.
  // Returns the index of the dispense.
  uint64_t RunPalletChain() {
    CommissionIntoCase();
    Submit("mfg", JsonValue::Object()
                      .set("kind", "aggregate")
                      .set("parent", pallet)
                      .set("children", Strings({sscc})));
    Ship("mfg", {pallet}, "wh", wh_gln, "DA-P");
    Receive("wh", "mfg", "DA-P", wh_gln);
    Submit("wh", JsonValue::Object().set("kind", "disaggregate").set("parent", pallet));
    Submit("wh", JsonValue::Object().set("kind", "disaggregate").set("parent", sscc));
    Ship("wh", {Pack("S1")}, "ph1", ph1_gln, "DA-2");
    Receive("ph1", "wh", "DA-2", ph1_gln);
    return Decommission("ph1", "S1", "supplied", ph1_gln);
  }

  void Ship(const std::string& org, std::initializer_list<std::string> epcs, const std::string& to,
            const std::string& gln, const std::string& advice) {
    auto list = JsonValue::Array();
    for (const auto& e : epcs) list.push_back(e);
    Submit(org, JsonValue::Object()
                    .set("kind", "ship")
                    .set("epcs", list)
                    .set("to", to)
                    .set("toLocation", gln)
                    .set("despatchAdvice", advice));
  }
  void Receive(const std::string& org, const std::string& from, const std::string& advice,
               const std::string& gln) {
    Submit(org, JsonValue::Object()
                    .set("kind", "receive")
                    .set("from", from)
                    .set("despatchAdvice", advice)
                    .set("location", gln));
  }
  JsonValue DecommissionPayload(const std::string& serial, const std::string& status,
                                const std::string& gln) {
    return JsonValue::Object()
        .set("kind", "decommission")
        .set("epcs", Strings({Pack(serial)}))
        .set("status", status)
        .set("location", gln);
  }
  uint64_t Decommission(const std::string& org, const std::string& serial,
                        const std::string& status, const std::string& gln) {
    return Submit(org, DecommissionPayload(serial, status, gln));
  }
  void Recall() {
    Submit("mfg", JsonValue::Object()
                      .set("kind", "batch.status")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("status", "recalled")
                      .set("reason", "sterility"));
  }

  // Signs a final checkpoint and closes the node, so that the file can be edited and the
  // ledger reopened.
  void Close() {
    BOOST_REQUIRE(node_->ledger().SignCheckpoint().has_value());
    node_.reset();
  }

  services::SupplyNode& node() { return *node_; }
  const log::PrivateKey& authority() const { return authority_; }
  int64_t now() const { return now_; }

 private:
  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = 1'795'300'000;
  std::unique_ptr<services::SupplyNode> node_;
};

using pedigree::testing::TamperSql;

}  // namespace pedigree::reports::testing
