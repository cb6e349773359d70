// Gathering a pack's evidence from a ledger: which entries judge the pack, their inclusion
// proofs and the checkpoints they are proved against.
#include <algorithm>
#include <memory>
#include <set>

#include "entry_checks.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"
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

Result<PackEvidence> LedgerEvidenceSource::Gather(std::string_view code) {
  log::Ledger& ledger = impl_->ledger;
  provenance::ProvenanceView* view = impl_->view.get();
  PEDIGREE_ASSIGN(pack_id, ParsePackCode(code));
  const std::string& gtin = pack_id->gtin().value();
  const std::string& serial = pack_id->serial().value();
  PEDIGREE_ASSIGN(pack, view->Pack(gtin, serial));
  if (!*pack) {
    return Fail(Error("report.no_such_pack", "no pack " + pack_id->DigitalLinkUri() +
                                                 " was ever commissioned on log " + ledger.origin())
                    .at_field("code"));
  }
  PEDIGREE_ASSIGN(history, view->PackHistory(gtin, serial));

  std::set<uint64_t> indices(history->begin(), history->end());
  PEDIGREE_ASSIGN(product, view->ProductEntries(gtin));
  PEDIGREE_ASSIGN(batch, view->BatchEntries(gtin, (*pack)->lot));
  indices.insert(product->begin(), product->end());
  indices.insert(batch->begin(), batch->end());

  EnvelopeCache envelopes(ledger);
  // Organisations whose registry entries are needed: every signer and every recipient.
  PEDIGREE_TRY(internal::AddRegistryEntries(ledger, *view, envelopes, indices, {"org", "to"}));
  PEDIGREE_ASSIGN(proved, internal::ProveEntries(ledger, indices, envelopes));
  PackEvidence evidence;
  evidence.pack = pack_id->DigitalLinkUri();
  evidence.authority_key = std::move(proved->authority_key);
  evidence.checkpoint = std::move(proved->checkpoint);
  evidence.latest_checkpoint = std::move(proved->latest_checkpoint);
  evidence.consistency = std::move(proved->consistency);
  evidence.entries = std::move(proved->entries);
  return evidence;
}

}  // namespace pedigree::reports
