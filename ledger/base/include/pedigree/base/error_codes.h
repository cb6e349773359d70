// The closed registry of error codes: every code an Error of pedigree can carry is
// declared exactly once, in src/error_codes.cpp, with the HTTP status it answers and a
// one-line meaning. The HTTP layer maps codes by this table only; docs/api.md's table
// of codes is generated from it (tests/base/error_codes_doc_test.cpp), and a test walks
// the sources so that a code used without a declaration fails CI.
#pragma once

#include <span>
#include <string_view>

namespace pedigree {

// One declared code.
struct ErrorCodeInfo {
  // Lower-case dotted, "<family>.<what>" ("merkle.index_out_of_range"); the two codes
  // every 5xx answer carries, "internal" and "unavailable", have no family.
  std::string_view code;
  // 4xx when the caller can fix the request (400 malformed, 401/403 auth, 404 unknown
  // object, 409 conflict with current state, 413, 415, 422 well-formed but refused by a
  // rule, 429); 5xx only for faults of the server or its environment.
  int http_status;
  // One line for people, no '|', '<' or '>' (it is rendered into a Markdown table).
  std::string_view meaning;
  // What the user should do when refused with this code, for people (rendered as
  // "nextStep" in HTTP and CLI error answers); empty when the message says it all. The
  // one source of next steps: provenance's alert table (DescribeAlert) reads alert.* here.
  std::string_view next_step = {};
};

// The entry for `code`, or nullptr when it is not declared, which is a programming
// error. Thread-safe; entries live as long as the program.
[[nodiscard]] const ErrorCodeInfo* FindErrorCode(std::string_view code);

// The next step declared for `code`, or "" (also for an undeclared code).
[[nodiscard]] std::string_view NextStepFor(std::string_view code);

// Every declared code, sorted by code (so each family is contiguous).
[[nodiscard]] std::span<const ErrorCodeInfo> AllErrorCodes();

}  // namespace pedigree
