// Error values for everything that can be expected to fail: malformed input, bad
// check digits, failed signatures, broken proofs, storage faults. They are returned,
// never thrown (see ../shared STYLE: "Expected failures are values").
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pedigree {

// Where in an input an error was found. Lines and columns are 1-based; offset is a
// 0-based byte offset. Any of them may be absent.
struct Location {
  std::optional<uint64_t> line;
  std::optional<uint64_t> column;
  std::optional<uint64_t> offset;
};

// A fact the ledger holds that explains a refusal, for the user to act on: the holder of
// a pack ("holder": "north-wholesale"), a recall's reason and the index of its
// batch.status entry ("reason", "reasonEntry"). Rendered as a member of the error object
// (HTTP body, CLI JSON); `number` when it is an integer, else `text`.
struct ErrorDetail {
  std::string name;
  std::string text;
  std::optional<int64_t> number;
};

// A stable machine-readable code ("merkle.root_mismatch", "gs1.check_digit",
// "json.duplicate_key"), a human message that names the offending values, and
// optionally the field and the position it concerns. Codes are documented in docs/.
class Error {
 public:
  Error(std::string code, std::string message)
      : code_(std::move(code)), message_(std::move(message)) {}

  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  const Location& location() const { return location_; }
  const std::vector<ErrorDetail>& details() const { return details_; }

  // Builders return a copy so that `return Error(...).at_field("gtin");` reads well.
  [[nodiscard]] Error at_field(std::string field) const {
    Error e = *this;
    e.field_ = std::move(field);
    return e;
  }
  [[nodiscard]] Error at_offset(uint64_t offset) const {
    Error e = *this;
    e.location_.offset = offset;
    return e;
  }
  [[nodiscard]] Error at_line_column(uint64_t line, uint64_t column) const {
    Error e = *this;
    e.location_.line = line;
    e.location_.column = column;
    return e;
  }
  // Adds a detail; a second one with the same name replaces the first.
  [[nodiscard]] Error with_detail(std::string name, std::string text) const {
    return WithDetail({std::move(name), std::move(text), std::nullopt});
  }
  [[nodiscard]] Error with_detail(std::string name, int64_t number) const {
    return WithDetail({std::move(name), std::string(), number});
  }
  // Prefixes the message with context, keeping the code: "entry 12: ...".
  [[nodiscard]] Error with_context(const std::string& context) const {
    Error e = *this;
    e.message_ = context + ": " + e.message_;
    return e;
  }

  // "code: message (field F, line L, column C, offset O)", for logs and the CLI.
  std::string ToString() const;

 private:
  Error WithDetail(ErrorDetail detail) const {
    Error e = *this;
    for (ErrorDetail& d : e.details_) {
      if (d.name == detail.name) {
        d = std::move(detail);
        return e;
      }
    }
    e.details_.push_back(std::move(detail));
    return e;
  }

  std::string code_;
  std::string message_;
  std::string field_;
  Location location_;
  std::vector<ErrorDetail> details_;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

// Shorthand for `return Fail("code", "message");` in functions returning Result<T>.
inline std::unexpected<Error> Fail(std::string code, std::string message) {
  return std::unexpected(Error(std::move(code), std::move(message)));
}
inline std::unexpected<Error> Fail(Error error) { return std::unexpected(std::move(error)); }

inline Status Ok() { return {}; }

// Early returns for functions returning Result<T> or Status (g++ 12 has no and_then):
//   PEDIGREE_TRY(WriteRow(...));
//   PEDIGREE_ASSIGN(row, ReadRow(...));   // declares `row`, a Result; use *row
#define PEDIGREE_TRY(expr)                                      \
  do {                                                          \
    if (auto pedigree_try_ = (expr); !pedigree_try_)            \
      return std::unexpected(std::move(pedigree_try_).error()); \
  } while (0)
#define PEDIGREE_ASSIGN(var, expr) \
  auto var = (expr);               \
  if (!var) return std::unexpected(std::move(var).error())

}  // namespace pedigree
