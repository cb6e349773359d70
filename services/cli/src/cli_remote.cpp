#include "cli_remote.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "cli_common.h"
#include "pedigree/log/keys.h"
#include "pedigree/usecases/supply_actions.h"

namespace pedigree::services {
namespace {

Error Usage(const std::string& option, const std::string& message) {
  return Error("cli.usage", message).at_field(option);
}

// A token file, refused like a private key when group or others may read it.
Result<std::string> ReadTokenFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(Error("cli.io", "cannot open --token-file " + path + ": " + std::strerror(errno))
                    .at_field("token-file"));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Fail(Error("cli.io", "cannot stat --token-file " + path).at_field("token-file"));
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Fail(Error("client.token_file_permissions",
                      "token file " + path + " has mode " + mode +
                          "; it must not be accessible by group or others (chmod 600)")
                    .at_field("token-file"));
  }
  std::string text;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  if (text.empty()) {
    return Fail(Error("cli.usage", "--token-file " + path + " is empty").at_field("token-file"));
  }
  // `pedigree token issue > F` writes its JSON answer; the token is its "token" member.
  if (text.front() == '{') {
    auto doc = ParseJson(text);
    const JsonValue* token = doc && doc->is_object() ? doc->find("token") : nullptr;
    if (!token || !token->is_string() || token->as_string().empty()) {
      return Fail(Error("cli.usage", "--token-file " + path +
                                         " holds JSON without a \"token\" string (the output of "
                                         "`pedigree token issue`, or the bare token, is expected)")
                      .at_field("token-file"));
    }
    return token->as_string();
  }
  return text;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  Poco::Net::IPAddress address;
  return Poco::Net::IPAddress::tryParse(host, address) && address.isLoopback();
}

}  // namespace

const char* const kRemoteOptionsHelp =
    "  --server URL   work against a running node (default: $PEDIGREE_SERVER; none: the\n"
    "                 local ledger in --dir)\n"
    "  --token T      API token (default: --token-file, else $PEDIGREE_TOKEN)\n"
    "  --token-file F file holding the API token (mode 0600)\n"
    "  --ca FILE      also trust this CA certificate, PEM (default: the system CA store)\n"
    "  --insecure-http\n"
    "                 allow http:// to a host other than loopback\n"
    "  --timeout S    seconds to wait for the node (default: 30)\n";

Result<std::optional<RemoteOptions>> TakeRemoteOptions(std::vector<std::string>& args) {
  std::map<std::string, std::string> given;
  bool insecure = false;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.rfind("--", 0) != 0) {
      rest.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "insecure-http" && !value) {
      insecure = true;
      continue;
    }
    if (name != "server" && name != "token" && name != "token-file" && name != "ca" &&
        name != "timeout") {
      rest.push_back(a);
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) return Fail(Usage(name, "option --" + name + " needs a value"));
      value = args[++i];
    }
    given[name] = *value;
  }
  std::optional<std::string> server;
  bool from_env = false;
  if (given.count("server")) {
    server = given["server"];
  } else if (const char* env = std::getenv("PEDIGREE_SERVER"); env && *env) {
    // An explicit --dir names a local ledger, whatever the environment says.
    bool dir_given = false;
    for (const std::string& a : rest)
      dir_given = dir_given || a == "--dir" || a.rfind("--dir=", 0) == 0;
    if (!dir_given) {
      server = env;
      from_env = true;
    }
  }
  if (!server) {
    for (const char* name : {"token", "token-file", "ca", "timeout"}) {
      if (given.count(name))
        return Fail(
            Usage(name, std::string("--") + name + " needs --server URL (or $PEDIGREE_SERVER)"));
    }
    if (insecure) return Fail(Usage("insecure-http", "--insecure-http needs --server URL"));
    args = std::move(rest);
    return std::optional<RemoteOptions>();
  }
  RemoteOptions options;
  options.server = *server;
  options.insecure_http = insecure;
  options.from_environment = from_env;
  if (given.count("token") && given.count("token-file")) {
    return Fail(Usage("token", "give --token or --token-file, not both"));
  }
  if (given.count("token")) {
    options.token = given["token"];
  } else if (given.count("token-file")) {
    PEDIGREE_ASSIGN(token, ReadTokenFile(given["token-file"]));
    options.token = *token;
  } else if (const char* env = std::getenv("PEDIGREE_TOKEN"); env && *env) {
    options.token = env;
  }
  if (given.count("ca")) options.ca_file = given["ca"];
  if (given.count("timeout")) {
    const std::string& t = given["timeout"];
    int seconds = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
    if (ec != std::errc() || end != t.data() + t.size() || seconds < 1 || seconds > 3600) {
      return Fail(Usage("timeout", "--timeout must be 1 to 3600 seconds, got '" + t + "'"));
    }
    options.timeout_seconds = seconds;
  }
  args = std::move(rest);
  return std::optional<RemoteOptions>(std::move(options));
}

Result<RemoteClient> RemoteClient::Make(const RemoteOptions& options) {
  RemoteClient client;
  client.options_ = options;
  try {
    Poco::URI uri(options.server);
    client.scheme_ = Poco::toLower(uri.getScheme());
    client.host_ = uri.getHost();
    client.port_ = uri.getPort();
    client.prefix_ = uri.getPath();
  } catch (const Poco::Exception& e) {
    return Fail(Usage("server", "--server '" + options.server + "' is not a URL: " + e.message()));
  }
  if ((client.scheme_ != "http" && client.scheme_ != "https") || client.host_.empty()) {
    return Fail(
        Usage("server", "--server '" + options.server + "' must be http(s)://HOST[:PORT][/PATH]"));
  }
  while (!client.prefix_.empty() && client.prefix_.back() == '/') client.prefix_.pop_back();
  if (client.scheme_ == "http" && !options.insecure_http && !IsLoopback(client.host_)) {
    return Fail(Error("client.insecure_http",
                      "--server '" + options.server +
                          "' is plain http to a host other than loopback: the token and "
                          "answers would cross the network unprotected")
                    .at_field("server"));
  }
  return client;
}

namespace {

// The error code of a JSON error answer, or "" when the body is not one.
std::string ErrorCode(const std::string& body) {
  auto parsed = ParseJson(body, {.integers_only = true});
  const JsonValue* e = parsed ? parsed->find("error") : nullptr;
  const JsonValue* code = e ? e->find("code") : nullptr;
  return code && code->is_string() ? code->as_string() : std::string();
}

}  // namespace

// A 503 cluster.no_leader (a leader change: the follower had no leader, or lost it while
// forwarding) or server.busy (a full queue), with Retry-After, is sent again after that
// delay until the client's timeout is spent. Sending the same bytes again cannot write
// twice: nothing ran, or the leader committed the write before it died, and the ledger
// answers a replayed command (same organisation and clientId) with its first result.
// Any other answer is the caller's.
Result<RemoteReply> RemoteClient::Exchange(
    const std::string& method, const std::string& target, const std::string& body,
    const std::string& content_type, const std::map<std::string, std::string>& headers) const {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(std::max(1, options_.timeout_seconds));
  for (;;) {
    PEDIGREE_ASSIGN(reply, ExchangeOnce(method, target, body, content_type, headers));
    if (reply->status != 503 || reply->retry_after_seconds < 0) return *reply;
    const std::string code = ErrorCode(reply->body);
    if (code != "cluster.no_leader" && code != "server.busy") return *reply;
    const auto wake = std::chrono::steady_clock::now() +
                      std::chrono::seconds(std::min(reply->retry_after_seconds, 5));
    if (wake >= deadline) return *reply;
    std::this_thread::sleep_until(wake);
  }
}

Result<RemoteReply> RemoteClient::ExchangeOnce(
    const std::string& method, const std::string& target, const std::string& body,
    const std::string& content_type, const std::map<std::string, std::string>& headers) const {
  const std::string where = options_.server;
  try {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (scheme_ == "https") {
      // The system CA store, and --ca when given; the host name is checked.
      Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", options_.ca_file,
                                 Poco::Net::Context::VERIFY_RELAXED, 9, /*loadDefaultCAs=*/true);
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      session = std::make_unique<Poco::Net::HTTPSClientSession>(host_, port_, context);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
    }
    session->setTimeout(Poco::Timespan(options_.timeout_seconds, 0));
    Poco::Net::HTTPRequest request(method, prefix_ + target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(false);
    if (!options_.token.empty()) request.set("Authorization", "Bearer " + options_.token);
    request.set("Accept", "application/json");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (method == "POST") {
      request.setContentType(content_type);
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream& out = session->sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    RemoteReply reply;
    reply.status = static_cast<int>(response.getStatus());
    reply.content_type = response.getContentType();
    // Retry-After as delay-seconds (RFC 9110 §10.2.3); an HTTP-date is not retried on.
    const std::string retry_after = response.get("Retry-After", "");
    int seconds = -1;
    auto [end, ec] =
        std::from_chars(retry_after.data(), retry_after.data() + retry_after.size(), seconds);
    if (ec == std::errc() && end == retry_after.data() + retry_after.size() && seconds >= 0) {
      reply.retry_after_seconds = seconds;
    }
    Poco::StreamCopier::copyToString(in, reply.body);
    return reply;
  } catch (const Poco::TimeoutException& e) {
    return Fail(Error("client.timeout", "no answer from " + where + " within " +
                                            std::to_string(options_.timeout_seconds) + " s")
                    .at_field("server"));
  } catch (const Poco::Net::SSLException& e) {
    return Fail(Error("client.tls", "TLS with " + where + " failed: " + e.displayText())
                    .at_field("server"));
  } catch (const Poco::Net::MessageException& e) {
    return Fail(
        Error("client.bad_response", where + " sent no valid HTTP answer: " + e.displayText())
            .at_field("server"));
  } catch (const Poco::Net::NoMessageException& e) {
    return Fail(Error("client.bad_response", where + " closed the connection without an answer")
                    .at_field("server"));
  } catch (const Poco::Exception& e) {
    return Fail(Error("client.unreachable", "cannot reach " + where + ": " + e.displayText())
                    .at_field("server"));
  } catch (const std::exception& e) {
    return Fail(
        Error("client.unreachable", "cannot reach " + where + ": " + e.what()).at_field("server"));
  }
}

Error RemoteError(int status, const std::string& body) {
  auto parsed = ParseJson(body, {.integers_only = true});
  const JsonValue* e = parsed ? parsed->find("error") : nullptr;
  const JsonValue* code = e ? e->find("code") : nullptr;
  const JsonValue* message = e ? e->find("message") : nullptr;
  if (!code || !code->is_string() || !message || !message->is_string()) {
    std::string excerpt = body.substr(0, 200);
    for (char& c : excerpt) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return Error("client.bad_response", "the node answered HTTP " + std::to_string(status) +
                                            " without a JSON error: '" + excerpt + "'")
        .at_field("server");
  }
  Error error(code->as_string(), message->as_string());
  for (const auto& [name, value] : e->as_object()) {
    if (name == "code" || name == "message") continue;
    if (name == "field" && value.is_string()) {
      error = error.at_field(value.as_string());
    } else if (value.is_int()) {
      error = error.with_detail(name, value.as_int());
    } else if (value.is_string()) {
      // nextStep included: the node's words, shown as they came.
      error = error.with_detail(name, value.as_string());
    } else {
      error = error.with_detail(name, Canonicalize(value));
    }
  }
  return error;
}

Result<RemoteReply> RemoteClient::Get(const std::string& target) const {
  PEDIGREE_ASSIGN(reply, Exchange("GET", target, "", ""));
  if (reply->status < 200 || reply->status > 299)
    return Fail(RemoteError(reply->status, reply->body));
  return *reply;
}

Result<RemoteReply> RemoteClient::Post(const std::string& target, const std::string& body,
                                       const std::string& content_type) const {
  PEDIGREE_ASSIGN(reply, Exchange("POST", target, body, content_type));
  if (reply->status < 200 || reply->status > 299)
    return Fail(RemoteError(reply->status, reply->body));
  return *reply;
}

Result<RemoteReply> RemoteClient::PostRaw(const std::string& target, const std::string& body,
                                          const std::string& content_type,
                                          const std::map<std::string, std::string>& headers) const {
  return Exchange("POST", target, body, content_type, headers);
}

Result<JsonValue> RemoteClient::GetJson(const std::string& target) const {
  PEDIGREE_ASSIGN(reply, Get(target));
  auto parsed = ParseJson(reply->body, {.integers_only = true});
  if (!parsed) {
    return Fail(Error("client.bad_response", "the node's answer to " + target +
                                                 " is not JSON: " + parsed.error().message())
                    .at_field("server"));
  }
  return *parsed;
}

Result<JsonValue> RemoteClient::PostJson(const std::string& target, const std::string& body,
                                         const std::string& content_type) const {
  PEDIGREE_ASSIGN(reply, Post(target, body, content_type));
  auto parsed = ParseJson(reply->body, {.integers_only = true});
  if (!parsed) {
    return Fail(Error("client.bad_response", "the node's answer to " + target +
                                                 " is not JSON: " + parsed.error().message())
                    .at_field("server"));
  }
  return *parsed;
}

Result<std::string> RemoteClient::Origin() const {
  PEDIGREE_ASSIGN(reply, Get("/v1/log/checkpoint"));
  auto eol = reply->body.find('\n');
  if (eol == std::string::npos || eol == 0) {
    return Fail(Error("client.bad_response", "the node's checkpoint has no origin line")
                    .at_field("server"));
  }
  return reply->body.substr(0, eol);
}

int RemoteReport(const RemoteOptions& options, const std::string& target, const Args& args,
                 CliIo& io) {
  // A remote report is the node's own account; a quorum is checked only on evidence
  // verified here, so --policy belongs to `bundle … -o F` + `verify-bundle F --policy`.
  if (args.has("policy")) {
    return PrintError(io.err, Error("cli.usage",
                                    "--policy is not checked on a report fetched from a node: "
                                    "fetch a bundle and run verify-bundle --policy")
                                  .at_field("policy"));
  }
  auto client = RemoteClient::Make(options);
  if (!client) return PrintError(io.err, client.error());
  auto report =
      client->GetJson(target + (target.find('?') == std::string::npos ? "?" : "&") + "format=json");
  if (!report) return PrintError(io.err, report.error());
  return EmitReport(args, *report, io);
}

Result<uint64_t> SubmitRemote(const RemoteClient& remote, JsonValue& payload,
                              const std::string& org, const std::string& key_path) {
  PEDIGREE_ASSIGN(key, log::PrivateKey::LoadPem(key_path));
  PEDIGREE_ASSIGN(origin, remote.Origin());
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  PEDIGREE_ASSIGN(envelope, SignCommand(payload, org, *key, now, "cli-", *origin));
  PEDIGREE_ASSIGN(answer, remote.PostJson("/v1/events", *envelope));
  const JsonValue* index = answer->find("index");
  if (!index || !index->is_int() || index->as_int() < 0) {
    return Fail(Error("client.bad_response", "the node's answer to POST /v1/events has no index")
                    .at_field("server"));
  }
  return static_cast<uint64_t>(index->as_int());
}

Error RemoteKeyRequired(const std::string& command) {
  return Error("cli.usage", "with --server, " + command +
                                " is signed here: give the organisation's --key FILE (the node "
                                "does not hold it)")
      .at_field("key");
}

std::string QueryEncode(const std::string& value) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace pedigree::services
