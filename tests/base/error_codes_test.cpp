// The error-code registry: its own invariants, and every code the sources use is declared.
#include "pedigree/base/error_codes.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/read_file.h"

using namespace pedigree;
namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = PEDIGREE_SOURCE_DIR;

// The codes with no family: the bodies of every 5xx answer.
const std::set<std::string_view> kBareCodes = {"internal", "unavailable"};

bool IsLowerDottedCode(std::string_view code) {
  auto segment_ok = [](std::string_view s) {
    if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
    for (char c : s) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
  };
  size_t segments = 0;
  for (size_t start = 0;;) {
    size_t dot = code.find('.', start);
    if (!segment_ok(code.substr(start, dot - start))) return false;
    ++segments;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return segments >= 2 || kBareCodes.contains(code);
}

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct CodeUse {
  std::string code;
  std::string where;  // path:line
};

// The literal codes in one source text: the first argument of Fail(, Error( (also
// `Error name(`), and of the helpers that take a code first (canonical_json's Here/At,
// the trial parser's TrialError), and the right side of `.code() == "..."` / `!=`.
// Full-line // comments are skipped, so examples in comments do not count, and so are
// codes under "test.", which tests use for doubles that must never be declared.
// Codes assembled at run time ("alert." + id, family + "." + what in the trial and kit
// rules) are declared by hand; tests/provenance/alert_codes_test.cpp checks the alerts.
std::vector<CodeUse> LiteralCodes(const std::string& text, const std::string& path) {
  static const std::vector<std::string> kCallers = {"Fail", "Error", "Here", "At", "TrialError"};
  std::vector<CodeUse> out;
  std::vector<size_t> line_starts = {0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts.push_back(i + 1);
  auto line_of = [&](size_t pos) {
    return std::upper_bound(line_starts.begin(), line_starts.end(), pos) - line_starts.begin();
  };
  auto in_comment = [&](size_t pos) {
    size_t start = line_starts[line_of(pos) - 1];
    size_t first = text.find_first_not_of(" \t", start);
    return first != std::string::npos && first < pos && text.compare(first, 2, "//") == 0;
  };
  auto skip_space = [&](size_t p) {
    while (p < text.size() &&
           (text[p] == ' ' || text[p] == '\t' || text[p] == '\n' || text[p] == '\r'))
      ++p;
    return p;
  };
  // The string literal at p (after spaces) when it can be a whole code: only code
  // characters, and not the head of a code assembled at run time ("alert." + id), which
  // the tests of its family check instead.
  auto literal_at = [&](size_t p, std::string& literal) {
    p = skip_space(p);
    if (p >= text.size() || text[p] != '"') return false;
    size_t end = p + 1;
    while (end < text.size() && (IsIdentChar(text[end]) || text[end] == '.')) ++end;
    if (end >= text.size() || text[end] != '"') return false;
    const size_t next = skip_space(end + 1);
    if (next < text.size() && text[next] == '+') return false;
    literal = text.substr(p + 1, end - p - 1);
    return true;
  };
  auto record = [&](size_t at, const std::string& literal) {
    if (literal.empty() || literal.starts_with("test.") || in_comment(at)) return;
    out.push_back({literal, path + ":" + std::to_string(line_of(at))});
  };
  for (const std::string& name : kCallers) {
    for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos + 1)) {
      if (pos > 0 && IsIdentChar(text[pos - 1])) continue;
      size_t p = pos + name.size();
      if (name == "Error" && p < text.size() && text[p] == ' ') {
        // `Error e("code", ...)`
        size_t q = skip_space(p);
        while (q < text.size() && IsIdentChar(text[q])) ++q;
        if (q == skip_space(p)) continue;
        p = q;
      }
      if (p >= text.size() || text[p] != '(') continue;
      std::string literal;
      if (literal_at(p + 1, literal)) record(pos, literal);
    }
  }
  for (const char* op : {".code() == ", ".code() != "}) {
    for (size_t pos = text.find(op); pos != std::string::npos; pos = text.find(op, pos + 1)) {
      std::string literal;
      if (literal_at(pos + std::string_view(op).size(), literal)) record(pos, literal);
    }
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(error_codes)

BOOST_AUTO_TEST_CASE(codes_are_unique_sorted_and_lower_case_dotted) {
  std::set<std::string_view> seen;
  std::string_view previous;
  for (const ErrorCodeInfo& e : AllErrorCodes()) {
    BOOST_TEST(seen.insert(e.code).second, "declared twice: " << e.code);
    BOOST_TEST(IsLowerDottedCode(e.code), "not lower-case dotted: " << e.code);
    BOOST_TEST(!e.code.starts_with("test."), "test.* is left to test doubles: " << e.code);
    BOOST_TEST((previous < e.code), "out of order: " << previous << " before " << e.code);
    previous = e.code;
  }
  BOOST_TEST(AllErrorCodes().size() > 300u);
}

BOOST_AUTO_TEST_CASE(every_code_has_an_error_status_and_a_one_line_meaning) {
  for (const ErrorCodeInfo& e : AllErrorCodes()) {
    BOOST_TEST_CONTEXT(e.code) {
      BOOST_TEST(e.http_status >= 400);
      BOOST_TEST(e.http_status <= 599);
      BOOST_TEST(!e.meaning.empty());
      BOOST_TEST(e.meaning.find_first_of("|<>\n`") == std::string_view::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(lookup_finds_every_declared_code_and_nothing_else) {
  for (const ErrorCodeInfo& e : AllErrorCodes()) {
    const ErrorCodeInfo* found = FindErrorCode(e.code);
    BOOST_TEST_REQUIRE(found != nullptr, e.code);
    BOOST_TEST(found->code == e.code);
  }
  for (std::string_view undeclared :
       {"", "merkle", "merkle.", "merkle.index_out_of_rang", "merkle.index_out_of_range.",
        "Merkle.index_out_of_range", "zzz.last", "aaa.first"}) {
    BOOST_TEST(FindErrorCode(undeclared) == nullptr, undeclared);
  }
}

// The codes the issue found answering 500 are client mistakes.
BOOST_AUTO_TEST_CASE(client_mistakes_named_in_the_issue_are_4xx) {
  const std::pair<std::string_view, int> expected[] = {
      {"merkle.index_out_of_range", 400}, {"ledger.size_beyond_tree", 400}, {"node.no_key", 409},
      {"ledger.bad_date", 400},           {"pack.unknown_status", 400},
  };
  for (const auto& [code, status] : expected) {
    const ErrorCodeInfo* e = FindErrorCode(code);
    BOOST_TEST_REQUIRE(e != nullptr, code);
    BOOST_TEST(e->http_status == status, code);
  }
  // Only faults of the server or its environment are 5xx.
  for (std::string_view code : {"storage.io", "storage.corrupt", "internal", "unavailable"}) {
    BOOST_TEST(FindErrorCode(code)->http_status >= 500, code);
  }
}

// A new code without a registry entry fails here, naming the file and line.
BOOST_AUTO_TEST_CASE(every_literal_code_in_the_sources_is_declared) {
  size_t files = 0, uses = 0;
  std::map<std::string, std::string> undeclared;
  for (const char* dir :
       {"ledger", "scanner", "reports", "services", "app", "tests", "fuzz", "bench"}) {
    if (!fs::exists(kSourceDir / dir)) continue;
    for (const auto& f : fs::recursive_directory_iterator(kSourceDir / dir)) {
      const std::string ext = f.path().extension().string();
      if (!f.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".cc")) continue;
      ++files;
      const std::string rel = fs::relative(f.path(), kSourceDir).string();
      for (const CodeUse& use : LiteralCodes(pedigree::testing::ReadFile(f.path()), rel)) {
        ++uses;
        if (!FindErrorCode(use.code)) undeclared.emplace(use.code, use.where);
      }
    }
  }
  BOOST_TEST(files > 100u);
  BOOST_TEST(uses > 500u);
  for (const auto& [code, where] : undeclared) {
    BOOST_ERROR("'" << code << "' (" << where
                    << ") is not declared in ledger/base/src/error_codes.cpp");
  }
}

BOOST_AUTO_TEST_CASE(the_scan_finds_codes_in_every_form_and_skips_comments) {
  const std::string text =
      "  return Fail(\"a.one\", \"m\");\n"
      "  return Fail(Error(\n      \"a.two\", \"m\"));\n"
      "  Error e(\"a.three\", \"m\");\n"
      "  if (r.error().code() == \"a.four\") {}\n"
      "  return Here(\"a.five\", \"m\");\n"
      "  // Fail(\"a.comment\", \"m\") is an example\n"
      "  ErrorResponse(\"a.not_a_code\"); MyFail(\"a.other\");\n"
      "  Fail(\"test.double\", \"m\");\n"
      "  return Error(\"a.family.\" + id, \"m\");\n";
  std::set<std::string> found;
  for (const CodeUse& use : LiteralCodes(text, "x.cpp")) found.insert(use.code);
  BOOST_TEST(found == (std::set<std::string>{"a.one", "a.two", "a.three", "a.four", "a.five"}));
}

BOOST_AUTO_TEST_SUITE_END()
