// Showing untrusted text (strings from signed payloads, file names, record values) on a
// terminal or in a page without letting it act: one function for every rendering.
// See docs/reports.md, "Control characters".
#pragma once

#include <string>
#include <string_view>

namespace pedigree {

// `text` with every character that could move the cursor, erase a line, switch a
// terminal mode or reorder what is shown written out as an escape instead:
//   C0 controls U+0000–U+001F and DEL U+007F  -> "\t", "\n", "\r" or "\xHH" (e.g. ESC "\x1b");
//   C1 controls U+0080–U+009F                 -> "\u0080" … "\u009f";
//   bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), line and
//   paragraph separators (U+2028, U+2029)     -> "\u202e" etc.;
//   a byte that is not part of well-formed UTF-8 -> "\xHH".
// Everything else, including '\' itself, is copied unchanged, so text without such
// characters comes back byte for byte.
std::string Printable(std::string_view text);

}  // namespace pedigree
