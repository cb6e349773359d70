// The self-contained HTML rendering of a report (see ../../../../docs/reports.md, "The HTML
// report"): one page with inline CSS and inline SVG, no scripts and no external resources,
// and a print stylesheet so that a browser prints it on A4 portrait with 15 mm margins,
// nothing wider than the printable width (tests/print checks it in Chromium).
#pragma once

#include <string>
#include <string_view>

#include "pedigree/base/canonical_json.h"

namespace pedigree::reports {

// Renders any "pedigree-report/v1" JSON (pack, batch, audit and trial have layouts; members
// it does not know, and unknown report kinds, are shown as label/value tables with human
// labels, never as JSON text). Never fails: missing members are left out. Every string from
// the report is escaped for HTML text and attributes.
std::string RenderHtml(const JsonValue& report);

// The same report as plain text for a terminal: verdict and summary first, then the
// kind's sections and every check, failure and violation, one line each. Pack and trial
// reports use RenderPackText / RenderTrialText.
std::string RenderText(const JsonValue& report);

// `text` with &, <, >, " and ' replaced by character references: safe in element text
// and in quoted attribute values.
std::string EscapeHtml(std::string_view text);

}  // namespace pedigree::reports
