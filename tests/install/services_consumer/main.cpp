// The `pedigree` command line, built from the installed pedigree::cli.
#include <pedigree/cli/cli.h>

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return pedigree::services::RunCli(args, std::cin, std::cout, std::cerr);
}
