#include "pedigree/provenance/trial_seal.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <thread>
#include <unordered_map>
#include <utility>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/parallel.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"

namespace pedigree::provenance {
namespace {

// Below a few thousand hashes a thread costs more than it saves.
constexpr size_t kHashesPerThread = 4096;

// The end of the key component starting at `begin`: the next unescaped '|' or the end.
size_t ComponentEnd(std::string_view key, size_t begin, bool& escaped) {
  size_t i = begin;
  while (i < key.size()) {
    if (key[i] == '\\') {
      escaped = true;
      i += 2;
      continue;
    }
    if (key[i] == '|') break;
    ++i;
  }
  return std::min(i, key.size());
}

std::string Unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out.push_back(raw[i]);
  }
  return out;
}

bool IsCanonicalUnsigned(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int Sign(int v) { return (v > 0) - (v < 0); }

// Numbers (canonical non-negative decimals) sort before every other text, by value; other
// texts bytewise. Ordering the two classes keeps the order total: comparing a number with a
// text bytewise would give 2 < 10 < 1a < 2.
int CompareComponents(std::string_view a, bool a_escaped, std::string_view b, bool b_escaped) {
  const bool a_number = !a_escaped && IsCanonicalUnsigned(a);
  const bool b_number = !b_escaped && IsCanonicalUnsigned(b);
  if (a_number != b_number) return a_number ? -1 : 1;
  if (a_number) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return Sign(a.compare(b));
  }
  if (!a_escaped && !b_escaped) return Sign(a.compare(b));
  const std::string ua = a_escaped ? Unescape(a) : std::string(a);
  const std::string ub = b_escaped ? Unescape(b) : std::string(b);
  return Sign(std::string_view(ua).compare(ub));
}

std::vector<std::string> RecordKeys(const Dataset& dataset, unsigned threads) {
  std::vector<std::string> keys(dataset.records.size());
  ParallelFor(keys.size(), threads, kHashesPerThread, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) keys[i] = RecordKey(dataset, i);
  });
  return keys;
}

Error DuplicateKey(const std::string& key, uint64_t first_line, uint64_t second_line) {
  return Error("trial.duplicate_key", "key " + key + " appears at line " +
                                          std::to_string(first_line) + " and again at line " +
                                          std::to_string(second_line))
      .at_line_column(second_line, 1);
}

bool StrictlyIncreasing(const std::vector<std::string>& keys) {
  for (size_t i = 1; i < keys.size(); ++i) {
    if (CompareRecordKeys(keys[i - 1], keys[i]) >= 0) return false;
  }
  return true;
}

// Indexes of `keys` in key order, or trial.duplicate_key. Most exports come sorted, and a
// strictly increasing input needs neither the sort nor the duplicate pass.
Result<std::vector<size_t>> UniqueKeyOrder(const std::vector<std::string>& keys,
                                           const std::vector<uint64_t>& lines) {
  std::vector<size_t> order(keys.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (StrictlyIncreasing(keys)) return order;
  // Comparing precomputed byte keys is several times cheaper than splitting and
  // classifying the components again in each of the n·log n comparisons.
  std::vector<std::string> sort_keys(keys.size());
  ParallelFor(keys.size(), 0, kHashesPerThread, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) sort_keys[i] = RecordSortKey(keys[i]);
  });
  std::sort(order.begin(), order.end(),
            [&sort_keys](size_t a, size_t b) { return sort_keys[a] < sort_keys[b]; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (CompareRecordKeys(keys[order[i - 1]], keys[order[i]]) == 0) {
      const uint64_t a = lines[order[i - 1]], b = lines[order[i]];
      return Fail(DuplicateKey(keys[order[i]], std::min(a, b), std::max(a, b)));
    }
  }
  return order;
}

// RecordCommitment of record `i` without a second copy: `buffer` ends up holding
// salt || CanonicalRecord(i), so the canonical bytes are buffer.substr(sizeof(Salt)).
Hash SaltedCommitment(std::string& buffer, const Salt& salt, const CanonicalRecordEncoder& encoder,
                      size_t i) {
  buffer.assign(reinterpret_cast<const char*>(salt.data()), salt.size());
  encoder.AppendTo(buffer, i);
  return Sha256(std::string_view(buffer));
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Salt FreshSalt() {
  Salt salt;
  RandomBytes(salt);
  return salt;
}

Hash RecordCommitment(std::span<const uint8_t> salt, std::string_view canonical) {
  // One buffer per thread: the seal hashes a million records and should not allocate each.
  thread_local std::string buffer;
  buffer.assign(reinterpret_cast<const char*>(salt.data()), salt.size());
  buffer.append(canonical);
  return Sha256(std::string_view(buffer));
}

int CompareRecordKeys(std::string_view a, std::string_view b) {
  size_t ia = 0, ib = 0;
  while (true) {
    bool ea = false, eb = false;
    const size_t enda = ComponentEnd(a, ia, ea), endb = ComponentEnd(b, ib, eb);
    const int c = CompareComponents(a.substr(ia, enda - ia), ea, b.substr(ib, endb - ib), eb);
    if (c != 0) return c;
    const bool more_a = enda < a.size(), more_b = endb < b.size();
    if (!more_a || !more_b) return static_cast<int>(more_a) - static_cast<int>(more_b);
    ia = enda + 1;
    ib = endb + 1;
  }
}

std::string RecordSortKey(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 16);
  size_t i = 0;
  while (true) {
    bool escaped = false;
    const size_t end = ComponentEnd(key, i, escaped);
    const std::string_view raw = key.substr(i, end - i);
    if (!escaped && IsCanonicalUnsigned(raw)) {
      out.push_back('\x01');
      const uint32_t n = static_cast<uint32_t>(raw.size());
      for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(n >> shift));
      out.append(raw);
    } else {
      out.push_back('\x02');
      const std::string text = escaped ? Unescape(raw) : std::string(raw);
      for (const char c : text) {
        out.push_back(c);
        if (c == '\0') out.push_back('\x01');
      }
      out.append("\0\0", 2);
    }
    if (end >= key.size()) return out;
    i = end + 1;
  }
}

std::string SchemaHash(std::span<const Column> columns) {
  std::vector<const Column*> sorted;
  for (const auto& c : columns) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  JsonArray array;
  for (const auto* c : sorted) {
    array.push_back(JsonValue::Object().set("name", c->name).set("dataType", c->data_type));
  }
  return ToHex(Sha256(Canonicalize(JsonValue(std::move(array)))));
}

// ---- Seal tree ----

SealTree::SealTree(std::span<const Hash> commitments, unsigned threads) {
  if (commitments.empty()) {
    root_ = log::EmptyRoot();
    return;
  }
  levels_.emplace_back(commitments.size());
  auto& leaves = levels_[0];
  ParallelFor(commitments.size(), threads, kHashesPerThread, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) leaves[i] = log::LeafHash(commitments[i]);
  });
  // Every perfect subtree, level by level: node (l, i) covers leaves [i·2^l, (i+1)·2^l).
  while (levels_.back().size() >= 2) {
    const auto& below = levels_.back();
    std::vector<Hash> level(below.size() / 2);
    ParallelFor(level.size(), threads, kHashesPerThread, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) level[i] = log::NodeHash(below[2 * i], below[2 * i + 1]);
    });
    levels_.push_back(std::move(level));
  }
  auto root = log::TreeRoot(size(), *this);
  assert(root.has_value());  // every node TreeRoot reads is present by construction
  root_ = *root;
}

Result<Hash> SealTree::ReadHash(uint32_t level, uint64_t index) {
  if (level >= levels_.size() || index >= levels_[level].size()) {
    return Fail("storage.not_found", "seal tree has no node at level " + std::to_string(level) +
                                         " index " + std::to_string(index));
  }
  return levels_[level][index];
}

Result<std::vector<Hash>> SealTree::InclusionProof(uint64_t index) const {
  // The reader interface is non-const, but ReadHash only reads.
  return log::InclusionProof(index, size(), const_cast<SealTree&>(*this));
}

Hash SealRoot(std::span<const Hash> commitments_in_key_order) {
  return SealTree(commitments_in_key_order).Root();
}

// ---- Sealing ----

namespace {

Result<DatasetSeal> SealWithSalts(const Dataset& dataset, std::span<const Salt> salts) {
  const size_t n = dataset.records.size();
  if (n == 0)
    return Fail("trial.empty_dataset", "the " + dataset.domain + " dataset has no records");
  std::vector<std::string> keys = RecordKeys(dataset, 0);
  std::vector<uint64_t> lines(n);
  for (size_t i = 0; i < n; ++i) lines[i] = dataset.records[i].line;
  PEDIGREE_ASSIGN(sorted, UniqueKeyOrder(keys, lines));
  const std::vector<size_t>& order = *sorted;

  const CanonicalRecordEncoder encoder(dataset);
  DatasetSeal seal;
  seal.records.resize(n);
  std::vector<Hash> leaves(n);
  ParallelFor(n, 0, kHashesPerThread, [&](size_t begin, size_t end) {
    std::string buffer;
    for (size_t pos = begin; pos < end; ++pos) {
      const size_t i = order[pos];
      SealedRecord& r = seal.records[pos];
      r.key = std::move(keys[i]);
      r.salt = salts[i];
      r.leaf = SaltedCommitment(buffer, salts[i], encoder, i);
      r.canonical.emplace(buffer, sizeof(Salt));
      r.line = lines[i];
      leaves[pos] = r.leaf;
    }
  });
  seal.summary.root = SealTree(leaves).Root();
  seal.summary.record_count = n;
  seal.summary.schema_hash = SchemaHash(dataset.columns);
  return seal;
}

}  // namespace

Result<DatasetSeal> SealDataset(const Dataset& dataset) {
  if (dataset.records.empty()) {
    return Fail("trial.empty_dataset", "the " + dataset.domain + " dataset has no records");
  }
  // One CSPRNG call for all salts: RAND_bytes costs a lock and a fork check per call.
  Bytes random(dataset.records.size() * sizeof(Salt));
  RandomBytes(random);
  std::vector<Salt> salts(dataset.records.size());
  for (size_t i = 0; i < salts.size(); ++i) {
    std::memcpy(salts[i].data(), random.data() + i * sizeof(Salt), sizeof(Salt));
  }
  return SealWithSalts(dataset, salts);
}

Result<DatasetSeal> SealDataset(const Dataset& dataset, std::span<const Salt> salts) {
  if (salts.size() != dataset.records.size()) {
    return Fail("trial.salt_count", std::to_string(salts.size()) + " salts given for " +
                                        std::to_string(dataset.records.size()) + " records");
  }
  if (salts.empty())
    return Fail("trial.empty_dataset", "the " + dataset.domain + " dataset has no records");
  return SealWithSalts(dataset, salts);
}

Result<DatasetSeal> SealRecords(std::vector<SealedRecord> records, std::string schema_hash) {
  if (records.empty()) return Fail("trial.empty_dataset", "the dataset has no records");
  // Equal keys keep their input order (the duplicate-key error names lines in that order).
  // Not std::stable_sort: libstdc++ 12's get_temporary_buffer is deprecated under clang 19,
  // which breaks the fuzz build (docs/fuzzing.md).
  std::vector<size_t> order(records.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&records](size_t a, size_t b) {
    if (RecordKeyLess(records[a].key, records[b].key)) return true;
    if (RecordKeyLess(records[b].key, records[a].key)) return false;
    return a < b;
  });
  std::vector<SealedRecord> sorted;
  sorted.reserve(records.size());
  for (size_t i : order) sorted.push_back(std::move(records[i]));
  records = std::move(sorted);
  for (size_t i = 1; i < records.size(); ++i) {
    if (CompareRecordKeys(records[i - 1].key, records[i].key) == 0) {
      return Fail(DuplicateKey(records[i].key, records[i - 1].line, records[i].line));
    }
  }
  std::vector<Hash> leaves(records.size());
  std::vector<uint8_t> bad(records.size(), 0);
  ParallelFor(records.size(), 0, kHashesPerThread, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const SealedRecord& r = records[i];
      leaves[i] = r.leaf;
      if (r.salt && r.canonical && RecordCommitment(*r.salt, *r.canonical) != r.leaf) bad[i] = 1;
    }
  });
  for (size_t i = 0; i < records.size(); ++i) {
    if (bad[i]) {
      return Fail("trial.leaf_mismatch",
                  "record " + records[i].key + ": its salt and text give leaf " +
                      ToHex(RecordCommitment(*records[i].salt, *records[i].canonical)) +
                      ", the stored leaf is " + ToHex(records[i].leaf));
    }
  }
  DatasetSeal seal;
  seal.summary.root = SealTree(leaves).Root();
  seal.summary.record_count = records.size();
  seal.summary.schema_hash = std::move(schema_hash);
  seal.records = std::move(records);
  return seal;
}

// ---- Comparison ----

namespace {

struct Cell {
  std::optional<std::string> value;  // nullopt = JSON null
};

Result<std::vector<std::pair<std::string, Cell>>> RecordCells(const std::string& canonical,
                                                              std::string_view side) {
  auto parsed = ParseJson(canonical);
  if (!parsed || !parsed->is_object()) {
    return Fail("trial.bad_record",
                std::string(side) + " record is not a JSON object: " +
                    (parsed ? std::string("other type") : parsed.error().message()));
  }
  std::vector<std::pair<std::string, Cell>> cells;
  for (const auto& [name, v] : parsed->as_object()) {
    Cell cell;
    if (v.is_string()) cell.value = v.as_string();
    cells.emplace_back(name, std::move(cell));
  }
  std::sort(cells.begin(), cells.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return cells;
}

Result<std::vector<CellChange>> DiffCells(const std::string& sealed, const std::string& candidate) {
  PEDIGREE_ASSIGN(a, RecordCells(sealed, "sealed"));
  PEDIGREE_ASSIGN(b, RecordCells(candidate, "candidate"));
  std::vector<CellChange> out;
  size_t i = 0, j = 0;
  while (i < a->size() || j < b->size()) {
    if (j == b->size() || (i < a->size() && (*a)[i].first < (*b)[j].first)) {
      out.push_back({(*a)[i].first, (*a)[i].second.value, std::nullopt, true, false});
      ++i;
    } else if (i == a->size() || (*b)[j].first < (*a)[i].first) {
      out.push_back({(*b)[j].first, std::nullopt, (*b)[j].second.value, false, true});
      ++j;
    } else {
      if ((*a)[i].second.value != (*b)[j].second.value) {
        out.push_back({(*a)[i].first, (*a)[i].second.value, (*b)[j].second.value, true, true});
      }
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace

Result<DatasetDiff> CompareDataset(const DatasetSeal& seal, const Dataset& candidate,
                                   const CompareOptions& options) {
  const auto& sealed = seal.records;
  if (sealed.size() != seal.summary.record_count) {
    return Fail("trial.count_mismatch", "the seal says " +
                                            std::to_string(seal.summary.record_count) +
                                            " records but holds " + std::to_string(sealed.size()));
  }
  std::vector<Hash> leaves(sealed.size());
  for (size_t i = 0; i < sealed.size(); ++i) {
    if (i > 0 && CompareRecordKeys(sealed[i - 1].key, sealed[i].key) >= 0) {
      return Fail("trial.unsorted_seal", "sealed record " + std::to_string(i) + " (" +
                                             sealed[i].key + ") is not after " + sealed[i - 1].key);
    }
    leaves[i] = sealed[i].leaf;
  }
  const Hash root = SealTree(leaves, options.threads).Root();
  if (root != seal.summary.root) {
    return Fail("trial.seal_root_mismatch", "the sealed leaves in key order give root " +
                                                ToHex(root) + ", the seal says " +
                                                ToHex(seal.summary.root));
  }

  DatasetDiff diff;
  diff.sealed_count = sealed.size();
  diff.candidate_count = candidate.records.size();
  if (options.recorded_file_hash) {
    diff.file_hash =
        FileHashCheck{ToHex(*options.recorded_file_hash), ToHex(Sha256(options.candidate_bytes))};
  }

  const std::vector<std::string> keys = RecordKeys(candidate, options.threads);
  std::vector<uint64_t> lines(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) lines[i] = candidate.records[i].line;
  // Pairs hold (sealed position, candidate index) of the keys on both sides.
  std::vector<std::pair<size_t, size_t>> pairs;
  pairs.reserve(std::min(sealed.size(), keys.size()));
  const auto matched = [&](size_t s, size_t c) {
    if (sealed[s].redacted()) {
      diff.unverifiable.push_back({sealed[s].key, lines[c]});
    } else {
      pairs.emplace_back(s, c);
    }
  };
  if (StrictlyIncreasing(keys)) {
    // The usual export: merge two key-ordered lists.
    size_t s = 0, c = 0;
    while (s < sealed.size() || c < keys.size()) {
      const int cmp = s == sealed.size() ? 1
                      : c == keys.size() ? -1
                                         : CompareRecordKeys(sealed[s].key, keys[c]);
      if (cmp < 0) {
        diff.deleted.push_back({sealed[s].key, 0});
        ++s;
      } else if (cmp > 0) {
        diff.added.push_back({keys[c], lines[c]});
        ++c;
      } else {
        matched(s, c++);
        ++s;
      }
    }
  } else {
    // Rows in another order: look keys up instead of sorting a million of them (equal keys
    // are equal strings, RecordKey's escaping being injective); only the added ones are
    // sorted.
    std::unordered_map<std::string_view, size_t> sealed_at;
    sealed_at.reserve(sealed.size());
    for (size_t s = 0; s < sealed.size(); ++s) sealed_at.emplace(sealed[s].key, s);
    constexpr size_t kNone = SIZE_MAX;
    std::vector<size_t> candidate_of(sealed.size(), kNone);
    std::vector<std::string> added_keys;
    std::vector<uint64_t> added_lines;
    for (size_t c = 0; c < keys.size(); ++c) {
      const auto it = sealed_at.find(keys[c]);
      if (it == sealed_at.end()) {
        added_keys.push_back(keys[c]);
        added_lines.push_back(lines[c]);
        continue;
      }
      if (candidate_of[it->second] != kNone) {
        const uint64_t a = lines[candidate_of[it->second]], b = lines[c];
        return Fail(DuplicateKey(keys[c], std::min(a, b), std::max(a, b)));
      }
      candidate_of[it->second] = c;
    }
    for (size_t s = 0; s < sealed.size(); ++s) {
      if (candidate_of[s] == kNone) {
        diff.deleted.push_back({sealed[s].key, 0});
      } else {
        matched(s, candidate_of[s]);
      }
    }
    PEDIGREE_ASSIGN(added_order, UniqueKeyOrder(added_keys, added_lines));
    for (const size_t i : *added_order) diff.added.push_back({added_keys[i], added_lines[i]});
  }

  const CanonicalRecordEncoder encoder(candidate);
  std::vector<uint8_t> differs(pairs.size(), 0);
  ParallelFor(pairs.size(), options.threads, kHashesPerThread, [&](size_t begin, size_t end) {
    std::string buffer;
    for (size_t p = begin; p < end; ++p) {
      const SealedRecord& r = sealed[pairs[p].first];
      if (SaltedCommitment(buffer, *r.salt, encoder, pairs[p].second) != r.leaf) differs[p] = 1;
    }
  });
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (!differs[p]) continue;
    const SealedRecord& r = sealed[pairs[p].first];
    ChangedRecord change{r.key, lines[pairs[p].second], r.canonical.has_value(), {}};
    if (r.canonical) {
      const std::string text = encoder.Encode(pairs[p].second);
      if (text == *r.canonical) {
        return Fail("trial.leaf_mismatch", "sealed record " + r.key +
                                               ": its own salt and text do not give its leaf " +
                                               ToHex(r.leaf) + "; the seal store is damaged");
      }
      PEDIGREE_ASSIGN(cells, DiffCells(*r.canonical, text));
      change.cells = std::move(*cells);
    }
    diff.changed.push_back(std::move(change));
  }
  return diff;
}

// ---- Disclosure ----

Result<Disclosure> MakeDisclosure(std::string trial_id, std::string domain, const DatasetSeal& seal,
                                  const SealTree& tree, uint64_t index, SealEvidence evidence) {
  if (index >= seal.records.size()) {
    return Fail("merkle.index_out_of_range", "index " + std::to_string(index) +
                                                 " out of bounds for " +
                                                 std::to_string(seal.records.size()) + " records");
  }
  return MakeDisclosure(std::move(trial_id), std::move(domain), seal.summary, seal.records[index],
                        tree, index, std::move(evidence));
}

Result<Disclosure> MakeDisclosure(std::string trial_id, std::string domain,
                                  const SealSummary& summary, const SealedRecord& r,
                                  const SealTree& tree, uint64_t index, SealEvidence evidence) {
  if (!r.salt || !r.canonical) {
    return Fail("trial.redacted", "record " + r.key + " was redacted: its salt and text are gone");
  }
  PEDIGREE_ASSIGN(proof, tree.InclusionProof(index));
  Disclosure d;
  d.trial_id = std::move(trial_id);
  d.domain = std::move(domain);
  d.key = r.key;
  d.canonical = *r.canonical;
  d.salt = *r.salt;
  d.leaf = r.leaf;
  d.leaf_index = index;
  d.record_count = tree.size();
  d.proof = std::move(*proof);
  d.seal = summary;
  d.evidence = std::move(evidence);
  return d;
}

namespace {

JsonValue HexArray(std::span<const Hash> hashes) {
  JsonArray out;
  for (const auto& h : hashes) out.emplace_back(ToHex(h));
  return JsonValue(std::move(out));
}

Error Malformed(std::string field, std::string message) {
  return Error("disclosure.malformed", std::move(message)).at_field(std::move(field));
}

Result<const JsonValue*> Member(const JsonValue& object, std::string_view name,
                                JsonValue::Kind kind, std::string_view kind_name) {
  const JsonValue* v = object.find(name);
  if (!v) return Fail(Malformed(std::string(name), "member " + std::string(name) + " is missing"));
  if (v->kind() != kind) {
    return Fail(Malformed(std::string(name),
                          "member " + std::string(name) + " must be " + std::string(kind_name)));
  }
  return v;
}

Result<std::string> StringMember(const JsonValue& o, std::string_view name) {
  PEDIGREE_ASSIGN(v, Member(o, name, JsonValue::Kind::kString, "a string"));
  return (*v)->as_string();
}

Result<uint64_t> CountMember(const JsonValue& o, std::string_view name) {
  PEDIGREE_ASSIGN(v, Member(o, name, JsonValue::Kind::kInt, "an integer"));
  if ((*v)->as_int() < 0) {
    return Fail(Malformed(std::string(name), "member " + std::string(name) + " is negative"));
  }
  return static_cast<uint64_t>((*v)->as_int());
}

Result<Hash> HashMember(const JsonValue& o, std::string_view name) {
  PEDIGREE_ASSIGN(s, StringMember(o, name));
  auto h = HashFromHex(*s);
  if (!h || ToHex(*h) != *s) {
    return Fail(Malformed(
        std::string(name),
        "member " + std::string(name) + " must be 64 lower-case hex digits, got \"" + *s + "\""));
  }
  return *h;
}

Result<std::vector<Hash>> HashArrayMember(const JsonValue& o, std::string_view name) {
  PEDIGREE_ASSIGN(v, Member(o, name, JsonValue::Kind::kArray, "an array"));
  std::vector<Hash> out;
  for (const auto& e : (*v)->as_array()) {
    const auto h = e.is_string() ? HashFromHex(e.as_string()) : Result<Hash>(Hash{});
    if (!e.is_string() || !h || ToHex(*h) != e.as_string()) {
      return Fail(Malformed(std::string(name), "every element of " + std::string(name) +
                                                   " must be 64 lower-case hex digits"));
    }
    out.push_back(*h);
  }
  return out;
}

Status OnlyMembers(const JsonValue& o, std::initializer_list<std::string_view> names,
                   std::string_view where) {
  for (const auto& [name, v] : o.as_object()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return Fail(Malformed(name, std::string(where) + " has an unknown member " + Quote(name)));
    }
  }
  return Ok();
}

// The components of a record key ("a|b\\|c" -> a, b|c).
std::vector<std::string> KeyComponents(std::string_view key) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (true) {
    bool escaped = false;
    const size_t end = ComponentEnd(key, begin, escaped);
    const std::string_view raw = key.substr(begin, end - begin);
    out.push_back(escaped ? Unescape(raw) : std::string(raw));
    if (end >= key.size()) return out;
    begin = end + 1;
  }
}

// The seal commits to the record, not to the key the file names, so the key is only
// shown once it is made of the record's own values: every component is the text of a
// distinct column, and the record's STUDYID, USUBJID and <domain>SEQ (the subject and
// the record the key claims) are among them. Requires `canonical` to be the verified
// record bytes.
Status CheckDisclosedKey(const Disclosure& d) {
  auto record = ParseJson(d.canonical);
  if (!record || !record->is_object()) {
    return Fail(
        Error("disclosure.key_mismatch", "the record is not a JSON object").at_field("key"));
  }
  std::vector<std::pair<std::string, std::string>> columns;
  for (const auto& [name, value] : record->as_object()) {
    if (value.is_string()) columns.emplace_back(name, value.as_string());
  }
  std::vector<bool> used(columns.size(), false);
  const std::vector<std::string> components = KeyComponents(d.key);
  for (size_t i = 0; i < components.size(); ++i) {
    size_t c = 0;
    while (c < columns.size() && (used[c] || columns[c].second != components[i])) ++c;
    if (c == columns.size()) {
      return Fail(Error("disclosure.key_mismatch",
                        "key " + Quote(d.key) + ": component " + std::to_string(i + 1) + " " +
                            Quote(components[i]) + " is not a value of the disclosed record")
                      .at_field("key"));
    }
    used[c] = true;
  }
  for (const std::string& column :
       {std::string("STUDYID"), std::string("USUBJID"), d.domain + "SEQ"}) {
    const auto it = std::find_if(columns.begin(), columns.end(),
                                 [&](const auto& col) { return col.first == column; });
    if (it == columns.end()) continue;
    if (!used[static_cast<size_t>(it - columns.begin())]) {
      return Fail(Error("disclosure.key_mismatch", "key " + Quote(d.key) +
                                                       " does not name the record's " + column +
                                                       " " + Quote(it->second))
                      .at_field("key"));
    }
  }
  return Ok();
}

}  // namespace

std::string DisclosureToJson(const Disclosure& d) {
  // The canonical record is our own JCS output, so it always parses.
  auto record = ParseJson(d.canonical);
  assert(record.has_value());
  JsonValue seal = JsonValue::Object()
                       .set("root", ToHex(d.seal.root))
                       .set("recordCount", d.seal.record_count)
                       .set("schemaHash", d.seal.schema_hash)
                       .set("algorithm", d.seal.algorithm);
  JsonValue out = JsonValue::Object()
                      .set("format", std::string(kDisclosureFormat))
                      .set("trialId", d.trial_id)
                      .set("domain", d.domain)
                      .set("key", d.key)
                      .set("record", record ? std::move(*record) : JsonValue::Object())
                      .set("salt", ToHex(d.salt))
                      .set("leaf", ToHex(d.leaf))
                      .set("leafIndex", d.leaf_index)
                      .set("recordCount", d.record_count)
                      .set("proof", HexArray(d.proof))
                      .set("seal", std::move(seal))
                      .set("sealEntry", d.evidence.seal_entry)
                      .set("sealIndex", d.evidence.seal_index)
                      .set("logProof", HexArray(d.evidence.log_proof))
                      .set("checkpoint", d.evidence.checkpoint);
  return Canonicalize(out);
}

Result<Disclosure> ParseDisclosure(std::string_view json) {
  auto parsed = ParseJson(json, {.integers_only = true});
  if (!parsed) {
    return Fail(Error("disclosure.malformed", "not a disclosure file: " + parsed.error().message())
                    .at_line_column(parsed.error().location().line.value_or(0),
                                    parsed.error().location().column.value_or(0)));
  }
  const JsonValue& o = *parsed;
  if (!o.is_object()) return Fail("disclosure.malformed", "a disclosure file is a JSON object");
  PEDIGREE_TRY(OnlyMembers(
      o,
      {"format", "trialId", "domain", "key", "record", "salt", "leaf", "leafIndex", "recordCount",
       "proof", "seal", "sealEntry", "sealIndex", "logProof", "checkpoint"},
      "the disclosure"));
  PEDIGREE_ASSIGN(format, StringMember(o, "format"));
  if (*format != kDisclosureFormat) {
    return Fail(Malformed("format", "format is " + Quote(*format) + ", this reader reads " +
                                        std::string(kDisclosureFormat)));
  }
  Disclosure d;
  PEDIGREE_ASSIGN(trial_id, StringMember(o, "trialId"));
  PEDIGREE_ASSIGN(domain, StringMember(o, "domain"));
  PEDIGREE_ASSIGN(key, StringMember(o, "key"));
  d.trial_id = *trial_id;
  d.domain = *domain;
  d.key = *key;
  PEDIGREE_ASSIGN(record, Member(o, "record", JsonValue::Kind::kObject, "an object"));
  for (const auto& [name, v] : (*record)->as_object()) {
    if (!v.is_string() && !v.is_null()) {
      return Fail(
          Malformed("record", "record member " + Quote(name) + " must be a string or null"));
    }
  }
  d.canonical = Canonicalize(**record);
  PEDIGREE_ASSIGN(salt_hex, StringMember(o, "salt"));
  auto salt = FromHex(*salt_hex);
  if (!salt || salt->size() != d.salt.size() || ToHex(*salt) != *salt_hex) {
    return Fail(Malformed(
        "salt", "salt must be 32 lower-case hex digits (16 bytes), got " + Quote(*salt_hex)));
  }
  std::copy(salt->begin(), salt->end(), d.salt.begin());
  PEDIGREE_ASSIGN(leaf, HashMember(o, "leaf"));
  d.leaf = *leaf;
  PEDIGREE_ASSIGN(leaf_index, CountMember(o, "leafIndex"));
  PEDIGREE_ASSIGN(record_count, CountMember(o, "recordCount"));
  PEDIGREE_ASSIGN(proof, HashArrayMember(o, "proof"));
  d.leaf_index = *leaf_index;
  d.record_count = *record_count;
  d.proof = std::move(*proof);

  PEDIGREE_ASSIGN(seal, Member(o, "seal", JsonValue::Kind::kObject, "an object"));
  PEDIGREE_TRY(OnlyMembers(**seal, {"root", "recordCount", "schemaHash", "algorithm"}, "seal"));
  PEDIGREE_ASSIGN(root, HashMember(**seal, "root"));
  PEDIGREE_ASSIGN(seal_count, CountMember(**seal, "recordCount"));
  PEDIGREE_ASSIGN(schema_hash, StringMember(**seal, "schemaHash"));
  PEDIGREE_ASSIGN(algorithm, StringMember(**seal, "algorithm"));
  d.seal = SealSummary{*root, *seal_count, *schema_hash, *algorithm};

  PEDIGREE_ASSIGN(entry, StringMember(o, "sealEntry"));
  PEDIGREE_ASSIGN(seal_index, CountMember(o, "sealIndex"));
  PEDIGREE_ASSIGN(log_proof, HashArrayMember(o, "logProof"));
  PEDIGREE_ASSIGN(checkpoint, StringMember(o, "checkpoint"));
  d.evidence = SealEvidence{*entry, *seal_index, std::move(*log_proof), *checkpoint};
  return d;
}

Result<VerifiedDisclosure> VerifyDisclosure(const Disclosure& d,
                                            std::span<const log::NoteVerifier> log_verifiers) {
  const SealEvidence& ev = d.evidence;
  auto note = log::OpenNote(ev.checkpoint, log_verifiers);
  if (!note) {
    return Fail("disclosure.bad_checkpoint",
                "the checkpoint does not verify with the log key: " + note.error().ToString());
  }
  auto checkpoint = log::ParseCheckpoint(note->text);
  if (!checkpoint) {
    return Fail("disclosure.bad_checkpoint",
                "the signed note is not a checkpoint: " + checkpoint.error().ToString());
  }
  if (ev.seal_index >= checkpoint->size) {
    return Fail(Error("disclosure.seal_index_out_of_range",
                      "sealIndex " + std::to_string(ev.seal_index) +
                          " is not inside the checkpoint's tree of size " +
                          std::to_string(checkpoint->size))
                    .at_field("sealIndex"));
  }
  if (auto st = log::VerifyInclusion(ev.seal_index, checkpoint->size, log::LeafHash(ev.seal_entry),
                                     ev.log_proof, checkpoint->root);
      !st) {
    return Fail(Error("disclosure.seal_not_included",
                      "sealEntry is not included at index " + std::to_string(ev.seal_index) +
                          " of the checkpoint (size " + std::to_string(checkpoint->size) +
                          ", root " + ToHex(checkpoint->root) + "): " + st.error().ToString())
                    .at_field("logProof"));
  }
  auto entry = log::OpenEntry(ev.seal_entry);
  if (!entry) {
    return Fail(Error("disclosure.seal_entry_invalid",
                      "sealEntry is not a valid signed entry: " + entry.error().ToString())
                    .at_field("sealEntry"));
  }
  if (entry->version >= 2 && entry->log != checkpoint->origin) {
    return Fail(Error("disclosure.seal_entry_invalid", "sealEntry is signed for the log '" +
                                                           entry->log + "', the checkpoint is '" +
                                                           checkpoint->origin + "'")
                    .at_field("sealEntry"));
  }
  const JsonValue& p = entry->payload;
  const auto text = [&p](std::string_view name) -> std::string {
    const JsonValue* v = p.find(name);
    return v && v->is_string() ? v->as_string() : std::string();
  };
  if (text("kind") != "trial.seal") {
    return Fail(Error("disclosure.seal_entry_invalid",
                      "sealEntry is a " + Quote(text("kind")) + " event, not trial.seal")
                    .at_field("sealEntry"));
  }
  const JsonValue* count = p.find("recordCount");
  const int64_t entry_count = count && count->is_int() ? count->as_int() : -1;
  const std::pair<std::string, std::pair<std::string, std::string>> fields[] = {
      {"trialId", {text("trialId"), d.trial_id}},
      {"domain", {text("domain"), d.domain}},
      {"root", {text("root"), ToHex(d.seal.root)}},
      {"recordCount", {std::to_string(entry_count), std::to_string(d.seal.record_count)}},
      {"schemaHash", {text("schemaHash"), d.seal.schema_hash}},
      {"algorithm", {text("algorithm"), d.seal.algorithm}},
  };
  for (const auto& [name, values] : fields) {
    if (values.first != values.second) {
      return Fail(Error("disclosure.seal_mismatch", "the ledger's seal has " + name + " " +
                                                        Quote(values.first) + ", the file has " +
                                                        Quote(values.second))
                      .at_field(name));
    }
  }
  if (d.seal.algorithm != kTrialSealAlgorithm) {
    return Fail(Error("disclosure.unsupported_algorithm",
                      "seal algorithm " + Quote(d.seal.algorithm) + "; this verifier knows " +
                          std::string(kTrialSealAlgorithm))
                    .at_field("algorithm"));
  }
  if (d.record_count != d.seal.record_count) {
    return Fail(Error("disclosure.tree_size_mismatch",
                      "the proof is for a tree of " + std::to_string(d.record_count) +
                          " records but the seal has " + std::to_string(d.seal.record_count))
                    .at_field("recordCount"));
  }
  const Hash leaf = RecordCommitment(d.salt, d.canonical);
  if (leaf != d.leaf) {
    return Fail(Error("disclosure.leaf_mismatch", "SHA-256(salt || record) is " + ToHex(leaf) +
                                                      " but the leaf is " + ToHex(d.leaf) +
                                                      ": wrong salt or altered record")
                    .at_field("record"));
  }
  PEDIGREE_TRY(CheckDisclosedKey(d));
  if (d.leaf_index >= d.record_count) {
    return Fail(Error("disclosure.index_out_of_range",
                      "leafIndex " + std::to_string(d.leaf_index) + " out of bounds for " +
                          std::to_string(d.record_count) + " records")
                    .at_field("leafIndex"));
  }
  auto implied =
      log::RootFromInclusionProof(d.leaf_index, d.record_count, log::LeafHash(d.leaf), d.proof);
  if (!implied || *implied != d.seal.root) {
    return Fail(Error("disclosure.proof_invalid",
                      "the proof puts leaf " + ToHex(d.leaf) + " at index " +
                          std::to_string(d.leaf_index) + " under root " +
                          (implied ? ToHex(*implied) : implied.error().ToString()) +
                          ", the sealed root is " + ToHex(d.seal.root))
                    .at_field("proof"));
  }
  return VerifiedDisclosure{*checkpoint, d.key, ToBase64(entry->key.raw())};
}

}  // namespace pedigree::provenance
