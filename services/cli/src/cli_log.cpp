// `pedigree init`, `keygen` and `log ...`: the generic verifiable log from the shell.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sql.h"
#include "pedigree/provenance/derived_audit.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

JsonValue HashJson(const Hash& h) { return JsonValue(ToBase64(h)); }

JsonValue HashListJson(const std::vector<Hash>& hashes) {
  auto list = JsonValue::Array();
  for (const Hash& h : hashes) list.push_back(HashJson(h));
  return list;
}

JsonValue Int(uint64_t v) { return JsonValue(static_cast<int64_t>(v)); }

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

// A plain log by default; --supply-chain attaches the provenance model, governed by the
// consortium authority key given (--authority-public-key) or generated here. --storage
// postgresql://… keeps the data in that database (the directory keeps the keys and records
// the setting for every later command); SQLite in the directory otherwise.
int Init(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args,
                      Args::Parse(argv, 1, {"dir", "origin", "authority-public-key", "storage"},
                                  {"supply-chain", "json"}));
  PEDIGREE_TRY_ASSIGN(origin, args->required("origin"));
  std::string storage = args->get("storage").value_or("");
  if (storage == "sqlite") storage.clear();
  if (!storage.empty() && !log::IsPostgresUrl(storage)) {
    return PrintError(io.err, Error("cli.usage",
                                    "--storage takes sqlite or a postgresql:// "
                                    "connection string, not '" +
                                        storage.substr(0, 40) + "'")
                                  .at_field("storage"));
  }
  auto out = JsonValue::Object();
  out.set("dir", JsonValue(args->dir()));
  out.set("origin", JsonValue(*origin));
  if (!args->has("supply-chain")) {
    PEDIGREE_TRY_ASSIGN(created, log::Ledger::Create(args->dir(), *origin, {.storage = storage}));
    out.set("verifier_key", JsonValue((*created)->VerifierKey()));
    PrintJson(io.out, out);
    return 0;
  }
  std::optional<log::PrivateKey> generated;
  std::optional<log::PublicKey> authority;
  if (auto b64 = args->get("authority-public-key")) {
    PEDIGREE_TRY_ASSIGN(raw, FromBase64(*b64));
    PEDIGREE_TRY_ASSIGN(key, log::PublicKey::FromRaw(*raw));
    authority = *key;
  } else {
    generated = log::PrivateKey::Generate();
    authority = generated->public_key();
  }
  PEDIGREE_TRY_ASSIGN(node, SupplyNode::Create(args->dir(), *origin, *authority, {}, storage));
  if (generated) {
    std::string path = args->dir() + "/authority-key.pem";
    if (auto saved = generated->SavePem(path); !saved) return PrintError(io.err, saved.error());
    out.set("authority_key_file", JsonValue(path));
  }
  out.set("authority_public_key", JsonValue(ToBase64(authority->raw())));
  out.set("verifier_key", JsonValue((*node)->ledger().VerifierKey()));
  PrintJson(io.out, out);
  return 0;
}

int Keygen(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 1, {"out"}, {"json"}));
  PEDIGREE_TRY_ASSIGN(path, args->required("out"));
  log::PrivateKey key = log::PrivateKey::Generate();
  if (auto saved = key.SavePem(*path); !saved) return PrintError(io.err, saved.error());
  auto out = JsonValue::Object();
  out.set("private_key_file", JsonValue(*path));
  out.set("public_key", JsonValue(ToBase64(key.public_key().raw())));
  out.set("fingerprint", JsonValue(key.public_key().Fingerprint()));
  PrintJson(io.out, out);
  return 0;
}

// `key show FILE [--name N] [--json]`: the public half of a PEM key, and with --name its note
// verifier key (what --trust and witnesses take). Works on any readable key; a private key
// readable by others than its owner is shown with a warning on standard error.
int KeyShow(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"name"}, {"json"}));
  if (args->positionals().size() != 1) {
    return PrintError(io.err, Error("cli.usage", "usage: key show FILE [--name N] [--json]"));
  }
  const std::string& path = args->positionals()[0];
  PEDIGREE_TRY_ASSIGN(text, ReadInput(path, io.in));
  std::optional<log::PublicKey> key;
  if (text->find("PRIVATE KEY") != std::string::npos) {
    PEDIGREE_TRY_ASSIGN(priv, log::PrivateKey::FromPem(*text));
    key = priv->public_key();
    std::error_code ec;
    auto perms = std::filesystem::status(path, ec).permissions();
    using P = std::filesystem::perms;
    if (!ec && path != "-" && (perms & (P::group_all | P::others_all)) != P::none) {
      io.err << "pedigree: warning: private key " << path
             << " is readable by others than its owner (chmod 600 it)\n";
    }
  } else {
    PEDIGREE_TRY_ASSIGN(pub, log::PublicKey::FromPem(*text));
    key = *pub;
  }
  std::optional<std::string> verifier;
  if (auto name = args->get("name")) {
    if (!log::IsValidNoteKeyName(*name)) {
      return PrintError(io.err, Error("cli.usage", "--name '" + *name +
                                                       "' is not a note key name (non-empty, "
                                                       "no spaces, no '+')")
                                    .at_field("name"));
    }
    verifier = log::NoteVerifier(*name, log::NoteKeyType::kEd25519, *key).ToString();
  }
  if (args->has("json")) {
    auto out = JsonValue::Object();
    out.set("public_key", JsonValue(ToBase64(key->raw())));
    out.set("fingerprint", JsonValue(key->Fingerprint()));
    if (verifier) out.set("verifier_key", JsonValue(*verifier));
    PrintJson(io.out, out);
    return 0;
  }
  io.out << "public key:   " << ToBase64(key->raw()) << "\n"
         << "fingerprint:  " << key->Fingerprint() << "\n";
  if (verifier) io.out << "verifier key: " << *verifier << "\n";
  return 0;
}

// Payloads are one JSON object, or an array of objects appended in order.
int LogAppend(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args,
                      Args::Parse(argv, 2, {"dir", "key", "idempotency-key"}, {"signed", "json"}));
  std::string input_path = args->positionals().empty() ? "-" : args->positionals()[0];
  PEDIGREE_TRY_ASSIGN(text, ReadInput(input_path, io.in));
  bool presigned = args->has("signed");
  // Opened first: entries are signed for this ledger's origin.
  PEDIGREE_TRY_ASSIGN(opened, log::Ledger::Open(args->dir()));
  std::vector<std::string> envelopes;
  if (presigned) {
    // Already signed envelopes, one per line, appended byte for byte.
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) end = text->size();
      if (end > start) envelopes.push_back(text->substr(start, end - start));
      start = end + 1;
    }
  } else {
    PEDIGREE_TRY_ASSIGN(key_path, args->required("key"));
    PEDIGREE_TRY_ASSIGN(key, log::PrivateKey::LoadPem(*key_path));
    PEDIGREE_TRY_ASSIGN(payload, ParseJson(*text, {.integers_only = true}));
    std::vector<const JsonValue*> payloads;
    if (payload->is_array()) {
      for (const JsonValue& p : payload->as_array()) payloads.push_back(&p);
    } else {
      payloads.push_back(&*payload);
    }
    for (const JsonValue* p : payloads) {
      PEDIGREE_TRY_ASSIGN(envelope, log::SignEntry(*p, *key, (*opened)->origin()));
      envelopes.push_back(std::move(*envelope));
    }
  }
  if (envelopes.size() > 1 && args->has("idempotency-key")) {
    return PrintError(io.err, Error("cli.usage", "--idempotency-key applies to a single entry")
                                  .at_field("idempotency-key"));
  }
  std::vector<std::future<Result<uint64_t>>> pending;
  for (std::string& e : envelopes) {
    pending.push_back((*opened)->Submit(e, args->get("idempotency-key").value_or("")));
  }
  auto results = JsonValue::Array();
  int rc = 0;
  for (size_t i = 0; i < pending.size(); ++i) {
    auto index = pending[i].get();
    auto item = JsonValue::Object();
    if (index) {
      item.set("index", Int(*index));
      // The stored leaf, which carries the log's sequencing time.
      auto leaf = (*opened)->Entry(*index);
      if (!leaf) return PrintError(io.err, leaf.error());
      item.set("leaf_hash", HashJson(log::LeafHash(AsBytes(*leaf))));
    } else {
      item.set("error", JsonValue(index.error().ToString()));
      rc = 1;
    }
    results.push_back(std::move(item));
  }
  auto out = JsonValue::Object();
  out.set("appended", std::move(results));
  out.set("size", Int((*opened)->size()));
  PrintJson(io.out, out);
  return rc;
}

int LogCheckpoint(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir"}));
  if (io.remote) {
    PEDIGREE_TRY_ASSIGN(client, RemoteClient::Make(*io.remote));
    PEDIGREE_TRY_ASSIGN(reply, client->Get("/v1/log/checkpoint"));
    io.out << reply->body;
    return 0;
  }
  // The writer's open stores the checkpoint it signs (what `tiles export` and a witness
  // then publish); beside a running serve, which stores its own, a read-only open signs
  // the same note for its snapshot's size without storing it.
  auto opened = log::Ledger::Open(args->dir());
  if (!opened && opened.error().code() == "ledger.locked") {
    opened = log::Ledger::Open(args->dir(), {.read_only = true});
  }
  if (!opened) return PrintError(io.err, opened.error());
  PEDIGREE_TRY_ASSIGN(checkpoint, (*opened)->SignCheckpoint());
  io.out << checkpoint->note;
  return 0;
}

// A base64 hash list the node answered under `member` (a proof's path).
Result<std::vector<Hash>> RemoteHashes(const JsonValue& answer, const char* member,
                                       const std::string& what) {
  const JsonValue* list = answer.find(member);
  std::vector<Hash> hashes;
  if (list && list->is_array()) {
    for (const JsonValue& h : list->as_array()) {
      auto hash = h.is_string() ? HashFromBase64(h.as_string()) : Result<Hash>();
      if (!h.is_string() || !hash) break;
      hashes.push_back(*hash);
    }
    if (hashes.size() == list->as_array().size()) return hashes;
  }
  return Fail(Error("client.bad_response",
                    "the node's " + what + " has no list of base64 hashes '" + member + "'")
                  .at_field("server"));
}

// The consistency proof between tree sizes `from` and `to` (GET /v1/log/proof/consistency).
Result<std::vector<Hash>> RemoteConsistencyProof(const RemoteClient& client, uint64_t from,
                                                 uint64_t to) {
  PEDIGREE_ASSIGN(answer, client.GetJson("/v1/log/proof/consistency?from=" + std::to_string(from) +
                                         "&to=" + std::to_string(to)));
  return RemoteHashes(*answer, "proof", "consistency proof");
}

// The root the node CLAIMS for tree size `size` (the root of an inclusion proof of entry 0
// in that tree; the API serves no bare roots). Nothing here trusts it: the caller ties it to
// a signed checkpoint with consistency proofs.
Result<Hash> RemoteClaimedRoot(const RemoteClient& client, uint64_t size) {
  PEDIGREE_ASSIGN(answer,
                  client.GetJson("/v1/log/proof/inclusion?index=0&size=" + std::to_string(size)));
  const JsonValue* root = answer->find("root");
  auto hash = root && root->is_string() ? HashFromBase64(root->as_string()) : Result<Hash>();
  if (!root || !root->is_string() || !hash) {
    return Fail(Error("client.bad_response", "the node's inclusion proof has no base64 root")
                    .at_field("server"));
  }
  return *hash;
}

// The log's verifier from --trust, which a command against a node needs to check what the
// node answers (given out of band: a key fetched from the same node would vouch for nothing).
Result<log::NoteVerifier> RemoteTrust(const Args& args, const std::string& command) {
  auto trust = args.get("trust");
  if (!trust) {
    return Fail(Error("cli.usage", "with --server, " + command +
                                       " checks the proof against the log's signed checkpoint: "
                                       "give --trust LOG_VKEY (the node's log.vkey, or a file "
                                       "holding it)")
                    .at_field("trust"));
  }
  PEDIGREE_ASSIGN(vkey, ResolveVerifierKey(*trust, "trust"));
  return log::NoteVerifier::Parse(*vkey);
}

// The root of the node's tree at `size`, vouched for by the log's signature: the checkpoint
// the node serves must carry it under `verifier`, and unless `size` is the checkpoint's size,
// the root the node claims for `size` is tied to the signed root by a consistency proof.
Result<Hash> SignedRootAt(const RemoteClient& client, const log::NoteVerifier& verifier,
                          uint64_t size) {
  PEDIGREE_ASSIGN(note, client.Get("/v1/log/checkpoint"));
  const std::vector<log::NoteVerifier> verifiers = {verifier};
  PEDIGREE_ASSIGN(opened, log::OpenNote(note->body, verifiers));
  PEDIGREE_ASSIGN(checkpoint, log::ParseCheckpoint(opened->text));
  if (checkpoint->origin != verifier.name() || checkpoint->size < size) {
    return Fail(Error("client.bad_response", "the node's signed checkpoint (" + checkpoint->origin +
                                                 ", size " + std::to_string(checkpoint->size) +
                                                 ") cannot vouch for size " + std::to_string(size) +
                                                 " of log " + verifier.name())
                    .at_field("server"));
  }
  if (size == checkpoint->size) return checkpoint->root;
  PEDIGREE_ASSIGN(claimed, RemoteClaimedRoot(client, size));
  PEDIGREE_ASSIGN(link, RemoteConsistencyProof(client, size, checkpoint->size));
  PEDIGREE_TRY(log::VerifyConsistency(size, checkpoint->size, *link, *claimed, checkpoint->root));
  return *claimed;
}

// `log consistency` with --server: the proof and the two roots are the node's word until
// checked here: the root at --to against the signed checkpoint (SignedRootAt), and the proof
// asked for then ties the root at --from to it. Only what verified is printed, in the local
// command's shape.
int RemoteLogConsistency(const Args& args, uint64_t from, uint64_t to, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(verifier, RemoteTrust(args, "log consistency"));
  PEDIGREE_TRY_ASSIGN(client, RemoteClient::Make(*io.remote));
  // The proof first: the node refuses a bad range with its own coded error, and the
  // checkpoint fetched after it is at least --to (the log only grows).
  PEDIGREE_TRY_ASSIGN(proof, RemoteConsistencyProof(*client, from, to));
  PEDIGREE_TRY_ASSIGN(root2, SignedRootAt(*client, *verifier, to));
  Hash root1 = *root2;
  if (from != to) {
    PEDIGREE_TRY_ASSIGN(claimed, RemoteClaimedRoot(*client, from));
    root1 = *claimed;
  }
  if (auto ok = log::VerifyConsistency(from, to, *proof, root1, *root2); !ok) {
    return PrintError(io.err, ok.error());
  }
  auto out = JsonValue::Object();
  out.set("from", Int(from));
  out.set("to", Int(to));
  out.set("root1", HashJson(root1));
  out.set("root2", HashJson(*root2));
  out.set("proof", HashListJson(*proof));
  PrintJson(io.out, out);
  return 0;
}

// `log prove` with --server: the node's inclusion proof is checked here against the root of
// its tree at the proof's size, vouched for by the signed checkpoint (SignedRootAt), before
// anything is printed, in the local command's shape.
int RemoteLogProve(const Args& args, uint64_t index, std::optional<uint64_t> size, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(verifier, RemoteTrust(args, "log prove"));
  PEDIGREE_TRY_ASSIGN(client, RemoteClient::Make(*io.remote));
  std::string target = "/v1/log/proof/inclusion?index=" + std::to_string(index);
  if (size) target += "&size=" + std::to_string(*size);
  PEDIGREE_TRY_ASSIGN(answer, client->GetJson(target));
  const JsonValue* proved_size = answer->find("size");
  const JsonValue* leaf = answer->find("leafHash");
  auto leaf_hash = leaf && leaf->is_string() ? HashFromBase64(leaf->as_string()) : Result<Hash>();
  if (!proved_size || !proved_size->is_int() || proved_size->as_int() <= 0 ||
      (size && static_cast<uint64_t>(proved_size->as_int()) != *size) || !leaf ||
      !leaf->is_string() || !leaf_hash) {
    return PrintError(io.err, Error("client.bad_response",
                                    "the node's inclusion proof has no matching size and base64 "
                                    "leafHash")
                                  .at_field("server"));
  }
  const uint64_t tree_size = static_cast<uint64_t>(proved_size->as_int());
  PEDIGREE_TRY_ASSIGN(path, RemoteHashes(*answer, "proof", "inclusion proof"));
  PEDIGREE_TRY_ASSIGN(root, SignedRootAt(*client, *verifier, tree_size));
  if (auto ok = log::VerifyInclusion(index, tree_size, *leaf_hash, *path, *root); !ok) {
    return PrintError(io.err, ok.error());
  }
  auto out = JsonValue::Object();
  out.set("index", Int(index));
  out.set("size", Int(tree_size));
  out.set("leaf_hash", HashJson(*leaf_hash));
  out.set("proof", HashListJson(*path));
  out.set("root", HashJson(*root));
  PrintJson(io.out, out);
  return 0;
}

int LogProve(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "index", "size", "trust"}, {"json"}));
  PEDIGREE_TRY_ASSIGN(index, args->number("index"));
  if (!*index) return PrintError(io.err, Error("cli.usage", "missing required option --index"));
  PEDIGREE_TRY_ASSIGN(size, args->number("size"));
  if (io.remote) return RemoteLogProve(*args, **index, *size, io);
  PEDIGREE_TRY_ASSIGN(opened, log::Ledger::Open(args->dir(), {.read_only = true}));
  PEDIGREE_TRY_ASSIGN(proof, (*opened)->ProveInclusion(**index, *size));
  auto out = JsonValue::Object();
  out.set("index", Int(proof->index));
  out.set("size", Int(proof->size));
  out.set("leaf_hash", HashJson(proof->leaf_hash));
  out.set("proof", HashListJson(proof->path));
  out.set("root", HashJson(proof->root));
  PrintJson(io.out, out);
  return 0;
}

int LogConsistency(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "from", "to", "trust"}, {"json"}));
  PEDIGREE_TRY_ASSIGN(from, args->number("from"));
  PEDIGREE_TRY_ASSIGN(to, args->number("to"));
  if (!*from || !*to) {
    return PrintError(io.err, Error("cli.usage", "--from and --to are required"));
  }
  if (io.remote) return RemoteLogConsistency(*args, **from, **to, io);
  PEDIGREE_TRY_ASSIGN(opened, log::Ledger::Open(args->dir(), {.read_only = true}));
  PEDIGREE_TRY_ASSIGN(proof, (*opened)->ProveConsistency(**from, **to));
  PEDIGREE_TRY_ASSIGN(root1, (*opened)->RootAt(**from));
  PEDIGREE_TRY_ASSIGN(root2, (*opened)->RootAt(**to));
  auto out = JsonValue::Object();
  out.set("from", Int(**from));
  out.set("to", Int(**to));
  out.set("root1", HashJson(*root1));
  out.set("root2", HashJson(*root2));
  out.set("proof", HashListJson(*proof));
  PrintJson(io.out, out);
  return 0;
}

int LogEntry(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "index"}, {"json"}));
  PEDIGREE_TRY_ASSIGN(index, args->number("index"));
  if (!*index) return PrintError(io.err, Error("cli.usage", "missing required option --index"));
  if (io.remote) {
    PEDIGREE_TRY_ASSIGN(client, RemoteClient::Make(*io.remote));
    PEDIGREE_TRY_ASSIGN(entry, client->GetJson("/v1/log/entries/" + std::to_string(**index)));
    PrintJson(io.out, *entry);
    return 0;
  }
  PEDIGREE_TRY_ASSIGN(opened, log::Ledger::Open(args->dir(), {.read_only = true}));
  PEDIGREE_TRY_ASSIGN(entry, (*opened)->Entry(**index));
  io.out << *entry << "\n";
  return 0;
}

// Read-only and without the writer lock, like `report audit`: a database that a node would
// refuse to open (an edited entry, a tampered registry) is what this must describe.
int LogAudit(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir"}, {"json"}));
  std::ifstream vkey_file(std::filesystem::path(args->dir()) / log::kLogVerifierKeyFile);
  std::string vkey_text;
  if (!vkey_file || !std::getline(vkey_file, vkey_text)) {
    return PrintError(io.err, Error("ledger.not_found",
                                    "no ledger in " + args->dir() + " (its log.vkey is missing)")
                                  .at_field("dir"));
  }
  PEDIGREE_TRY_ASSIGN(log_key, log::NoteVerifier::Parse(vkey_text));
  PEDIGREE_TRY_ASSIGN(storage, log::OpenLedgerStorage(args->dir()));
  Progress progress(io.err, io.progress, "log audit: entries verified");
  PEDIGREE_TRY_ASSIGN(
      report,
      log::AuditLog(
          **storage, [](std::string_view entry) { return log::VerifyEntry(entry); }, 0,
          [&](const log::StoredCheckpoint& cp) { return log::CheckCheckpointNote(cp, *log_key); },
          [&](uint64_t done, uint64_t total) { progress.Update(done, total); }));
  auto out = JsonValue::Object();
  bool ok = report->ok();
  out.set("entries", Int(report->size));
  out.set("checkpoints", Int(report->checkpoints_checked));
  if (!report->ok()) {
    out.set("first_bad_index", Int(*report->bad_index));
    out.set("code", JsonValue(report->problem->code()));
    out.set("problem", JsonValue(report->problem->ToString()));
  } else if (auto model = (*storage)->GetMeta("model"); model && *model == provenance::kModelName) {
    // The derived tables, replayed from the log and compared row by row.
    progress.Phase("log audit: replaying the rules");
    PEDIGREE_TRY_ASSIGN(
        derived, provenance::AuditDerivedState(
                     **storage, (std::filesystem::path(args->dir()) / log::kLedgerDbFile).string(),
                     log_key->public_key()));
    auto d = JsonValue::Object();
    d.set("ok", JsonValue(derived->ok()));
    d.set("entries_replayed", Int(derived->entries_replayed));
    d.set("tables", Int(derived->tables_compared.size()));
    d.set("mismatches", Int(derived->mismatch_count));
    auto rows = JsonValue::Array();
    for (const auto& m : derived->mismatches) {
      auto row = JsonValue::Object().set("table", m.table).set("key", m.key);
      row.set("stored", m.stored).set("replayed", m.replayed);
      if (m.index) row.set("index", Int(*m.index));
      rows.push_back(std::move(row));
    }
    d.set("rows", std::move(rows));
    out.set("derived", std::move(d));
    if (!derived->ok()) {
      ok = false;
      if (derived->bad_index) out.set("first_bad_index", Int(*derived->bad_index));
      out.set("code", JsonValue(derived->problem->code()));
      out.set("problem", JsonValue(derived->problem->ToString()));
    }
  }
  out.set("ok", JsonValue(ok));
  progress.Finish();
  PrintJson(io.out, out);
  return ok ? 0 : 1;
}

}  // namespace

std::vector<Command> LedgerCommands() {
  return {
      {"init",
       "init --origin NAME [--dir D] [--storage URL] [--supply-chain [--authority-public-key "
       "B64]]  new ledger",
       Init,
       "  --origin NAME  the log's origin line, signed into every checkpoint (required)\n" +
           kDirHelp +
           "  --storage URL  sqlite (default: ledger.db in DIR) or postgresql://…: the log and\n"
           "                 derived state in that database; DIR keeps the keys and records it\n"
           "  --supply-chain attach the provenance model (default: a plain log)\n"
           "  --authority-public-key B64\n"
           "                 the consortium authority's Ed25519 public key (default: generate\n"
           "                 one and save it as DIR/authority-key.pem)\n"
           "  --json         accepted; the output is always JSON\n",
       "init --origin example.org/pedigree --dir ./ledger --supply-chain"},
      {"keygen", "keygen --out FILE                     new Ed25519 key (PKCS#8 PEM, mode 0600)",
       Keygen,
       "  --out FILE     where to write the private key (required)\n"
       "  --json         accepted; the output is always JSON\n",
       "keygen --out acme.pem"},
      {"key show",
       "key show FILE [--name N] [--json]     public key (and note verifier key) of a PEM key",
       KeyShow,
       "  FILE           an Ed25519 key in PEM, private (PKCS#8) or public\n"
       "  --name N       also print the note verifier key for the key name N\n" +
           kJsonHelp,
       "key show ./ledger/log-key.pem --name example.org/pedigree"},
      {"log append",
       "log append --key FILE [--idempotency-key K] [FILE|-]   sign and append JSON payload(s); "
       "--signed appends envelopes as given",
       LogAppend,
       "  FILE|-         a JSON payload object or array of them (default: standard input)\n"
       "  --key FILE     the signer's private key in PEM (required without --signed)\n"
       "  --signed       the input is signed envelopes, one per line, appended as given\n"
       "  --idempotency-key K\n"
       "                 a retry with the same key returns the first index (single entry)\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "log append --key acme.pem payload.json"},
      {"log checkpoint", "log checkpoint                        sign and print the checkpoint note",
       LogCheckpoint, kDirHelp, "log checkpoint --dir ./ledger"},
      {"log prove", "log prove --index N [--size S]        inclusion proof", LogProve,
       "  --index N      the entry's index (required)\n"
       "  --size S       the tree size to prove against (default: the current size)\n"
       "  --trust VKEY   against a node (required there): the log's verifier key, or a file\n"
       "                 holding it; the proof is checked against the node's signed\n"
       "                 checkpoint before anything is printed\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "log prove --index 3"},
      {"log consistency", "log consistency --from A --to B       consistency proof", LogConsistency,
       "  --from A       the older tree size (required)\n"
       "  --to B         the newer tree size (required)\n"
       "  --trust VKEY   against a node (required there): the log's verifier key, or a file\n"
       "                 holding it; the proof and both roots are checked against the\n"
       "                 node's signed checkpoint before anything is printed\n"
       "  --json         accepted; the output is always JSON\n" +
           kDirHelp,
       "log consistency --from 10 --to 42"},
      {"log entry", "log entry --index N                   print a stored entry", LogEntry,
       "  --index N      the entry's index (required)\n"
       "  --json         accepted; the output is the entry, a JSON envelope\n" +
           kDirHelp,
       "log entry --index 0"},
      {"log audit",
       "log audit                             recompute and verify everything, replay the rules",
       LogAudit, "  --json         accepted; the output is always JSON\n" + kDirHelp,
       "log audit --dir ./ledger"},
  };
}

}  // namespace pedigree::services
