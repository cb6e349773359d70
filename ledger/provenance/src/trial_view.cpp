// TrialView: read-only queries over the trial and kit tables on a connection of its own,
// and the pure outcome-switching check.
#include "pedigree/provenance/trial_view.h"

#include <map>

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/sql.h"

namespace pedigree::provenance {
namespace {

std::vector<std::string> Texts(const JsonValue* list) {
  std::vector<std::string> out;
  if (!list || !list->is_array()) return out;
  for (const JsonValue& v : list->as_array())
    if (v.is_string()) out.push_back(v.as_string());
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string NormaliseOutcome(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (char c : text) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

struct TrialView::Impl {
  log::sql::Connection db;
  explicit Impl(log::sql::Connection connection) : db(std::move(connection)) {}
};

TrialView::TrialView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrialView::~TrialView() = default;

Result<std::unique_ptr<TrialView>> TrialView::Open(const std::string& db_path) {
  PEDIGREE_ASSIGN(db, log::OpenReadOnly(db_path));
  return std::unique_ptr<TrialView>(new TrialView(std::make_unique<Impl>(std::move(*db))));
}

Result<std::optional<TrialRecord>> TrialView::Trial(std::string_view trial_id) {
  TrialRecord t;
  {
    PEDIGREE_ASSIGN(q,
                    impl_->db.Prepare(
                        "SELECT registry_id, sponsor, title, idx, time FROM trials WHERE id = ?1"));
    q->Bind(1, trial_id);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) return std::optional<TrialRecord>();
    t.id = trial_id;
    t.registry_id = q->Text(0);
    t.sponsor = q->Text(1);
    t.title = q->Text(2);
    t.index = static_cast<uint64_t>(q->Int(3));
    t.time = q->Int(4);
  }
  {
    PEDIGREE_ASSIGN(
        q, impl_->db.Prepare("SELECT site FROM trial_sites WHERE trial = ?1 ORDER BY pos"));
    q->Bind(1, trial_id);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      t.sites.push_back(q->Text(0));
    }
  }
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare("SELECT code, name FROM trial_arms WHERE trial = ?1 ORDER BY pos"));
  q->Bind(1, trial_id);
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    t.arms.push_back({q->Text(0), q->Text(1)});
  }
  return std::optional<TrialRecord>(std::move(t));
}

Result<std::vector<ProtocolRecord>> TrialView::Protocols(std::string_view trial_id) {
  PEDIGREE_ASSIGN(summary, Enrolments(trial_id));
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx, time, protocol_hash, version, outcomes, "
                                       "signer_org, signer_name, meaning FROM trial_protocols "
                                       "WHERE trial = ?1 ORDER BY idx"));
  q->Bind(1, trial_id);
  std::vector<ProtocolRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    ProtocolRecord p;
    p.index = static_cast<uint64_t>(q->Int(0));
    p.time = q->Int(1);
    p.protocol_hash = q->Text(2);
    p.version = q->Text(3);
    p.outcomes_json = q->Text(4);
    p.signer_org = q->Text(5);
    p.signer_name = q->Text(6);
    p.meaning = q->Text(7);
    auto outcomes = ParseJson(p.outcomes_json);
    if (!outcomes) return std::unexpected(outcomes.error());
    p.primary = Texts(outcomes->find("primary"));
    p.secondary = Texts(outcomes->find("secondary"));
    p.is_seal = out.empty();
    p.after_first_enrolment = summary->first_index && p.index > *summary->first_index;
    out.push_back(std::move(p));
  }
  return out;
}

Result<EnrolmentSummary> TrialView::Enrolments(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT COUNT(*), MIN(idx) FROM trial_enrolments "
                                       "WHERE trial = ?1"));
  q->Bind(1, trial_id);
  PEDIGREE_ASSIGN(row, q->Step());
  EnrolmentSummary s;
  if (!*row || q->IsNull(1)) return s;
  s.count = q->Int(0);
  s.first_index = static_cast<uint64_t>(q->Int(1));
  PEDIGREE_ASSIGN(
      t, impl_->db.Prepare("SELECT time FROM trial_enrolments WHERE trial = ?1 AND idx = ?2"));
  t->Bind(1, trial_id).Bind(2, static_cast<int64_t>(*s.first_index));
  PEDIGREE_ASSIGN(found, t->Step());
  if (*found) s.first_time = t->Int(0);
  return s;
}

Result<std::vector<LeafRecord>> TrialView::Leaves(std::string_view trial_id,
                                                  std::string_view domain) {
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare("SELECT leaf, idx, signer_org, signer_name, meaning, reason, replaces, "
                           "redacted FROM trial_leaves WHERE trial = ?1 AND domain = ?2 AND "
                           "replaced_by IS NULL ORDER BY idx, pos"));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<LeafRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({q->Text(0), static_cast<uint64_t>(q->Int(1)), q->Text(2), q->Text(3), q->Text(4),
                   q->Text(5), q->Text(6), q->Int(7) != 0});
  }
  return out;
}

Result<std::vector<std::string>> TrialView::Domains(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT domain FROM trial_domains WHERE trial = ?1 UNION "
                                       "SELECT domain FROM trial_leaves WHERE trial = ?1 "
                                       "ORDER BY 1"));
  q->Bind(1, trial_id);
  std::vector<std::string> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back(q->Text(0));
  }
  return out;
}

Result<std::vector<uint64_t>> TrialView::Submissions(std::string_view trial_id,
                                                     std::string_view domain) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT DISTINCT idx FROM trial_leaves WHERE trial = ?1 "
                                       "AND domain = ?2 ORDER BY idx"));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<uint64_t> out;
  PEDIGREE_TRY(q->ForEachRow(
      [&](const log::sql::Query& row) { out.push_back(static_cast<uint64_t>(row.Int(0))); }));
  return out;
}

Result<LeafCounts> TrialView::CountLeaves(std::string_view trial_id, std::string_view domain) {
  LeafCounts counts;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT count(*) FROM trial_leaves WHERE trial = ?1 AND "
                                         "domain = ?2 AND replaced_by IS NULL"));
    q->Bind(1, trial_id).Bind(2, domain);
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row) counts.current = static_cast<size_t>(q->Int(0));
  }
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare("SELECT count(*) FROM trial_redactions r JOIN trial_leaves l ON "
                           "l.trial = r.trial AND l.domain = r.domain AND l.leaf = r.leaf "
                           "WHERE r.trial = ?1 AND r.domain = ?2 AND l.replaced_by IS NULL"));
  q->Bind(1, trial_id).Bind(2, domain);
  PEDIGREE_ASSIGN(row, q->Step());
  if (*row) counts.redacted = static_cast<size_t>(q->Int(0));
  return counts;
}

Result<std::vector<uint64_t>> TrialView::EnrolmentRefusals(std::string_view trial_id) {
  // The refusal's message names the trial first: "trial 'T1' has no protocol seal; …"
  // (trial_state.cpp), and the node records it as the alert's message.
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM alerts WHERE code = "
                                       "'enrolment_before_protocol' AND substr(message, 1, "
                                       "length(?1)) = ?1 ORDER BY idx"));
  q->Bind(1, "trial '" + std::string(trial_id) + "' ");
  std::vector<uint64_t> out;
  PEDIGREE_TRY(q->ForEachRow(
      [&](const log::sql::Query& row) { out.push_back(static_cast<uint64_t>(row.Int(0))); }));
  return out;
}

Result<std::string> TrialView::LockState(std::string_view trial_id, std::string_view domain) {
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare("SELECT lock FROM trial_domains WHERE trial = ?1 AND domain = ?2"));
  q->Bind(1, trial_id).Bind(2, domain);
  PEDIGREE_ASSIGN(row, q->Step());
  return *row ? q->Text(0) : std::string("open");
}

Result<std::vector<LockRecord>> TrialView::LockHistory(std::string_view trial_id,
                                                       std::string_view domain) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx, time, action, signer_name, meaning, reason, "
                                       "approver FROM trial_locks WHERE trial = ?1 AND domain = "
                                       "?2 ORDER BY idx"));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<LockRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({static_cast<uint64_t>(q->Int(0)), q->Int(1), q->Text(2), q->Text(3), q->Text(4),
                   q->Text(5), q->Text(6)});
  }
  return out;
}

Result<std::vector<SealRecord>> TrialView::Seals(std::string_view trial_id,
                                                 std::string_view domain) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx, time, root, record_count, schema_hash, "
                                       "algorithm, signer_name, meaning FROM trial_seals WHERE "
                                       "trial = ?1 AND domain = ?2 ORDER BY idx"));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<SealRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({static_cast<uint64_t>(q->Int(0)), q->Int(1), q->Text(2), q->Int(3), q->Text(4),
                   q->Text(5), q->Text(6), q->Text(7)});
  }
  return out;
}

Result<std::vector<RedactionRecord>> TrialView::Redactions(std::string_view trial_id,
                                                           std::string_view domain) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT leaf, idx, time, reason, signer_name, meaning FROM "
                                       "trial_redactions WHERE trial = ?1 AND domain = ?2 "
                                       "ORDER BY idx"));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<RedactionRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({q->Text(0), static_cast<uint64_t>(q->Int(1)), q->Int(2), q->Text(3), q->Text(4),
                   q->Text(5)});
  }
  return out;
}

namespace {
std::vector<std::string> JsonStrings(const std::string& text) {
  std::vector<std::string> out;
  auto v = ParseJson(text);
  if (v && v->is_array()) {
    for (const JsonValue& s : v->as_array())
      if (s.is_string()) out.push_back(s.as_string());
  }
  return out;
}
}  // namespace

Result<std::vector<ConsentFormRecord>> TrialView::ConsentForms(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT version, idx, time, document_hash, country, "
                                       "language, ethics_ref, approved, effective, mandatory, "
                                       "scopes, signer_name, meaning FROM trial_consent_forms "
                                       "WHERE trial = ?1 ORDER BY idx"));
  q->Bind(1, trial_id);
  std::vector<ConsentFormRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({q->Text(0), static_cast<uint64_t>(q->Int(1)), q->Int(2), q->Text(3), q->Text(4),
                   q->Text(5), q->Text(6), q->Text(7), q->Text(8), q->Int(9) != 0, q->Text(10),
                   q->Text(11), q->Text(12)});
  }
  return out;
}

Result<std::vector<ConsentRecord>> TrialView::Consents(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT subject_ref, idx, time, consent_time, version, "
                                       "granted, declined, site, signer_name, meaning, witness, "
                                       "representative FROM trial_consents WHERE trial = ?1 "
                                       "ORDER BY idx"));
  q->Bind(1, trial_id);
  std::vector<ConsentRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({q->Text(0), static_cast<uint64_t>(q->Int(1)), q->Int(2), q->Int(3), q->Text(4),
                   JsonStrings(q->Text(5)), JsonStrings(q->Text(6)), q->Text(7), q->Text(8),
                   q->Text(9), q->IsNull(10) ? "" : q->Text(10), q->IsNull(11) ? "" : q->Text(11)});
  }
  return out;
}

Result<std::vector<WithdrawalRecord>> TrialView::Withdrawals(std::string_view trial_id) {
  std::vector<WithdrawalRecord> out;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT subject_ref, idx, time, withdrawal_time, "
                                         "data_choice, site, signer_name, meaning FROM "
                                         "trial_withdrawals WHERE trial = ?1 ORDER BY idx"));
    q->Bind(1, trial_id);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      WithdrawalRecord w;
      w.subject_ref = q->Text(0);
      w.index = static_cast<uint64_t>(q->Int(1));
      w.time = q->Int(2);
      w.withdrawal_time = q->Int(3);
      w.data_choice = q->Text(4);
      w.site = q->Text(5);
      w.signer_name = q->Text(6);
      w.meaning = q->Text(7);
      out.push_back(std::move(w));
    }
  }
  for (WithdrawalRecord& w : out) {
    PEDIGREE_ASSIGN(
        q, impl_->db.Prepare("SELECT s.domain, s.leaf, s.idx, COALESCE(l.redacted, 0) FROM "
                             "trial_subject_leaves s LEFT JOIN trial_leaves l ON l.trial = s.trial "
                             "AND l.domain = s.domain AND l.leaf = s.leaf WHERE s.trial = ?1 AND "
                             "s.subject_ref = ?2 ORDER BY s.idx, s.domain, s.leaf"));
    q->Bind(1, trial_id).Bind(2, w.subject_ref);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      w.leaves.push_back(
          {q->Text(0), q->Text(1), static_cast<uint64_t>(q->Int(2)), q->Int(3) != 0});
      if (w.leaves.back().redacted) ++w.redacted;
    }
  }
  return out;
}

Result<std::optional<KitRecord>> TrialView::Kit(std::string_view kit_id) {
  KitRecord k;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT trial, state, holder, in_transit_to, subject_ref, "
                                         "lot, expiry FROM kits WHERE kit = ?1"));
    q->Bind(1, kit_id);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) return std::optional<KitRecord>();
    k.kit = kit_id;
    k.trial = q->Text(0);
    k.state = q->Text(1);
    k.holder = q->Text(2);
    k.in_transit_to = q->Text(3);
    k.subject_ref = q->Text(4);
    k.lot = q->Text(5);
    k.expiry = q->Text(6);
  }
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM kit_events WHERE kit = ?1 ORDER BY idx"));
  q->Bind(1, kit_id);
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    k.history.push_back(static_cast<uint64_t>(q->Int(0)));
  }
  return std::optional<KitRecord>(std::move(k));
}

OutcomeDiscrepancies OutcomeCheck(const std::vector<std::string>& sealed_primary,
                                  const std::vector<std::string>& sealed_secondary,
                                  const std::vector<std::string>& reported_primary,
                                  const std::vector<std::string>& reported_secondary) {
  enum Place { kPrimary, kSecondary };
  std::map<std::string, Place> sealed, reported;
  for (const auto& s : sealed_secondary) sealed.emplace(NormaliseOutcome(s), kSecondary);
  for (const auto& s : sealed_primary) sealed[NormaliseOutcome(s)] = kPrimary;
  for (const auto& s : reported_secondary) reported.emplace(NormaliseOutcome(s), kSecondary);
  for (const auto& s : reported_primary) reported[NormaliseOutcome(s)] = kPrimary;

  OutcomeDiscrepancies out;
  for (const auto* list : {&reported_primary, &reported_secondary}) {
    for (const auto& s : *list) {
      if (!sealed.count(NormaliseOutcome(s))) out.reported_not_sealed.push_back(s);
    }
  }
  for (const auto* list : {&sealed_primary, &sealed_secondary}) {
    for (const auto& s : *list) {
      auto it = reported.find(NormaliseOutcome(s));
      if (it == reported.end()) {
        out.sealed_not_reported.push_back(s);
      } else if (it->second != sealed.at(it->first)) {
        out.moved.push_back(s);
      }
    }
  }
  return out;
}

Result<std::optional<std::string>> TrialView::Sponsor(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT sponsor FROM trials WHERE id = ?1"));
  q->Bind(1, trial_id);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

namespace {

// The grants a query over trial_grants selects (the columns of the two below), in its order.
Result<std::vector<GrantRecord>> ReadGrants(log::sql::Query& q) {
  std::vector<GrantRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q.Step());
    if (!*row) break;
    GrantRecord g{q.Text(0),
                  static_cast<uint64_t>(q.Int(1)),
                  q.Int(2),
                  q.Text(3),
                  q.Text(4),
                  JsonStrings(q.Text(5)),
                  JsonStrings(q.Text(6)),
                  JsonStrings(q.Text(7)),
                  q.Int(8),
                  q.Int(9),
                  q.Text(10),
                  q.Text(11),
                  {},
                  0,
                  q.IsNull(14) ? "" : q.Text(14)};
    if (!q.IsNull(12)) {
      g.revoked_index = static_cast<uint64_t>(q.Int(12));
      g.revoked_time = q.Int(13);
    }
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace

Result<std::vector<GrantRecord>> TrialView::Grants(std::string_view trial_id) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT grant_id, idx, time, grantee, purpose, domains, "
                                       "sites, subjects, start_time, expiry_time, signer_name, "
                                       "meaning, revoked_idx, revoked_time, revoke_reason FROM "
                                       "trial_grants WHERE trial = ?1 ORDER BY idx"));
  q->Bind(1, trial_id);
  return ReadGrants(*q);
}

Result<std::vector<GrantRecord>> TrialView::GrantsTo(std::string_view trial_id,
                                                     std::string_view grantee) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT grant_id, idx, time, grantee, purpose, domains, "
                                       "sites, subjects, start_time, expiry_time, signer_name, "
                                       "meaning, revoked_idx, revoked_time, revoke_reason FROM "
                                       "trial_grants WHERE trial = ?1 AND grantee = ?2 "
                                       "ORDER BY idx"));
  q->Bind(1, trial_id).Bind(2, grantee);
  return ReadGrants(*q);
}

Result<std::vector<AccessRecord>> TrialView::Accesses(std::string_view trial_id) {
  std::vector<AccessRecord> out;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx, time, reader, grant_id, purpose, domain, "
                                         "outcome, refusal FROM trial_accesses WHERE trial = ?1 "
                                         "ORDER BY idx"));
    q->Bind(1, trial_id);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      out.push_back({static_cast<uint64_t>(q->Int(0)),
                     q->Int(1),
                     q->Text(2),
                     q->IsNull(3) ? "" : q->Text(3),
                     q->Text(4),
                     q->Text(5),
                     q->Text(6),
                     q->IsNull(7) ? "" : q->Text(7),
                     {}});
    }
  }
  PEDIGREE_ASSIGN(leaves, impl_->db.Prepare("SELECT leaf FROM trial_access_leaves WHERE trial = "
                                            "?1 AND idx = ?2 ORDER BY pos"));
  for (AccessRecord& a : out) {
    leaves->Reset();
    leaves->Bind(1, trial_id).Bind(2, static_cast<int64_t>(a.index));
    while (true) {
      PEDIGREE_ASSIGN(row, leaves->Step());
      if (!*row) break;
      a.leaves.push_back(leaves->Text(0));
    }
  }
  return out;
}

Result<SubjectHistory> TrialView::Subject(std::string_view trial_id, std::string_view subject_ref) {
  SubjectHistory h;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM trial_enrolments WHERE trial = ?1 AND "
                                         "subject_ref = ?2"));
    q->Bind(1, trial_id).Bind(2, subject_ref);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) return h;
    h.enrolment = static_cast<uint64_t>(q->Int(0));
  }
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM trial_consents WHERE trial = ?1 AND "
                                         "subject_ref = ?2 ORDER BY idx"));
    q->Bind(1, trial_id).Bind(2, subject_ref);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      h.consents.push_back(static_cast<uint64_t>(q->Int(0)));
    }
  }
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM trial_withdrawals WHERE trial = ?1 AND "
                                         "subject_ref = ?2"));
    q->Bind(1, trial_id).Bind(2, subject_ref);
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row) h.withdrawal = static_cast<uint64_t>(q->Int(0));
  }
  {
    PEDIGREE_ASSIGN(
        q, impl_->db.Prepare("SELECT s.domain, s.leaf, s.idx, COALESCE(l.redacted, 0) FROM "
                             "trial_subject_leaves s LEFT JOIN trial_leaves l ON l.trial = s.trial "
                             "AND l.domain = s.domain AND l.leaf = s.leaf WHERE s.trial = ?1 AND "
                             "s.subject_ref = ?2 ORDER BY s.idx, s.domain, s.leaf"));
    q->Bind(1, trial_id).Bind(2, subject_ref);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      h.leaves.push_back(
          {q->Text(0), q->Text(1), static_cast<uint64_t>(q->Int(2)), q->Int(3) != 0});
    }
  }
  {
    // trial_access_leaves_by_leaf: one index probe per leaf of the subject.
    PEDIGREE_ASSIGN(
        q, impl_->db.Prepare("SELECT a.idx, a.domain, a.leaf, s.idx FROM trial_subject_leaves s "
                             "JOIN trial_access_leaves a ON a.trial = s.trial AND a.leaf = s.leaf "
                             "AND a.domain = s.domain WHERE s.trial = ?1 AND s.subject_ref = ?2 "
                             "ORDER BY a.idx, a.pos"));
    q->Bind(1, trial_id).Bind(2, subject_ref);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      const auto index = static_cast<uint64_t>(q->Int(0));
      if (h.accesses.empty() || h.accesses.back().index != index) h.accesses.push_back({index, {}});
      h.accesses.back().leaves.push_back(
          {q->Text(1), q->Text(2), static_cast<uint64_t>(q->Int(3)), false});
    }
  }
  return h;
}

}  // namespace pedigree::provenance
