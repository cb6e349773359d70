// Barcode decode throughput on 1280x720 photo-like frames holding one GS1 DataMatrix
// pack code, on one core. Target (docs/DESIGN.md): >= 100 images/s per core. In-run
// references: a plain pass over the pixels (histogram) and loading the frame from PNG.
#include <time.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../tests/scanner/synthetic_image.h"
#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "pedigree/usecases/image_scan.h"

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

struct Frame {
  Image image;
  std::string expected;
};

// `aimed`: the symbol's centre within 100 px of the frame centre, as when a pharmacist
// points a phone at the pack; otherwise anywhere in the frame.
std::vector<Frame> MakeFrames(int count, bool aimed, uint64_t seed) {
  synthetic::Rng rng(seed);
  std::vector<Frame> frames;
  for (int i = 0; i < count; ++i) {
    const std::string serial = "BENCH" + std::to_string(1000 + i);
    auto code = RenderPackLabel("09506000134352", "261231", "LOT7", serial, {4, 2});
    if (!code) return {};
    const Image symbol = synthetic::Rotate(*code, rng.Int(0, 359));
    Image scene = synthetic::ClutteredBackground(1280, 720, rng);
    int x, y;
    if (aimed) {
      x = 640 + rng.Int(-100, 100) - symbol.width / 2;
      y = 360 + rng.Int(-100, 100) - symbol.height / 2;
    } else {
      x = rng.Int(0, 1280 - symbol.width);
      y = rng.Int(0, 720 - symbol.height);
    }
    synthetic::Paste(scene, symbol, x, y);
    frames.push_back({synthetic::AddNoise(synthetic::Blur(scene, 1, 1), 3, rng),
                      "]d2010950600013435217261231"
                      "10LOT7\x1D"
                      "21" +
                          serial});
  }
  return frames;
}

// CPU time of this thread: the figure is per core, and the dev machine is shared, so
// wall time would count other processes' work against us.
double ThreadSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename F>
double PerSecond(int items_per_round, double min_seconds, F&& round) {
  const double start = ThreadSeconds();
  int items = 0;
  double elapsed = 0;
  do {
    round();
    items += items_per_round;
    elapsed = ThreadSeconds() - start;
  } while (elapsed < min_seconds);
  return items / elapsed;
}

// Returns images/s and sets `read` to the fraction decoded correctly.
double DecodeRate(const std::vector<Frame>& frames, const DecodeOptions& options, double& read) {
  int ok = 0, total = 0;
  const double rate = PerSecond(static_cast<int>(frames.size()), 2.0, [&] {
    for (const auto& f : frames) {
      auto symbols = DecodeImage(f.image, options);
      bool found = false;
      if (symbols) {
        for (const auto& s : *symbols) found = found || s.raw == f.expected;
      }
      ok += found;
      ++total;
    }
  });
  read = static_cast<double>(ok) / total;
  return rate;
}

}  // namespace

int main() {
  const auto aimed = MakeFrames(20, true, 1);
  const auto anywhere = MakeFrames(20, false, 2);
  if (aimed.empty() || anywhere.empty()) {
    std::fprintf(stderr, "cannot render bench frames\n");
    return 1;
  }

  // References: touching every pixel once, and decoding the frame from PNG.
  volatile uint64_t sink = 0;
  const double pixel_pass = PerSecond(static_cast<int>(aimed.size()), 1.0, [&] {
    for (const auto& f : aimed) {
      uint32_t histogram[256] = {};
      for (uint8_t p : f.image.gray) ++histogram[p];
      sink = sink + histogram[128];
    }
  });
  std::vector<Bytes> pngs;
  for (const auto& f : aimed) pngs.push_back(EncodePng(f.image).value());
  const double png_load = PerSecond(static_cast<int>(pngs.size()), 1.0, [&] {
    for (const auto& png : pngs) sink = sink + LoadImageMemory(png)->gray[0];
  });
  // What a phone sends: JPEG, quality 90 (grey; TurboJPEG decodes only a colour photo's
  // luma, so a colour JPEG costs about the same).
  std::vector<Bytes> jpegs;
  for (const auto& f : anywhere) jpegs.push_back(EncodeJpeg(f.image, 90).value());
  const double jpeg_load = PerSecond(static_cast<int>(jpegs.size()), 1.0, [&] {
    for (const auto& jpeg : jpegs) sink = sink + LoadImageMemory(jpeg)->gray[0];
  });
  char reference[200];
  std::snprintf(reference, sizeof reference,
                "reference pixel pass %.0f images/s, PNG load %.0f images/s, JPEG load %.0f "
                "images/s",
                pixel_pass, png_load, jpeg_load);

  struct Setting {
    const char* name;
    const std::vector<Frame>* frames;
    DecodeOptions options;
  };
  const Setting settings[] = {
      {"pack preset, fast pass only, aimed",
       &aimed,
       {.formats = {Symbology::kDataMatrix},
        .effort = DecodeEffort::kFast,
        .max_symbols = 1,
        .include_failures = false}},
      {"pack preset, aimed",
       &aimed,
       {.formats = {Symbology::kDataMatrix}, .max_symbols = 1, .include_failures = false}},
      {"pack preset, anywhere in frame",
       &anywhere,
       {.formats = {Symbology::kDataMatrix}, .max_symbols = 1, .include_failures = false}},
      {"all formats, aimed", &aimed, {}},
      {"all formats, anywhere in frame", &anywhere, {}},
      // POST /v1/scan and `pedigree scan`: every symbology, every symbol.
      {"scan endpoint options, aimed", &aimed, services::ScanDecodeOptions()},
      // POST /v1/verify with an image: the pack symbologies, every symbol.
      {"verify endpoint options, aimed", &aimed, services::VerifyDecodeOptions()},
      {"verify endpoint options, anywhere in frame", &anywhere, services::VerifyDecodeOptions()},
  };
  {
    // The whole photo: JPEG bytes to pack code, symbol anywhere in the frame.
    const DecodeOptions pack{
        .formats = {Symbology::kDataMatrix}, .max_symbols = 1, .include_failures = false};
    int ok = 0, total = 0;
    const double rate = PerSecond(static_cast<int>(jpegs.size()), 2.0, [&] {
      for (size_t i = 0; i < jpegs.size(); ++i) {
        auto image = LoadImageMemory(jpegs[i]);
        auto symbols = DecodeImage(*image, pack);
        bool found = false;
        if (symbols) {
          for (const auto& sym : *symbols) found = found || sym.raw == anywhere[i].expected;
        }
        ok += found;
        ++total;
      }
    });
    std::printf(
        "load + decode 1280x720 JPEG photo (pack preset, anywhere in frame): %.0f images/s "
        "(target 100; %s) read %.0f%%\n",
        rate, reference, 100.0 * ok / total);
  }
  for (const auto& s : settings) {
    double read = 0;
    const double rate = DecodeRate(*s.frames, s.options, read);
    std::printf("decode 1280x720 DataMatrix (%s): %.0f images/s (target 100; %s) read %.0f%%\n",
                s.name, rate, reference, read * 100);
  }
  return 0;
}
