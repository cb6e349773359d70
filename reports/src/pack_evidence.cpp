// Gathering a pack's evidence from a ledger: which entries judge the pack, their inclusion
// proofs and the checkpoints they are proved against.
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <set>

#include "pedigree/ledger/proof.h"
#include "pedigree/ledger/provenance.h"
#include "pedigree/ledger/sqlite_storage.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::reports {
namespace {

using ledger::JsonValue;

// A read-only connection to the ledger's SQLite file for the registry lookups the
// ProvenanceView does not offer (which index registered what).
class RegistryIndex {
 public:
  static Result<RegistryIndex> Open(const std::string& path) {
    PEDIGREE_ASSIGN(db, ledger::OpenSqliteReadOnly(path));
    return RegistryIndex(std::move(*db));
  }

  // Every integer in the first column of `sql` run with the text parameters `params`.
  Result<std::vector<int64_t>> Integers(const char* sql,
                                        std::initializer_list<std::string> params) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr) != SQLITE_OK) {
      return Fail("storage.io",
                  std::string("cannot prepare registry query: ") + sqlite3_errmsg(db_.get()));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    int i = 1;
    for (const std::string& p : params) {
      sqlite3_bind_text(raw, i++, p.data(), static_cast<int>(p.size()), SQLITE_TRANSIENT);
    }
    std::vector<int64_t> out;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      if (sqlite3_column_type(raw, 0) != SQLITE_NULL) out.push_back(sqlite3_column_int64(raw, 0));
    }
    if (rc != SQLITE_DONE) {
      return Fail("storage.io", std::string("registry query failed: ") + sqlite3_errmsg(db_.get()));
    }
    return out;
  }

 private:
  explicit RegistryIndex(ledger::SqliteDb db) : db_(std::move(db)) {}
  ledger::SqliteDb db_;
};

// The payload of an envelope, or null when it does not even parse (VerifyPack will say why).
JsonValue PayloadOf(const std::string& envelope) {
  auto parsed = ledger::ParseJson(envelope, {.integers_only = true});
  if (!parsed || !parsed->is_object()) return {};
  const JsonValue* p = parsed->find("payload");
  return p && p->is_object() ? *p : JsonValue();
}

std::string Member(const JsonValue& payload, const char* name) {
  const JsonValue* v = payload.is_object() ? payload.find(name) : nullptr;
  return v && v->is_string() ? v->as_string() : std::string();
}

}  // namespace

Result<ledger::PackId> ParsePackCode(std::string_view code) {
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

Result<TrustAnchors> LedgerTrustAnchors(ledger::Ledger& ledger) {
  PEDIGREE_ASSIGN(log, ledger::NoteVerifier::Parse(ledger.VerifierKey()));
  TrustAnchors anchors{*log, std::nullopt, {}};
  auto meta = ledger.storage().GetMeta("authority_key");
  if (meta) {
    PEDIGREE_ASSIGN(raw, FromBase64(*meta));
    PEDIGREE_ASSIGN(key, ledger::PublicKey::FromRaw(*raw));
    anchors.authority = *key;
  }
  return anchors;
}

struct LedgerEvidenceSource::Impl {
  ledger::Ledger& ledger;
  std::unique_ptr<ledger::ProvenanceView> view;
  RegistryIndex registry;
};

LedgerEvidenceSource::LedgerEvidenceSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LedgerEvidenceSource::~LedgerEvidenceSource() = default;

Result<std::unique_ptr<LedgerEvidenceSource>> LedgerEvidenceSource::Open(ledger::Ledger& ledger) {
  PEDIGREE_ASSIGN(view, ledger::ProvenanceView::Open(ledger.db_path()));
  PEDIGREE_ASSIGN(registry, RegistryIndex::Open(ledger.db_path()));
  return std::unique_ptr<LedgerEvidenceSource>(new LedgerEvidenceSource(
      std::make_unique<Impl>(Impl{ledger, std::move(*view), std::move(*registry)})));
}

Result<PackEvidence> GatherPackEvidence(ledger::Ledger& ledger, std::string_view code) {
  PEDIGREE_ASSIGN(source, LedgerEvidenceSource::Open(ledger));
  return (*source)->Gather(code);
}

Result<PackEvidence> LedgerEvidenceSource::Gather(std::string_view code) {
  ledger::Ledger& ledger = impl_->ledger;
  ledger::ProvenanceView* view = impl_->view.get();
  RegistryIndex* registry = &impl_->registry;
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
  PEDIGREE_ASSIGN(product, registry->Integers("SELECT idx FROM products WHERE gtin = ?1", {gtin}));
  PEDIGREE_ASSIGN(batch, registry->Integers("SELECT idx FROM batch_events WHERE gtin = ?1 AND "
                                            "lot = ?2",
                                            {gtin, (*pack)->lot}));
  indices.insert(product->begin(), product->end());
  indices.insert(batch->begin(), batch->end());

  PEDIGREE_ASSIGN(size, ledger.storage().Size());
  std::map<uint64_t, std::string> envelopes;
  auto read = [&](uint64_t index) -> std::string& {
    auto [it, fresh] = envelopes.try_emplace(index);
    if (fresh) {
      auto entry = ledger.storage().ReadEntry(index);
      if (entry) it->second = std::move(*entry);
    }
    return it->second;
  };
  // Organisations whose registry entries are needed: every signer and every recipient.
  std::set<std::string> orgs;
  for (uint64_t index : indices) {
    JsonValue payload = PayloadOf(read(index));
    for (const char* member : {"org", "to"}) {
      std::string org = Member(payload, member);
      if (!org.empty() && org != "node" && org != "authority") orgs.insert(org);
    }
  }
  for (const std::string& org : orgs) {
    PEDIGREE_ASSIGN(reg, registry->Integers("SELECT registered_idx FROM orgs WHERE id = ?1 UNION "
                                            "SELECT added_idx FROM org_keys WHERE org = ?1",
                                            {org}));
    indices.insert(reg->begin(), reg->end());
    // Revocations are not indexed by the model; they are rare, so look for them only when the
    // registry says a key of this organisation was revoked.
    PEDIGREE_ASSIGN(revoked, registry->Integers("SELECT added_idx FROM org_keys WHERE org = ?1 "
                                                "AND revoked_at IS NOT NULL",
                                                {org}));
    if (!revoked->empty()) {
      uint64_t from = static_cast<uint64_t>(*std::min_element(revoked->begin(), revoked->end()));
      for (uint64_t i = from + 1; i < *size; ++i) {
        JsonValue payload = PayloadOf(read(i));
        if (Member(payload, "kind") == "org.key_revoke" && Member(payload, "id") == org) {
          indices.insert(i);
        } else {
          envelopes.erase(i);
        }
      }
    }
  }

  // Prove against the oldest stored checkpoint that covers every entry (the one witnesses
  // had the most time to cosign), then link it to the newest.
  uint64_t needed = *indices.rbegin() + 1;
  PEDIGREE_ASSIGN(sizes, ledger.storage().CheckpointSizes());
  auto covering = std::lower_bound(sizes->begin(), sizes->end(), needed);
  std::optional<ledger::StoredCheckpoint> checkpoint;
  if (covering != sizes->end()) {
    PEDIGREE_ASSIGN(stored, ledger.storage().CheckpointAt(*covering));
    checkpoint = *stored;
  }
  if (!checkpoint) {
    PEDIGREE_ASSIGN(signed_now, ledger.SignCheckpoint());
    checkpoint = *signed_now;
  }
  PEDIGREE_ASSIGN(latest, ledger.LatestCheckpoint());
  PackEvidence evidence;
  evidence.pack = pack_id->DigitalLinkUri();
  PEDIGREE_ASSIGN(authority, ledger.storage().GetMeta("authority_key"));
  evidence.authority_key = *authority;
  evidence.checkpoint = checkpoint->note;
  if (*latest && (*latest)->size != checkpoint->size) {
    evidence.latest_checkpoint = (*latest)->note;
    PEDIGREE_ASSIGN(consistency, ledger.ProveConsistency(checkpoint->size, (*latest)->size));
    evidence.consistency = std::move(*consistency);
  }
  for (uint64_t index : indices) {
    // From the stored hashes alone: an entry row deleted behind the ledger's back still gets
    // its path, and VerifyPack names it missing.
    PEDIGREE_ASSIGN(path, ledger::InclusionProof(index, checkpoint->size, ledger.storage()));
    evidence.entries.push_back({index, std::move(read(index)), std::move(*path)});
  }
  return evidence;
}

}  // namespace pedigree::reports
