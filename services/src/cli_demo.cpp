// `pedigree demo`: the end-to-end run behind the README's main command. Until the
// supply-chain scenario lands it exercises the ledger core the way a verifier would:
// create a ledger, append signed events, sign a checkpoint, then check a proof and the
// checkpoint signature using only public data.
#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli_common.h"
#include "pedigree/ledger/envelope.h"
#include "pedigree/ledger/keys.h"
#include "pedigree/ledger/ledger.h"
#include "pedigree/ledger/merkle.h"
#include "pedigree/ledger/note.h"
#include "pedigree/ledger/proof.h"

namespace pedigree::services {
namespace {

using ledger::JsonValue;

JsonValue DemoEvent(uint64_t i) {
  auto p = JsonValue::Object();
  p.set("type", JsonValue(std::string("ObjectEvent")));
  p.set("action", JsonValue(std::string("ADD")));
  p.set("bizStep", JsonValue(std::string("urn:epcglobal:cbv:bizstep:commissioning")));
  p.set("disposition", JsonValue(std::string("urn:epcglobal:cbv:disp:active")));
  char serial[32];
  std::snprintf(serial, sizeof serial, "DEMO%08llu", static_cast<unsigned long long>(i));
  p.set("epc", JsonValue("https://id.gs1.org/01/09506000134352/21/" + std::string(serial)));
  p.set("eventTime", JsonValue(std::string("2026-11-21T09:00:00Z")));
  p.set("clientId", JsonValue("demo-" + std::to_string(i)));
  return p;
}

int Demo(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 1, {"dir", "events"});
  if (!args) return PrintError(io.err, args.error());
  std::string dir = args->get("dir").value_or("demo");
  auto events = args->number("events");
  if (!events) return PrintError(io.err, events.error());
  uint64_t count = events->value_or(2000);

  io.out << "== pedigree demo: ledger core on embedded SQLite in " << dir << "\n";
  auto created = ledger::Ledger::Create((std::filesystem::path(dir) / "ledger").string(),
                                        "demo.pedigree.example/log");
  if (!created) return PrintError(io.err, created.error());
  auto& ledger = **created;
  io.out << "log verifier key: " << ledger.VerifierKey() << "\n";

  std::string author_path = (std::filesystem::path(dir) / "manufacturer-key.pem").string();
  ledger::PrivateKey author = ledger::PrivateKey::Generate();
  if (auto saved = author.SavePem(author_path); !saved) return PrintError(io.err, saved.error());
  io.out << "manufacturer key " << author.public_key().Fingerprint() << " saved to "
         << author_path << " (mode 0600)\n";

  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<Result<uint64_t>>> pending;
  for (uint64_t i = 0; i < count; ++i) {
    auto envelope = ledger::SignEntry(DemoEvent(i), author);
    if (!envelope) return PrintError(io.err, envelope.error());
    pending.push_back(ledger.Submit(std::move(*envelope), "demo-" + std::to_string(i)));
  }
  for (auto& f : pending) {
    auto index = f.get();
    if (!index) return PrintError(io.err, index.error());
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  io.out << "appended " << count << " signed commissioning events in " << seconds
         << " s (signing included), durably committed\n";

  // Replaying the same client id changes nothing.
  auto replay = ledger::SignEntry(DemoEvent(0), author);
  if (!replay) return PrintError(io.err, replay.error());
  auto again = ledger.Append(std::move(*replay), "demo-0");
  if (!again) return PrintError(io.err, again.error());
  io.out << "replaying client id demo-0 returned its original index " << *again
         << " and appended nothing; size still " << ledger.size() << "\n";

  auto checkpoint = ledger.SignCheckpoint();
  if (!checkpoint) return PrintError(io.err, checkpoint.error());
  io.out << "\nsigned checkpoint (C2SP signed note):\n" << checkpoint->note << "\n";

  // Verify as an outsider would: only the verifier key, the note, the entry and the proof.
  uint64_t index = count / 3;
  auto proof = ledger.ProveInclusion(index);
  auto entry = ledger.Entry(index);
  if (!proof || !entry) return PrintError(io.err, (!proof ? proof.error() : entry.error()));
  std::vector<ledger::NoteVerifier> verifiers{*ledger::NoteVerifier::Parse(ledger.VerifierKey())};
  auto note = ledger::OpenNote(checkpoint->note, verifiers);
  if (!note) return PrintError(io.err, note.error());
  auto body = ledger::ParseCheckpoint(note->text);
  if (!body) return PrintError(io.err, body.error());
  auto entry_ok = ledger::OpenEntry(*entry);
  if (!entry_ok) return PrintError(io.err, entry_ok.error());
  auto included = ledger::VerifyInclusion(index, body->size, ledger::LeafHash(AsBytes(*entry)),
                                          proof->path, body->root);
  if (!included) return PrintError(io.err, included.error());
  io.out << "entry " << index << ": signature by " << entry_ok->key.Fingerprint()
         << " valid; inclusion proof (" << proof->path.size()
         << " hashes) verified against the signed checkpoint of size " << body->size << "\n";

  auto audit = ledger.Audit();
  if (!audit) return PrintError(io.err, audit.error());
  io.out << "audit: " << audit->size << " entries re-hashed and signature-checked, "
         << (audit->ok() ? "no problem found" : audit->problem->ToString()) << "\n";
  io.out << "\nledger left in " << dir << "/ledger; try: pedigree log prove --dir " << dir
         << "/ledger --index 5\n";
  return audit->ok() ? 0 : 1;
}

}  // namespace

std::vector<Command> DemoCommands() {
  return {{"demo", "demo [--dir D] [--events N]           end-to-end demo on a fresh ledger", Demo}};
}

}  // namespace pedigree::services
