// Gathering a pack's evidence from a ledger: which entries judge the pack, their inclusion
// proofs and the checkpoints they are proved against.
#include <algorithm>
#include <memory>
#include <set>

#include "entry_checks.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/reports/evidence_index.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::reports {
using internal::EnvelopeCache;

Result<provenance::PackId> ParsePackCode(std::string_view code) {
  PEDIGREE_ASSIGN(data, scanner::ParseGs1(code));
  auto pack = data->pack_id();
  if (!pack) {
    return Fail(Error("report.not_a_pack", "'" + std::string(code) +
                                               "' names no pack: it needs a GTIN (01) and a "
                                               "serial (21)")
                    .at_field("code"));
  }
  return *pack;
}

Result<provenance::Sscc> ParseContainerCode(std::string_view code) {
  if (code.size() == 18 &&
      std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return provenance::Sscc::Parse(code);
  }
  PEDIGREE_ASSIGN(data, scanner::ParseGs1(code));
  auto sscc = data->sscc();
  if (!sscc) {
    return Fail(Error("report.not_a_container",
                      "'" + std::string(code) + "' names no case or pallet: it needs an SSCC (00)")
                    .at_field("code"));
  }
  return *sscc;
}

Result<TrustAnchors> LedgerTrustAnchors(log::Ledger& ledger) {
  PEDIGREE_ASSIGN(log, log::NoteVerifier::Parse(ledger.VerifierKey()));
  TrustAnchors anchors{*log, std::nullopt, {}};
  auto meta = ledger.storage().GetMeta(provenance::kAuthorityKeyMeta);
  if (meta) {
    PEDIGREE_ASSIGN(raw, FromBase64(*meta));
    PEDIGREE_ASSIGN(key, log::PublicKey::FromRaw(*raw));
    anchors.authority = *key;
  }
  return anchors;
}

struct LedgerEvidenceSource::Impl {
  log::Ledger& ledger;
  std::unique_ptr<provenance::ProvenanceView> view;
};

LedgerEvidenceSource::LedgerEvidenceSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LedgerEvidenceSource::~LedgerEvidenceSource() = default;

Result<std::unique_ptr<LedgerEvidenceSource>> LedgerEvidenceSource::Open(log::Ledger& ledger) {
  PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(ledger.db_path()));
  return std::unique_ptr<LedgerEvidenceSource>(
      new LedgerEvidenceSource(std::make_unique<Impl>(Impl{ledger, std::move(*view)})));
}

Result<PackEvidence> GatherPackEvidence(log::Ledger& ledger, std::string_view code) {
  PEDIGREE_ASSIGN(source, LedgerEvidenceSource::Open(ledger));
  return (*source)->Gather(code);
}

namespace {

// The one selection of a pack's evidence among the first `limit` entries (all when empty): its
// history, its product and batch entries, and the registry entries of every organisation that
// signed or received one of them. GatherPackEvidence proves it; the evidence index lists it.
Result<std::set<uint64_t>> SelectEntries(log::Ledger& ledger, provenance::ProvenanceView& view,
                                         EnvelopeCache& envelopes, std::string_view code,
                                         std::optional<uint64_t> limit) {
  PEDIGREE_ASSIGN(pack_id, ParsePackCode(code));
  const std::string& gtin = pack_id->gtin().value();
  const std::string& serial = pack_id->serial().value();
  PEDIGREE_ASSIGN(pack, view.Pack(gtin, serial));
  if (!*pack || (limit && (*pack)->commissioned_index >= *limit)) {
    return Fail(
        Error("report.no_such_pack",
              "no pack " + pack_id->DigitalLinkUri() + " was ever commissioned on log " +
                  ledger.origin() +
                  (limit && *pack ? " before entry " + std::to_string(*limit) : std::string()))
            .at_field("code"));
  }
  PEDIGREE_ASSIGN(history, view.PackHistory(gtin, serial));
  PEDIGREE_ASSIGN(product, view.ProductEntries(gtin));
  PEDIGREE_ASSIGN(batch, view.BatchEntries(gtin, (*pack)->lot));
  std::set<uint64_t> indices;
  for (const auto* list : {&*history, &*product, &*batch}) {
    for (uint64_t i : *list) {
      if (!limit || i < *limit) indices.insert(i);
    }
  }
  // Where each container the pack (or a case holding it) was packed into already was.
  for (uint64_t i : *history) {
    if (limit && i >= *limit) break;
    JsonValue p = envelopes.Payload(i);
    if (internal::Str(p, "kind") == "aggregate") {
      PEDIGREE_TRY(
          internal::AddNestingContext(view, envelopes, internal::Str(p, "parent"), i, indices));
    }
  }
  // Organisations whose registry entries are needed: every signer and every recipient.
  PEDIGREE_TRY(
      internal::AddRegistryEntries(ledger, view, envelopes, indices, {"org", "to"}, limit));
  return indices;
}

}  // namespace

Result<std::vector<uint64_t>> SelectPackEvidence(log::Ledger& ledger, std::string_view code,
                                                 uint64_t size) {
  PEDIGREE_ASSIGN(view, provenance::ProvenanceView::Open(ledger.db_path()));
  EnvelopeCache envelopes(ledger);
  PEDIGREE_ASSIGN(indices, SelectEntries(ledger, **view, envelopes, code, size));
  return std::vector<uint64_t>(indices->begin(), indices->end());
}

Result<PackEvidence> LedgerEvidenceSource::Gather(std::string_view code) {
  log::Ledger& ledger = impl_->ledger;
  PEDIGREE_ASSIGN(pack_id, ParsePackCode(code));
  provenance::ProvenanceView& view = *impl_->view;
  return internal::ProveEvidence(ledger, pack_id->DigitalLinkUri(),
                                 [&](EnvelopeCache& envelopes, std::optional<uint64_t> limit) {
                                   return SelectEntries(ledger, view, envelopes, code, limit);
                                 });
}

}  // namespace pedigree::reports
