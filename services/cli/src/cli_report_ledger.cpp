// `pedigree report batch|audit|render`: the batch and whole-ledger audit reports, and
// the rendering of any saved report JSON, as JSON, self-contained HTML or text.
#include <fstream>
#include <iostream>

#include "cli_common.h"
#include "pedigree/reports/audit_report.h"
#include "pedigree/reports/batch_report.h"
#include "pedigree/reports/html.h"

namespace pedigree::services {
namespace {

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

int Batch(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "format", "o"}));
  if (args->positionals().size() != 2) {
    return PrintError(io.err, Error("cli.usage", "usage: report batch GTIN LOT"));
  }
  PEDIGREE_TRY_ASSIGN(
      report, reports::BatchReport(args->dir(), args->positionals()[0], args->positionals()[1]));
  return EmitReport(*args, *report, io);
}

int Audit(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "format", "o", "trust", "threads"}));
  reports::AuditOptions options;
  options.log_verifier_key = args->get("trust").value_or("");
  PEDIGREE_TRY_ASSIGN(threads, args->number("threads"));
  if (*threads) options.threads = static_cast<size_t>(**threads);
  PEDIGREE_TRY_ASSIGN(report, reports::AuditReport(args->dir(), options));
  return EmitReport(*args, *report, io);
}

int Render(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"format", "o"}));
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
       "report batch GTIN LOT [--format json|html|text] [-o FILE]   counts, alerts, recall "
       "reach, excursions",
       Batch},
      {"report audit",
       "report audit [--trust LOG_VKEY] [--format json|html|text] [-o FILE]   recompute and "
       "verify the whole ledger",
       Audit},
      {"report render",
       "report render REPORT.json [--format html|text|json] [-o FILE]   render a saved report "
       "(html by default)",
       Render},
  };
}

}  // namespace pedigree::services
