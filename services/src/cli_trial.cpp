// `pedigree trial …`: the clinical-trial workflow from the command line.
#include <iostream>

#include "cli_common.h"
#include "pedigree/services/trial_sample.h"

namespace pedigree::services {
namespace {

int TrialSample(const std::vector<std::string>& args, CliIo& io) {
  auto a = Args::Parse(args, 2, {"out", "subjects", "seed"});
  if (!a) return PrintError(io.err, a.error());
  auto out = a->required("out");
  if (!out) return PrintError(io.err, out.error());
  SampleStudyOptions options;
  auto subjects = a->number("subjects");
  auto seed = a->number("seed");
  if (!subjects) return PrintError(io.err, subjects.error());
  if (!seed) return PrintError(io.err, seed.error());
  if (*subjects) options.subjects = static_cast<size_t>(**subjects);
  if (*seed) options.seed = **seed;
  SampleStudy study = GenerateSampleStudy(options);
  if (auto written = WriteSampleStudy(study, *out); !written) {
    return PrintError(io.err, written.error());
  }
  io.out << "wrote study " << study.study_id << " to " << *out << ": " << study.subjects
         << " subjects (DM), " << study.adverse_events << " adverse events (AE)\n";
  return 0;
}

}  // namespace

std::vector<Command> TrialCommands() {
  return {
      {"trial sample",
       "trial sample --out DIR [--subjects N] [--seed S]   write the synthetic study", TrialSample},
  };
}

}  // namespace pedigree::services
