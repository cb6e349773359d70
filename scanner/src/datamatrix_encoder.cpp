#include "datamatrix_encoder.h"

#include <array>
#include <string>

namespace pedigree::scanner {
namespace {

constexpr uint8_t kFnc1 = 232;
constexpr uint8_t kPad = 129;

// ISO/IEC 16022 Table 7, square symbols with a single Reed-Solomon block.
struct SymbolSize {
  int size;         // modules per side, finder patterns included
  int region_side;  // data region side in modules (regions are square here)
  int data_codewords;
  int ecc_codewords;
};
constexpr std::array<SymbolSize, 14> kSizes{{
    {10, 8, 3, 5},
    {12, 10, 5, 7},
    {14, 12, 8, 10},
    {16, 14, 12, 12},
    {18, 16, 18, 14},
    {20, 18, 22, 18},
    {22, 20, 30, 20},
    {24, 22, 36, 24},
    {26, 24, 44, 28},
    {32, 14, 62, 36},
    {36, 16, 86, 42},
    {40, 18, 114, 48},
    {44, 20, 144, 56},
    {48, 22, 174, 68},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string HexByte(uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {kHex[b >> 4], kHex[b & 15]};
}

// GF(256) with the Data Matrix field polynomial x^8 + x^5 + x^3 + x^2 + 1 (0x12D).
struct GaloisField {
  std::array<uint8_t, 256> exp{};
  std::array<uint8_t, 256> log{};
  GaloisField() {
    int x = 1;
    for (int i = 0; i < 255; ++i) {
      exp[i] = static_cast<uint8_t>(x);
      log[x] = static_cast<uint8_t>(i);
      x <<= 1;
      if (x & 0x100) x ^= 0x12D;
    }
    exp[255] = exp[0];
  }
  uint8_t Multiply(uint8_t a, uint8_t b) const {
    if (a == 0 || b == 0) return 0;
    return exp[(log[a] + log[b]) % 255];
  }
};

const GaloisField& Field() {
  static const GaloisField field;
  return field;
}

// Annex F placement: for every position of the mapping matrix, which codeword (1-based)
// and bit (1 = most significant) it carries; 0 = unused, 1 = fixed dark corner module.
class Placement {
 public:
  Placement(int rows, int cols) : rows_(rows), cols_(cols), cells_(rows * cols, 0) { Place(); }
  int at(int row, int col) const { return cells_[row * cols_ + col]; }

 private:
  void Module(int row, int col, int codeword, int bit) {
    if (row < 0) {
      row += rows_;
      col += 4 - ((rows_ + 4) % 8);
    }
    if (col < 0) {
      col += cols_;
      row += 4 - ((cols_ + 4) % 8);
    }
    cells_[row * cols_ + col] = 10 * codeword + bit;
  }
  // The regular 8-module shape whose last module (bit 8) is at (row, col).
  void Utah(int row, int col, int cw) {
    Module(row - 2, col - 2, cw, 1);
    Module(row - 2, col - 1, cw, 2);
    Module(row - 1, col - 2, cw, 3);
    Module(row - 1, col - 1, cw, 4);
    Module(row - 1, col, cw, 5);
    Module(row, col - 2, cw, 6);
    Module(row, col - 1, cw, 7);
    Module(row, col, cw, 8);
  }
  void Corner1(int cw) {
    Module(rows_ - 1, 0, cw, 1);
    Module(rows_ - 1, 1, cw, 2);
    Module(rows_ - 1, 2, cw, 3);
    Module(0, cols_ - 2, cw, 4);
    Module(0, cols_ - 1, cw, 5);
    Module(1, cols_ - 1, cw, 6);
    Module(2, cols_ - 1, cw, 7);
    Module(3, cols_ - 1, cw, 8);
  }
  void Corner2(int cw) {
    Module(rows_ - 3, 0, cw, 1);
    Module(rows_ - 2, 0, cw, 2);
    Module(rows_ - 1, 0, cw, 3);
    Module(0, cols_ - 4, cw, 4);
    Module(0, cols_ - 3, cw, 5);
    Module(0, cols_ - 2, cw, 6);
    Module(0, cols_ - 1, cw, 7);
    Module(1, cols_ - 1, cw, 8);
  }
  void Corner3(int cw) {
    Module(rows_ - 3, 0, cw, 1);
    Module(rows_ - 2, 0, cw, 2);
    Module(rows_ - 1, 0, cw, 3);
    Module(0, cols_ - 2, cw, 4);
    Module(0, cols_ - 1, cw, 5);
    Module(1, cols_ - 1, cw, 6);
    Module(2, cols_ - 1, cw, 7);
    Module(3, cols_ - 1, cw, 8);
  }
  void Corner4(int cw) {
    Module(rows_ - 1, 0, cw, 1);
    Module(rows_ - 1, cols_ - 1, cw, 2);
    Module(0, cols_ - 3, cw, 3);
    Module(0, cols_ - 2, cw, 4);
    Module(0, cols_ - 1, cw, 5);
    Module(1, cols_ - 3, cw, 6);
    Module(1, cols_ - 2, cw, 7);
    Module(1, cols_ - 1, cw, 8);
  }
  void Place() {
    int cw = 1, row = 4, col = 0;
    do {
      if (row == rows_ && col == 0) Corner1(cw++);
      if (row == rows_ - 2 && col == 0 && cols_ % 4 != 0) Corner2(cw++);
      if (row == rows_ - 2 && col == 0 && cols_ % 8 == 4) Corner3(cw++);
      if (row == rows_ + 4 && col == 2 && cols_ % 8 == 0) Corner4(cw++);
      do {  // sweep up and to the right
        if (row < rows_ && col >= 0 && cells_[row * cols_ + col] == 0) Utah(row, col, cw++);
        row -= 2;
        col += 2;
      } while (row >= 0 && col < cols_);
      row += 1;
      col += 3;
      do {  // sweep down and to the left
        if (row >= 0 && col < cols_ && cells_[row * cols_ + col] == 0) Utah(row, col, cw++);
        row += 2;
        col -= 2;
      } while (row < rows_ && col >= 0);
      row += 3;
      col += 1;
    } while (row < rows_ || col < cols_);
    if (cells_[rows_ * cols_ - 1] == 0) {
      cells_[rows_ * cols_ - 1] = 1;
      cells_[rows_ * cols_ - cols_ - 2] = 1;
    }
  }

  int rows_, cols_;
  std::vector<int> cells_;
};

}  // namespace

std::vector<uint8_t> DataMatrixReedSolomon(const std::vector<uint8_t>& data, int ecc_count) {
  const GaloisField& gf = Field();
  // Generator (x - a^1)(x - a^2)...(x - a^n), coefficients highest degree first.
  std::vector<uint8_t> generator{1};
  for (int i = 1; i <= ecc_count; ++i) {
    std::vector<uint8_t> next(generator.size() + 1, 0);
    for (size_t j = 0; j < generator.size(); ++j) {
      next[j] ^= generator[j];
      next[j + 1] ^= gf.Multiply(generator[j], gf.exp[i]);
    }
    generator = std::move(next);
  }
  std::vector<uint8_t> remainder(ecc_count, 0);
  for (uint8_t d : data) {
    const uint8_t factor = d ^ remainder[0];
    remainder.erase(remainder.begin());
    remainder.push_back(0);
    for (int j = 0; j < ecc_count; ++j) remainder[j] ^= gf.Multiply(factor, generator[j + 1]);
  }
  return remainder;
}

Result<ModuleGrid> EncodeGs1DataMatrix(std::string_view s) {
  std::vector<uint8_t> codewords{kFnc1};
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\x1D') {
      codewords.push_back(kFnc1);
    } else if (c < 0x21 || c > 0x7E) {
      return Fail(Error("label.invalid_character", "character 0x" +
                                                       HexByte(static_cast<uint8_t>(c)) +
                                                       " is neither printable ASCII nor GS")
                      .at_offset(i));
    } else if (IsDigit(c) && i + 1 < s.size() && IsDigit(s[i + 1])) {
      codewords.push_back(static_cast<uint8_t>(130 + (c - '0') * 10 + (s[i + 1] - '0')));
      ++i;
    } else {
      codewords.push_back(static_cast<uint8_t>(c + 1));
    }
  }
  const SymbolSize* size = nullptr;
  for (const auto& candidate : kSizes) {
    if (candidate.data_codewords >= static_cast<int>(codewords.size())) {
      size = &candidate;
      break;
    }
  }
  if (size == nullptr) {
    return Fail("label.too_long", "element string needs " + std::to_string(codewords.size()) +
                                      " Data Matrix codewords, at most " +
                                      std::to_string(kSizes.back().data_codewords) + " supported");
  }
  // Padding: the first pad is 129, the rest are scrambled by the 253-state algorithm
  // (ISO/IEC 16022 5.2.3) so that long pad runs do not form patterns.
  if (static_cast<int>(codewords.size()) < size->data_codewords) codewords.push_back(kPad);
  while (static_cast<int>(codewords.size()) < size->data_codewords) {
    const int position = static_cast<int>(codewords.size()) + 1;
    int value = kPad + ((149 * position) % 253) + 1;
    if (value > 254) value -= 254;
    codewords.push_back(static_cast<uint8_t>(value));
  }
  const std::vector<uint8_t> ecc = DataMatrixReedSolomon(codewords, size->ecc_codewords);
  codewords.insert(codewords.end(), ecc.begin(), ecc.end());

  const int regions = size->size / (size->region_side + 2);
  const int mapping_side = regions * size->region_side;
  const Placement placement(mapping_side, mapping_side);

  ModuleGrid grid;
  grid.size = size->size;
  grid.dark.assign(static_cast<size_t>(grid.size) * grid.size, 0);
  const int block = size->region_side + 2;
  // Finder (solid left and bottom edges) and clock track (alternating top and right) of
  // each data region.
  for (int ry = 0; ry < regions; ++ry) {
    for (int rx = 0; rx < regions; ++rx) {
      const int oy = ry * block, ox = rx * block;
      for (int k = 0; k < block; ++k) {
        grid.dark[(oy + k) * grid.size + ox] = 1;
        grid.dark[(oy + block - 1) * grid.size + ox + k] = 1;
        if (k % 2 == 0) grid.dark[oy * grid.size + ox + k] = 1;
        if (k % 2 == 1) grid.dark[(oy + k) * grid.size + ox + block - 1] = 1;
      }
    }
  }
  for (int row = 0; row < mapping_side; ++row) {
    for (int col = 0; col < mapping_side; ++col) {
      const int cell = placement.at(row, col);
      bool dark = false;
      if (cell == 1) {
        dark = true;
      } else if (cell >= 10) {
        const uint8_t cw = codewords[cell / 10 - 1];
        dark = (cw >> (8 - cell % 10)) & 1;
      }
      const int y = row + 2 * (row / size->region_side) + 1;
      const int x = col + 2 * (col / size->region_side) + 1;
      grid.dark[y * grid.size + x] = dark ? 1 : 0;
    }
  }
  return grid;
}

}  // namespace pedigree::scanner
