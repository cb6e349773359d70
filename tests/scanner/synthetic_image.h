// Image operations that turn clean rendered symbols into camera-like test images:
// compositing, rotation, blur, noise, contrast, scaling and a cluttered background.
// Deterministic: randomness comes from SplitMix64, whose output is the same everywhere
// (unlike std::normal_distribution, which differs between standard libraries).
// Header-only so that bench/image_decode.cpp can include it too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "pedigree/scanner/image.h"

namespace pedigree::scanner::synthetic {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
  // Approximately normal (Irwin-Hall sum of 4 uniforms, 16 bits each from one draw),
  // mean 0, given sigma.
  double Gauss(double sigma) {
    const uint64_t r = Next();
    const uint64_t sum = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
    return (static_cast<double>(sum) / 65536.0 - 2.0) * 1.7320508075688772 * sigma;
  }

 private:
  uint64_t state_;
};

inline uint8_t Clamp(double v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

inline Image Blank(int w, int h, uint8_t value = 255) {
  Image img;
  img.width = w;
  img.height = h;
  img.gray.assign(static_cast<size_t>(w) * h, value);
  return img;
}

// Copies `symbol` into `canvas` with its top-left at (x, y); pixels outside are dropped.
inline void Paste(Image& canvas, const Image& symbol, int x, int y) {
  for (int sy = 0; sy < symbol.height; ++sy) {
    for (int sx = 0; sx < symbol.width; ++sx) {
      const int cx = x + sx, cy = y + sy;
      if (cx >= 0 && cy >= 0 && cx < canvas.width && cy < canvas.height) {
        canvas.at(cx, cy) = symbol.at(sx, sy);
      }
    }
  }
}

inline double Sample(const Image& img, double x, double y, uint8_t outside) {
  const int x0 = static_cast<int>(std::floor(x)), y0 = static_cast<int>(std::floor(y));
  const double fx = x - x0, fy = y - y0;
  auto px = [&](int xx, int yy) -> double {
    if (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height) return outside;
    return img.at(xx, yy);
  };
  return (px(x0, y0) * (1 - fx) + px(x0 + 1, y0) * fx) * (1 - fy) +
         (px(x0, y0 + 1) * (1 - fx) + px(x0 + 1, y0 + 1) * fx) * fy;
}

// Rotates clockwise by `degrees` about the centre with bilinear sampling; the canvas
// grows to hold the whole rotated image, new area filled with `background`.
inline Image Rotate(const Image& img, double degrees, uint8_t background = 255) {
  const double a = degrees * std::numbers::pi / 180.0, c = std::cos(a), s = std::sin(a);
  const int w = static_cast<int>(std::ceil(std::abs(img.width * c) + std::abs(img.height * s)));
  const int h = static_cast<int>(std::ceil(std::abs(img.width * s) + std::abs(img.height * c)));
  Image out = Blank(w, h, background);
  const double cx = img.width / 2.0, cy = img.height / 2.0, ox = w / 2.0, oy = h / 2.0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double dx = x + 0.5 - ox, dy = y + 0.5 - oy;
      // Inverse rotation maps the output pixel back into the source.
      const double sx = c * dx + s * dy + cx - 0.5, sy = -s * dx + c * dy + cy - 0.5;
      out.at(x, y) = Clamp(Sample(img, sx, sy, background));
    }
  }
  return out;
}

// Box blur of the given radius applied `passes` times (3 passes approximate a Gaussian).
// Running sums over raw rows: these images are large and the tests also run unoptimised.
inline Image Blur(const Image& img, int radius, int passes = 3) {
  const int w = img.width, h = img.height, n = 2 * radius + 1;
  Image cur = img, tmp = img;
  std::vector<int> line(static_cast<size_t>(std::max(w, h)) + 2 * radius);
  for (int p = 0; p < passes; ++p) {
    for (int pass = 0; pass < 2; ++pass) {
      const bool rows = pass == 0;
      const Image& src = rows ? cur : tmp;
      Image& dst = rows ? tmp : cur;
      const int count = rows ? h : w, length = rows ? w : h;
      const size_t step = rows ? 1 : static_cast<size_t>(w);
      for (int k = 0; k < count; ++k) {
        const uint8_t* in = src.gray.data() + (rows ? static_cast<size_t>(k) * w : k);
        uint8_t* out = dst.gray.data() + (rows ? static_cast<size_t>(k) * w : k);
        // Edge pixels repeat beyond the border.
        for (int i = 0; i < length + 2 * radius; ++i) {
          line[i] = in[std::clamp(i - radius, 0, length - 1) * step];
        }
        int sum = 0;
        for (int i = 0; i < n; ++i) sum += line[i];
        for (int i = 0; i < length; ++i) {
          out[i * step] = static_cast<uint8_t>(sum / n);
          if (i + n < length + 2 * radius) sum += line[i + n] - line[i];
        }
      }
    }
  }
  return cur;
}

inline Image AddNoise(const Image& img, double sigma, Rng& rng) {
  Image out = img;
  uint8_t* p = out.gray.data();
  for (size_t i = 0, n = out.gray.size(); i < n; ++i) {
    const int v = p[i] + static_cast<int>(std::lround(rng.Gauss(sigma)));
    p[i] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  return out;
}

// Maps black to `dark` and white to `light`.
inline Image Contrast(const Image& img, uint8_t dark, uint8_t light) {
  Image out = img;
  for (auto& p : out.gray) p = Clamp(dark + (light - dark) * (p / 255.0));
  return out;
}

// Resamples by `factor` (bilinear).
inline Image Scale(const Image& img, double factor) {
  const int w = std::max(1, static_cast<int>(img.width * factor));
  const int h = std::max(1, static_cast<int>(img.height * factor));
  Image out = Blank(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      out.at(x, y) = Clamp(Sample(img, (x + 0.5) / factor - 0.5, (y + 0.5) / factor - 0.5, 255));
    }
  }
  return out;
}

// A photo-like scene: a lighting gradient, a few dozen random rectangles (boxes, text
// blocks, shadows) and sensor noise of the given sigma.
inline Image ClutteredBackground(int w, int h, Rng& rng, double noise_sigma = 6.0) {
  Image img = Blank(w, h);
  const double gx = rng.Int(-60, 60) / static_cast<double>(w);
  const double gy = rng.Int(-60, 60) / static_cast<double>(h);
  const int base = rng.Int(140, 200);
  for (int y = 0; y < h; ++y) {
    uint8_t* row = img.gray.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) row[x] = Clamp(base + gx * x + gy * y);
  }
  for (int i = 0; i < 40; ++i) {
    const int rw = rng.Int(10, w / 4), rh = rng.Int(4, h / 4);
    const int rx = rng.Int(0, w - 1), ry = rng.Int(0, h - 1);
    const uint8_t v = static_cast<uint8_t>(rng.Int(20, 235));
    for (int y = ry; y < std::min(h, ry + rh); ++y) {
      uint8_t* row = img.gray.data() + static_cast<size_t>(y) * w;
      std::fill(row + rx, row + std::min(w, rx + rw), v);
    }
  }
  return noise_sigma > 0 ? AddNoise(img, noise_sigma, rng) : img;
}

}  // namespace pedigree::scanner::synthetic
