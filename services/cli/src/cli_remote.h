// Remote mode: the CLI as a client of a running `pedigree serve` (docs/cli.md, "Working
// against a remote node"). Global options --server/--token/--token-file/--ca/
// --insecure-http/--timeout are taken out of the command line before a command parses
// its own; commands that work remotely ask CliIo::remote.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::services {

struct RemoteOptions {
  std::string server;  // URL: http(s)://host[:port][/prefix]
  std::string token;   // API token, may be empty (public routes only)
  std::string ca_file;
  bool insecure_http = false;
  int timeout_seconds = 30;
  // The server came from $PEDIGREE_SERVER, not --server: commands that work only on a
  // local ledger ignore it instead of refusing.
  bool from_environment = false;
};

// Removes the global remote options from `args` (anywhere after args[0]) and returns them
// when a server is named (--server, else $PEDIGREE_SERVER unless --dir is given). Token: --token,
// else
// --token-file (refused with client.token_file_permissions when group or others may read
// it), else $PEDIGREE_TOKEN. cli.usage for a missing value or both --token and --token-file.
[[nodiscard]] Result<std::optional<RemoteOptions>> TakeRemoteOptions(
    std::vector<std::string>& args);

// The help lines of the global remote options (pedigree help, the man page).
extern const char* const kRemoteOptionsHelp;

struct RemoteReply {
  int status = 0;
  std::string body;
  std::string content_type;
  int retry_after_seconds = -1;  // the Retry-After header's delay-seconds, -1 without one
};

// One node. Every call opens a connection (a CLI invocation makes a few requests).
// Transport failures: client.unreachable, client.tls, client.timeout, client.bad_response.
// A non-2xx answer becomes the server's error (its code, message, field and nextStep)
// so that PrintError shows it as a local refusal would be shown.
class RemoteClient {
 public:
  // Checks the URL: http or https; http only to a loopback host unless insecure_http
  // (client.insecure_http); cli.usage when it does not parse.
  [[nodiscard]] static Result<RemoteClient> Make(const RemoteOptions& options);

  // `target` is the path and query ("/v1/verify?code=..."), appended to the URL's path.
  [[nodiscard]] Result<RemoteReply> Get(const std::string& target) const;
  [[nodiscard]] Result<RemoteReply> Post(const std::string& target, const std::string& body,
                                         const std::string& content_type) const;
  // Any status, the body as it came, with extra request headers (C2SP endpoints such as a
  // mirror's answer 202/409 with bodies the caller reads).
  [[nodiscard]] Result<RemoteReply> PostRaw(
      const std::string& target, const std::string& body, const std::string& content_type,
      const std::map<std::string, std::string>& headers = {}) const;
  // A 2xx JSON body, parsed. PostJson sends `body` as `content_type` (a dataset upload
  // sends the file as it is, text/csv for one).
  [[nodiscard]] Result<JsonValue> GetJson(const std::string& target) const;
  [[nodiscard]] Result<JsonValue> PostJson(
      const std::string& target, const std::string& body,
      const std::string& content_type = "application/json") const;

  // The log's origin, from the first line of its checkpoint (what a signature names).
  [[nodiscard]] Result<std::string> Origin() const;

 private:
  [[nodiscard]] Result<RemoteReply> Exchange(
      const std::string& method, const std::string& target, const std::string& body,
      const std::string& content_type,
      const std::map<std::string, std::string>& headers = {}) const;
  [[nodiscard]] Result<RemoteReply> ExchangeOnce(
      const std::string& method, const std::string& target, const std::string& body,
      const std::string& content_type, const std::map<std::string, std::string>& headers) const;
  RemoteOptions options_;
  std::string scheme_, host_, prefix_;
  uint16_t port_ = 0;
};

class Args;
struct CliIo;
// A report fetched as JSON from the node (`target` without the format parameter) and
// written by EmitReport like a local one: same renderers, same exit codes.
int RemoteReport(const RemoteOptions& options, const std::string& target, const Args& args,
                 CliIo& io);

// Signs `payload` here with the PEM key in `key_path` for the remote node's log (its origin,
// from its checkpoint) and posts the envelope to POST /v1/events; the entry's index. What
// every write does with --server: the organisation's key never leaves the client.
[[nodiscard]] Result<uint64_t> SubmitRemote(const RemoteClient& remote, JsonValue& payload,
                                            const std::string& org, const std::string& key_path);

// The cli.usage refusal (field "key") of a write `command` given --server without --key.
Error RemoteKeyRequired(const std::string& command);

// A query parameter's value, percent-encoded (RFC 3986 unreserved characters kept).
std::string QueryEncode(const std::string& value);

// The server's JSON error answer as an Error, or client.bad_response when it is not one.
Error RemoteError(int status, const std::string& body);

}  // namespace pedigree::services
