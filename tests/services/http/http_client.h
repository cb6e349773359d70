// Test helpers: a keep-alive HTTP client over POCO and a temporary directory.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <array>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"

namespace pedigree::services::testing {

// The error code of a failed result, "" for a success. Returned by value so that
// BOOST_TEST, which evaluates after the full-expression, holds no dangling reference.
template <typename T>
std::string CodeOf(const std::expected<T, Error>& result) {
  return result ? std::string() : result.error().code();
}

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  bool keep_alive = false;
};

struct Send {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::map<std::string, std::string> headers;
  bool chunked = false;
};

inline Reply Exchange(Poco::Net::HTTPClientSession& session, const Send& send) {
  Poco::Net::HTTPRequest request(send.method, send.target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  for (const auto& [k, v] : send.headers) request.set(k, v);
  if (send.chunked) {
    request.setChunkedTransferEncoding(true);
  } else if (!send.body.empty() || send.method == "POST" || send.method == "PUT") {
    request.setContentLength(static_cast<std::streamsize>(send.body.size()));
  }
  std::ostream& out = session.sendRequest(request);
  out << send.body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = response.getStatus();
  Poco::StreamCopier::copyToString(in, reply.body);
  for (const auto& [k, v] : response) reply.headers[k] = v;
  reply.keep_alive = response.getKeepAlive();
  return reply;
}

inline Reply Exchange(const std::unique_ptr<Poco::Net::HTTPClientSession>& session,
                      const Send& send) {
  return Exchange(*session, send);
}

using pedigree::testing::TempDir;

}  // namespace pedigree::services::testing
