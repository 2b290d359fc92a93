// The topology's schema (see topology_schema.h): the rules' checks and the
// list of keys.
#include "config/topology_schema.h"

#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace scorepipe {
namespace topology_internal {
namespace {

namespace fs = std::filesystem;

bool HasWhitespace(std::string_view text) {
  return text.find_first_of(" \t\r\n\v\f") != std::string_view::npos;
}

std::optional<std::string> CheckFilePath(const std::string& value) {
  if (value.empty()) return "is empty";
  if (!fs::path(value).has_filename()) return "names a directory, not a file";
  return std::nullopt;
}

}  // namespace

std::string Format(const Problem& problem) {
  std::string out = problem.key.empty() ? "" : problem.key + ": ";
  return out + problem.what + "; allowed: " + problem.allowed;
}

std::string DoubleText(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "?";
}

std::string Allowed(IntRule rule) { return std::to_string(rule.min) + ".." + std::to_string(rule.max); }
std::string Allowed(DoubleRule rule) { return DoubleText(rule.min) + ".." + DoubleText(rule.max); }

std::optional<std::string> CheckWord(const std::string& value) {
  if (value.empty()) return "is empty";
  if (HasWhitespace(value)) return "contains whitespace";
  return std::nullopt;
}

std::optional<std::string> CheckNonEmpty(const std::string& value) {
  if (value.empty()) return "is empty";
  return std::nullopt;
}

std::optional<std::string> CheckOptionalWord(const std::string& value) {
  return value.empty() ? std::nullopt : CheckWord(value);
}

std::optional<std::string> CheckOptionalFilePath(const std::string& value) {
  return value.empty() ? std::nullopt : CheckFilePath(value);
}

std::optional<std::string> CheckEnvName(const std::string& value) {
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return "is not an environment variable name";
  }
  return std::nullopt;
}

std::optional<std::string> CheckLogLevel(const std::string& value) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "off"}) {
    if (value == level) return std::nullopt;
  }
  return "is not a log level";
}

std::optional<std::string> SplitEndpoint(std::string_view endpoint, EndpointParts* parts) {
  if (endpoint.empty()) return "is empty";
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return "is not an endpoint";
  if (HasWhitespace(endpoint)) return "contains whitespace";
  parts->transport = endpoint.substr(0, scheme_end);
  const std::string_view address = endpoint.substr(scheme_end + 3);
  if (parts->transport == "ipc" || parts->transport == "inproc") {
    if (address.empty()) return "names no " + std::string(parts->transport == "ipc" ? "path" : "name");
    return std::nullopt;
  }
  if (parts->transport != "tcp") return "uses transport '" + std::string(parts->transport) + "'";
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return "has no port";
  parts->host = address.substr(0, colon);
  if (parts->host.empty()) return "has no host";
  const std::string_view port = address.substr(colon + 1);
  long long number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || end != port.data() + port.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    return "has port '" + std::string(port) + "', not a number";
  }
  if (ec != std::errc() || number < 1 || number > 65535) {
    return "has port " + std::string(port) + ", out of range";
  }
  parts->port = static_cast<int>(number);
  return std::nullopt;
}

std::optional<std::string> CheckBind(const std::string& value) {
  EndpointParts parts;
  return SplitEndpoint(value, &parts);
}

std::optional<std::string> CheckConnect(const std::string& value) {
  EndpointParts parts;
  if (auto what = SplitEndpoint(value, &parts)) return what;
  if (parts.host == "*") return "has host '*', which only a bind may use";
  return std::nullopt;
}

std::optional<std::string> CheckOptionalBind(const std::string& value) {
  return value.empty() ? std::nullopt : CheckBind(value);
}

std::optional<std::string> CheckOptionalConnect(const std::string& value) {
  return value.empty() ? std::nullopt : CheckConnect(value);
}

std::optional<std::string> CheckHttpUrl(const std::string& value) {
  if (value.empty()) return "is empty";
  if (HasWhitespace(value)) return "contains whitespace";
  std::string_view rest = value;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "is not an http:// or https:// URL";
  }
  if (rest.find_first_of("?#") != std::string_view::npos) return "has a query or fragment";
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) return "has user info";
  // The port follows the last ':' outside an IPv6 address's brackets.
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  const bool has_port =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  const std::string_view host = has_port ? authority.substr(0, colon) : authority;
  if (host.empty() || host == "[]") return "has no host";
  if (!has_port) return std::nullopt;
  const std::string_view port = authority.substr(colon + 1);
  int number = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || end != port.data() + port.size() || ec != std::errc() || number < 1 || number > 65535) {
    return "has port '" + std::string(port) + "', not 1..65535";
  }
  return std::nullopt;
}

std::optional<std::string> CheckAnyPath(const std::string& /*value*/) { return std::nullopt; }

std::optional<std::string> CheckEmpty(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return "is set beside model.registry";
}

}  // namespace topology_internal

namespace {

using topology_internal::DoubleRule;
using topology_internal::EnumName;
using topology_internal::IntRule;
using topology_internal::Presence;
using topology_internal::StringRule;
using topology_internal::VisitFields;

// Lists the keys VisitFields() names, in its order, and the required ones.
class KeyLister {
 public:
  void Int(std::string_view key, int, IntRule) { keys.emplace_back(key); }
  void Double(std::string_view key, double, DoubleRule) { keys.emplace_back(key); }
  void String(std::string_view key, const std::string&, const StringRule&,
              Presence presence = Presence::kOptional) {
    Add(key, presence);
  }
  template <typename E>
  void Enum(std::string_view key, E, std::span<const EnumName<E>>, Presence presence = Presence::kOptional) {
    Add(key, presence);
  }

  std::vector<std::string> keys;
  std::vector<std::string> required;

 private:
  void Add(std::string_view key, Presence presence) {
    keys.emplace_back(key);
    if (presence == Presence::kRequired) required.emplace_back(key);
  }
};

}  // namespace

std::string KeyPlace(const Topology& topology, std::string_view key) {
  if (topology.source.empty()) return std::string(key);
  if (auto it = topology.spots.find(key); it != topology.spots.end()) {
    return topology.source + ":" + std::to_string(it->second.line) + ": " + std::string(key);
  }
  return topology.source + ": " + std::string(key);
}

std::vector<std::string> TopologyKeys() {
  const Topology defaults;
  KeyLister lister;
  VisitFields(defaults, lister);
  return lister.keys;
}

std::vector<std::string> RequiredTopologyKeys() {
  const Topology defaults;
  KeyLister lister;
  VisitFields(defaults, lister);
  return lister.required;
}

}  // namespace scorepipe
