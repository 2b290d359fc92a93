#include "queue/http_client.h"

#include <curl/curl.h>

#include <mutex>
#include <utility>

namespace scorepipe {
namespace {

// curl_global_init is not safe to run twice at once; every client calls
// this before its first handle.
void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string WithoutTrailingSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

HttpClient::HttpClient(std::string base_url, int connect_timeout_ms)
    : base_url_(WithoutTrailingSlash(std::move(base_url))),
      connect_timeout_ms_(connect_timeout_ms),
      curl_(nullptr),
      headers_(nullptr) {
  InitCurlOnce();
  curl_ = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip before large bodies.
  headers = curl_slist_append(headers, "Expect:");
  headers_ = headers;
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

std::string HttpClient::EscapeQueryValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Result<HttpResponse> HttpClient::Get(std::string_view path_and_query, int timeout_ms) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Status::Error("GET " + base_url_ + ": curl_easy_init failed");
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  return Perform("GET", base_url_ + std::string(path_and_query), timeout_ms);
}

Result<HttpResponse> HttpClient::PostJson(std::string_view path, std::string_view json, int timeout_ms) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Status::Error("POST " + base_url_ + ": curl_easy_init failed");
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  // The body is not copied: it outlives the transfer, which ends in Perform.
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json.size()));
  return Perform("POST", base_url_ + std::string(path), timeout_ms);
}

Result<HttpResponse> HttpClient::Perform(const char* method, const std::string& url, int timeout_ms) {
  CURL* curl = static_cast<CURL*>(curl_);
  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for timeouts
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms_));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // `error` goes out of scope
  if (code != CURLE_OK) {
    std::string what = error[0] != '\0' ? error : curl_easy_strerror(code);
    if (code == CURLE_OPERATION_TIMEDOUT) what += " (limit " + std::to_string(timeout_ms) + " ms)";
    return Status::Error(std::string(method) + " " + url + ": " + what);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace scorepipe
