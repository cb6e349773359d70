// A child process running the pedigree binary (PEDIGREE_BINARY) for tests that need a real
// server process: its output goes to a file the test reads.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace pedigree::services::testing {

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A child process running the pedigree binary, output to a file; SIGTERM and reaped on scope
// exit.
class Process {
 public:
  Process(std::vector<std::string> args, std::string out_path) : out_(std::move(out_path)) {
    args.insert(args.begin(), PEDIGREE_BINARY);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    BOOST_REQUIRE(posix_spawn(&pid_, PEDIGREE_BINARY, &actions, nullptr, argv.data(), environ) ==
                  0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The exit code once it ends by itself.
  int Wait() {
    int status = 0;
    BOOST_REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Output() const { return Slurp(out_); }

  // The first capture of `pattern` in the output, once it appears (the server is listening
  // by then); fails if the process ends first.
  std::string AwaitOutput(const std::string& pattern) {
    const std::regex re(pattern);
    for (int i = 0; i < 600; ++i) {
      std::smatch m;
      const std::string out = Output();
      if (std::regex_search(out, m, re)) return m[1].str();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        BOOST_FAIL("process ended before printing " << pattern << ": " << out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_FAIL("no " << pattern << " in " << Output());
    return {};
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

}  // namespace pedigree::services::testing
