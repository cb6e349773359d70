// A minimal Data Matrix ECC 200 encoder for GS1 data (ISO/IEC 16022): ASCII encodation
// with FNC1, square symbols 10x10 .. 48x48 (one Reed-Solomon block). It exists because
// ZXing-cpp 1.4's writer cannot emit FNC1, so its symbols never read back as ]d2.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::scanner {

// Modules of a symbol without quiet zone: dark[y * size + x] is 1 for a dark module.
struct ModuleGrid {
  int size = 0;
  std::vector<uint8_t> dark;
};

// Encodes FNC1 + the element string; each GS (0x1D) becomes an FNC1 separator. Only
// printable ASCII and GS are accepted (label.invalid_character with offset); more than
// 174 data codewords is label.too_long.
[[nodiscard]] Result<ModuleGrid> EncodeGs1DataMatrix(std::string_view element_string);

// Codeword-level steps, exposed for known-answer tests.
std::vector<uint8_t> DataMatrixReedSolomon(const std::vector<uint8_t>& data, int ecc_count);

}  // namespace pedigree::scanner
