// SpooledBody: a request body in a nameless temporary file (see http_server.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pedigree/http/http_server.h"

namespace pedigree::services {

namespace {

std::string SpoolDir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

}  // namespace

Result<std::shared_ptr<SpooledBody>> SpooledBody::Create(const std::string& dir) {
  const std::string where = SpoolDir(dir);
  // O_TMPFILE: the file never has a name, so no crash can leave one behind. Filesystems
  // without it get mkstemp and an immediate unlink (a name for a few microseconds).
  int fd = ::open(where.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string path = where + "/pedigree-body-XXXXXX";
    fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) {
    return Fail(Error("storage.io", "cannot make a temporary file for a request body in '" + where +
                                        "': " + std::strerror(errno)));
  }
  ::fchmod(fd, 0600);
  return std::shared_ptr<SpooledBody>(new SpooledBody(fd));
}

SpooledBody::~SpooledBody() { ::close(fd_); }

Status SpooledBody::Append(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(size_));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return Fail(Error(
          err == ENOSPC || err == EDQUOT ? "storage.full" : "storage.io",
          "writing a request body to its temporary file: " + std::string(std::strerror(err))));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return Ok();
}

Result<size_t> SpooledBody::ReadAt(uint64_t offset, char* out, size_t n) const {
  size_t done = 0;
  while (done < n && offset + done < size_) {
    const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return Fail(Error("storage.io", "reading a request body from its temporary file: " +
                                          std::string(std::strerror(errno))));
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

}  // namespace pedigree::services
