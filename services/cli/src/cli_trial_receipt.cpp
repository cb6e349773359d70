// Participant receipts on the command line: gathered from this node's ledger (read-only, beside
// a running serve) and verified offline with the trust options verify-bundle takes.
#include "cli_trial_receipt.h"

#include <chrono>
#include <fstream>

#include "cli_remote.h"
#include "cli_trust.h"
#include "pedigree/reports/receipt.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

constexpr int kExitFailed = 4;

// The secret as the site handed it out: the file's bytes without the line ending an editor or
// `echo` adds (a secret holds no line break, so none is lost).
Result<std::string> SecretFromFile(const std::string& path, CliIo& io) {
  auto text = ReadInput(path, io.in);
  if (!text) return Fail(text.error().with_context("--secret-file"));
  std::string secret = std::move(*text);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

}  // namespace

int TrialReceipt(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(argv, 2, {"dir", "trial", "secret-file", "o", "out"});
  if (!args) return PrintError(io.err, args.error());
  auto trial = args->required("trial");
  if (!trial) return PrintError(io.err, trial.error());
  auto path = args->required("secret-file");
  if (!path) return PrintError(io.err, path.error());
  auto secret = SecretFromFile(*path, io);
  if (!secret) return PrintError(io.err, secret.error());
  std::string file;
  Result<reports::Receipt> receipt = Fail("cli.internal", "no receipt");
  if (io.remote) {
    // The secret travels in the body (the node's access logs keep URLs); the node gathers
    // the receipt from its ledger and the answer is checked to be one before it is written.
    auto client = RemoteClient::Make(*io.remote);
    if (!client) return PrintError(io.err, client.error());
    auto reply =
        client->Post("/v1/trials/" + QueryEncode(*trial) + "/receipts",
                     Canonicalize(JsonValue::Object().set("subjectSecret", JsonValue(*secret))),
                     "application/json");
    if (!reply) return PrintError(io.err, reply.error());
    file = std::move(reply->body);
    receipt = reports::ReadReceipt(file);
    if (!receipt) {
      return PrintError(io.err, Error("client.bad_response", "the node's answer is no receipt: " +
                                                                 receipt.error().message())
                                    .at_field("server"));
    }
  } else {
    auto node = SupplyNode::OpenReadOnly(args->dir());
    if (!node) return PrintError(io.err, node.error());
    receipt = reports::GatherReceipt((*node)->ledger(), *trial, *secret);
    if (!receipt) return PrintError(io.err, receipt.error());
    file = reports::WriteReceipt(*receipt);
  }
  std::optional<std::string> out = args->get("o") ? args->get("o") : args->get("out");
  if (!out || *out == "-") {
    io.out << file;
    return 0;
  }
  std::ofstream f(*out, std::ios::binary | std::ios::trunc);
  if (!f || !(f << file) || !f.flush()) {
    return PrintError(io.err, Error("cli.io", "cannot write " + *out).at_field("o"));
  }
  io.out << "receipt of subject " << receipt->subject_ref << " in trial " << *trial << ": "
         << receipt->evidence.entries.size() << " entries (with the signers' registry entries), "
         << receipt->leaves.size() << " records; written to " << *out << "\n";
  return 0;
}

int TrialVerifyReceipt(const std::vector<std::string>& argv, CliIo& io) {
  auto args = Args::Parse(
      argv, 2, {"trust", "authority", "witness", "policy", "secret-file", "format", "o", "out"});
  if (!args) return PrintError(io.err, args.error());
  if (args->positionals().size() != 1) {
    PrintError(io.err, Error("cli.usage", "expected exactly one receipt file"));
    return 2;
  }
  auto anchors = TrustAnchorsOption(*args, io);
  if (!anchors) {
    PrintError(io.err, anchors.error());
    return anchors.error().code() == "cli.usage" ? 2 : 1;
  }
  std::optional<std::string> secret;
  if (auto path = args->get("secret-file")) {
    auto s = SecretFromFile(*path, io);
    if (!s) return PrintError(io.err, s.error());
    secret = std::move(*s);
  }
  auto bytes = ReadInput(args->positionals()[0], io.in);
  if (!bytes) return PrintError(io.err, bytes.error());
  auto receipt = reports::ReadReceipt(*bytes);
  if (!receipt) {
    PrintError(io.err, receipt.error());
    return kExitFailed;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return EmitReport(*args, reports::VerifyReceipt(*receipt, *anchors, secret, now), io, "text");
}

}  // namespace pedigree::services
