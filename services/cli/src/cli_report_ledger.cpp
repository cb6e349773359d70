// `pedigree report batch|audit|render`: the batch and whole-ledger audit reports, and
// the rendering of any saved report JSON, as JSON, self-contained HTML or text.
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "cli_remote.h"
#include "pedigree/reports/audit_report.h"
#include "pedigree/reports/batch_report.h"
#include "pedigree/reports/html.h"
#include "pedigree/reports/quorum_check.h"

namespace pedigree::services {
namespace {

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

int Batch(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "format", "o", "out", "policy"}));
  if (args->positionals().size() != 2) {
    return PrintError(io.err, Error("cli.usage", "usage: report batch GTIN LOT"));
  }
  if (io.remote) {
    return RemoteReport(*io.remote,
                        "/v1/reports/batch/" + QueryEncode(args->positionals()[0]) + "/" +
                            QueryEncode(args->positionals()[1]),
                        *args, io);
  }
  PEDIGREE_TRY_ASSIGN(policy, PolicyOption(*args, io));
  PEDIGREE_TRY_ASSIGN(
      report, reports::BatchReport(args->dir(), args->positionals()[0], args->positionals()[1]));
  if (*policy) reports::AddQuorumCheck(*report, **policy);
  return EmitReport(*args, *report, io);
}

int Audit(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(
      args, Args::Parse(argv, 2, {"dir", "format", "o", "out", "trust", "threads", "policy"}));
  if (io.remote) {
    // GET /v1/reports/audit (regulator or witness token): the node audits its own ledger
    // against the key it signs with, so --trust and --threads have nothing to act on here;
    // --policy is refused by RemoteReport as for every remote report.
    for (const char* local_only : {"trust", "threads"}) {
      if (args->has(local_only)) {
        return PrintError(io.err, Error("cli.usage", std::string("--") + local_only +
                                                         " applies to a local audit only; the node "
                                                         "audits its ledger with its own key")
                                      .at_field(local_only));
      }
    }
    return RemoteReport(*io.remote, "/v1/reports/audit", *args, io);
  }
  PEDIGREE_TRY_ASSIGN(policy, PolicyOption(*args, io));
  reports::AuditOptions options;
  if (auto trust = args->get("trust")) {
    PEDIGREE_TRY_ASSIGN(vkey, ResolveVerifierKey(*trust, "trust"));
    options.log_verifier_key = *vkey;
  }
  PEDIGREE_TRY_ASSIGN(threads, args->number("threads"));
  if (*threads) options.threads = static_cast<size_t>(**threads);
  Progress progress(io.err, io.progress, "report audit: entries verified");
  options.progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  PEDIGREE_TRY_ASSIGN(report, reports::AuditReport(args->dir(), options));
  progress.Finish();
  if (*policy) reports::AddQuorumCheck(*report, **policy);
  return EmitReport(*args, *report, io);
}

int Render(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"format", "o", "out"}));
  if (args->positionals().size() != 1) {
    return PrintError(io.err, Error("cli.usage", "usage: report render REPORT.json"));
  }
  PEDIGREE_TRY_ASSIGN(text, ReadInput(args->positionals()[0], io.in));
  PEDIGREE_TRY_ASSIGN(report, ParseJson(*text));
  return EmitReport(*args, *report, io, "html");
}

}  // namespace

std::vector<Command> LedgerReportCommands() {
  return {
      {"report batch",
       "report batch GTIN LOT [--policy FILE] [--format json|html|text] [-o FILE]   counts, "
       "alerts, recall reach, excursions",
       Batch, "  GTIN LOT       the batch\n" + kPolicyHelp + kReportHelp + kDirHelp,
       "report batch 09506000134352 L001 --format text"},
      {"report audit",
       "report audit [--trust LOG_VKEY] [--policy FILE] [--format json|html|text] [-o FILE]   "
       "recompute and verify the whole ledger",
       Audit,
       "  --trust VKEY   the log verifier key to hold the ledger to, or a file holding it\n"
       "                 (default: the ledger's own DIR/log.vkey)\n"
       "  --threads N    verification threads (default: the machine's cores)\n" +
           kPolicyHelp + kReportHelp + kDirHelp,
       "report audit --trust ledger/log.vkey --format html -o audit.html"},
      {"report render",
       "report render REPORT.json [--format html|text|json] [-o FILE]   render a saved report "
       "(html by default)",
       Render,
       "  REPORT.json    a report saved with --format json\n"
       "  --format F     html, text or json (default: html; --json: alias for --format json)\n"
       "  -o FILE, --out FILE\n"
       "                 write to FILE (default: standard output)\n",
       "report render audit.json -o audit.html"},
  };
}

}  // namespace pedigree::services
