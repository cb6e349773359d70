#include "pedigree/base/error.h"

namespace pedigree {

std::string Error::ToString() const {
  std::string out = code_ + ": " + message_;
  std::string where;
  auto add = [&where](const std::string& part) { where += where.empty() ? part : ", " + part; };
  if (!field_.empty()) add("field " + field_);
  if (location_.line) add("line " + std::to_string(*location_.line));
  if (location_.column) add("column " + std::to_string(*location_.column));
  if (location_.offset) add("offset " + std::to_string(*location_.offset));
  if (!where.empty()) out += " (" + where + ")";
  return out;
}

}  // namespace pedigree
