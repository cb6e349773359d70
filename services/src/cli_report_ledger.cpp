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

using ledger::JsonValue;

#define PEDIGREE_TRY_ASSIGN(var, expr) \
  auto var = (expr);                   \
  if (!var) return PrintError(io.err, var.error())

// Writes the report in the chosen format to -o FILE or standard output. Exit status:
// 0 for VERIFIED and SUSPECT (the report itself says which), 1 for FAILED, so a script
// auditing a ledger can stop on a broken one.
int Emit(const Args& args, const JsonValue& report, CliIo& io,
         const std::string& default_format = "json") {
  const std::string format = args.get("format").value_or(default_format);
  std::string text;
  if (format == "json") {
    text = ledger::Canonicalize(report) + "\n";
  } else if (format == "html") {
    text = reports::RenderHtml(report);
  } else if (format == "text") {
    text = reports::RenderText(report);
  } else {
    return PrintError(
        io.err, Error("cli.usage", "--format must be json, html or text, got '" + format + "'")
                    .at_field("format"));
  }
  if (auto path = args.get("o")) {
    std::ofstream file(*path, std::ios::binary | std::ios::trunc);
    if (!file || !(file << text) || !file.flush()) {
      return PrintError(io.err, Error("cli.io", "cannot write " + *path).at_field("o"));
    }
  } else {
    io.out << text;
  }
  const JsonValue* verdict = report.find("verdict");
  return verdict && verdict->is_string() && verdict->as_string() == "FAILED" ? 1 : 0;
}

int Batch(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "format", "o"}));
  if (args->positionals().size() != 2) {
    return PrintError(io.err, Error("cli.usage", "usage: report batch GTIN LOT"));
  }
  PEDIGREE_TRY_ASSIGN(
      report, reports::BatchReport(args->dir(), args->positionals()[0], args->positionals()[1]));
  return Emit(*args, *report, io);
}

int Audit(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"dir", "format", "o", "trust", "threads"}));
  reports::AuditOptions options;
  options.log_verifier_key = args->get("trust").value_or("");
  PEDIGREE_TRY_ASSIGN(threads, args->number("threads"));
  if (*threads) options.threads = static_cast<size_t>(**threads);
  PEDIGREE_TRY_ASSIGN(report, reports::AuditReport(args->dir(), options));
  return Emit(*args, *report, io);
}

int Render(const std::vector<std::string>& argv, CliIo& io) {
  PEDIGREE_TRY_ASSIGN(args, Args::Parse(argv, 2, {"format", "o"}));
  if (args->positionals().size() != 1) {
    return PrintError(io.err, Error("cli.usage", "usage: report render REPORT.json"));
  }
  PEDIGREE_TRY_ASSIGN(text, ReadInput(args->positionals()[0], io.in));
  PEDIGREE_TRY_ASSIGN(report, ledger::ParseJson(*text));
  return Emit(*args, *report, io, "html");
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
