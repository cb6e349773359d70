// The throwaway PostgreSQL cluster of one test process (tests/common/pg_cluster.sh):
// started on first use, one fresh database per test case, stopped and deleted at exit
// (and by the script's watchdog if the process dies). When the server binaries are not
// installed the PostgreSQL cases FAIL naming the package (never skip silently).
#pragma once

#include <libpq-fe.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <memory>
#include <string>

namespace pedigree::testing {

class PgCluster {
 public:
  // The running cluster, or BOOST_FAIL with what to install.
  static PgCluster& Shared() {
    static PgCluster cluster;
    BOOST_REQUIRE_MESSAGE(!cluster.dir_.empty(),
                          "no PostgreSQL test cluster: " + cluster.failure_ +
                              " (install postgresql-15 and libpq-dev: scripts/deps.sh)");
    return cluster;
  }

  const std::string& dir() const { return dir_; }

  // A connection string (URI form) for database `db` as the superuser, or as `user`.
  std::string Uri(const std::string& db, const std::string& user = "pedigree") const {
    return "postgresql:///" + db + "?host=" + dir_ + "&user=" + user;
  }

  // Creates an empty database with a fresh name and returns the name.
  std::string CreateDatabase() {
    const std::string name = "t" + std::to_string(++databases_);
    Run(Uri("postgres"), "CREATE DATABASE " + name);
    return name;
  }
  // Creates an empty database and returns its connection string.
  std::string NewDatabase() { return Uri(CreateDatabase()); }

  // Runs `sql` on `conninfo`; returns "" or the server's error message (primary text).
  static std::string Exec(const std::string& conninfo, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) return PQerrorMessage(conn.get());
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
    const ExecStatusType st = PQresultStatus(r.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return "";
    const char* primary = PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    return primary ? primary : PQerrorMessage(conn.get());
  }

  // The first column of the first row of `sql` as text, or "ERROR: <message>".
  static std::string Value(const std::string& conninfo, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
      return "ERROR: " + std::string(PQerrorMessage(conn.get()));
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return "ERROR: " + std::string(PQresultErrorMessage(r.get()));
    }
    return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
  }

  // Exec that must succeed.
  static void Run(const std::string& conninfo, const std::string& sql) {
    const std::string err = Exec(conninfo, sql);
    BOOST_REQUIRE_MESSAGE(err.empty(), sql + ": " + err);
  }

  ~PgCluster() {
    if (dir_.empty()) return;
    const std::string cmd = Script() + " stop '" + dir_ + "'";
    if (std::system(cmd.c_str()) != 0) {
      // The watchdog deletes it once this process is gone.
    }
  }

 private:
  PgCluster() {
    const std::string cmd = Script() + " start --fsync off --watch " + std::to_string(::getpid());
    FILE* out = ::popen(cmd.c_str(), "r");
    if (!out) {
      failure_ = "cannot run " + Script();
      return;
    }
    char buf[4096];
    std::string text;
    while (size_t n = std::fread(buf, 1, sizeof buf, out)) text.append(buf, n);
    const int status = ::pclose(out);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (status != 0 || text.empty()) {
      failure_ = Script() + " start failed with exit status " +
                 std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : status) +
                 " (its stderr is in the test log)";
      return;
    }
    dir_ = text;
  }

  static std::string Script() {
    return std::string(PEDIGREE_SOURCE_DIR) + "/tests/common/pg_cluster.sh";
  }

  std::string dir_;
  std::string failure_;
  int databases_ = 0;
};

}  // namespace pedigree::testing
