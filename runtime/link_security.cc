#include "runtime/link_security.h"

#include <filesystem>

#include "runtime/node.h"

namespace scorepipe {

Result<LinkSecurity> LinkSecurity::Load(const SecurityConfig& config) {
  LinkSecurity security;
  if (config.mode == SecurityMode::kNone) return security;
  Result<CurveKeyPair> own = ReadKeyPair(config.secret_key);
  if (!own.ok()) return own.status().WithContext("security.secret_key");
  Result<std::string> server_key = ReadKeyFile(config.server_key);
  if (!server_key.ok()) return server_key.status().WithContext("security.server_key");
  security.curve_ = true;
  security.own_ = own.value();
  security.server_key_ = server_key.value();
  security.authorized_dir_ = config.authorized_keys;
  return security;
}

Status LinkSecurity::Server(zmq::socket_t& socket) const {
  return curve_ ? MakeCurveServer(socket, own_) : Status::Ok();
}

Status LinkSecurity::Client(zmq::socket_t& socket) const {
  return curve_ ? MakeCurveClient(socket, own_, server_key_) : Status::Ok();
}

Result<std::unique_ptr<ZapAuthenticator>> LinkSecurity::Authenticate(zmq::context_t& context) const {
  if (!curve_) return std::unique_ptr<ZapAuthenticator>();
  if (own_.public_key != server_key_) {
    return Status::Error("security.secret_key: this node's public key " + own_.public_key +
                         " is not the one security.server_key names (" + server_key_ +
                         "), so every client would refuse this server; on the head, both name one key pair");
  }
  Result<std::unique_ptr<ZapAuthenticator>> zap =
      ZapAuthenticator::Start(context, authorized_dir_, own_.public_key);
  if (!zap.ok()) return zap.status().WithContext("security.authorized_keys");
  return zap;
}

Status LinkSecurity::BindAsServer(zmq::socket_t& socket, const std::string& endpoint) const {
  if (Status s = Server(socket); !s.ok()) return s.WithContext(endpoint);
  return BindSocket(socket, endpoint);
}

Status LinkSecurity::ConnectAsClient(zmq::socket_t& socket, const std::string& endpoint) const {
  if (Status s = Client(socket); !s.ok()) return s.WithContext(endpoint);
  return ConnectSocket(socket, endpoint);
}

Result<LinkSecurity> LoadServerSecurity(const SecurityConfig& config, zmq::context_t& context,
                                        std::unique_ptr<ZapAuthenticator>* zap) {
  Result<LinkSecurity> security = LinkSecurity::Load(config);
  if (!security.ok()) return security.status();
  Result<std::unique_ptr<ZapAuthenticator>> handler = security->Authenticate(context);
  if (!handler.ok()) return handler.status();
  *zap = std::move(handler.value());
  return security;
}

std::vector<std::string> CheckSecurityFiles(const Topology& topology, bool server) {
  namespace fs = std::filesystem;
  const SecurityConfig& config = topology.security;
  std::vector<std::string> problems;
  if (config.mode == SecurityMode::kNone) return problems;
  auto problem = [&](std::string_view key, const std::string& what) {
    problems.push_back(KeyPlace(topology, key) + ": " + what);
  };
  Result<CurveKeyPair> own = ReadKeyPair(config.secret_key);
  if (!own.ok()) problem("security.secret_key", own.status().message());
  Result<std::string> server_key = ReadKeyFile(config.server_key);
  if (!server_key.ok()) problem("security.server_key", server_key.status().message());
  if (!server) return problems;
  if (own.ok() && server_key.ok() && own->public_key != server_key.value()) {
    problem("security.secret_key",
            "this node's public key " + own->public_key + " is not the one security.server_key names (" +
                server_key.value() +
                "), so every client would refuse this server; on the head, both name one key pair");
  }
  std::error_code error;
  if (!fs::is_directory(config.authorized_keys, error)) {
    problem("security.authorized_keys",
            config.authorized_keys +
                (fs::exists(config.authorized_keys, error) ? " is not a folder" : " does not exist") +
                "; allowed: a folder of client public keys (*.key)");
    return problems;
  }
  for (const auto& entry : fs::directory_iterator(config.authorized_keys, error)) {
    if (entry.path().extension() != kPublicKeySuffix) continue;
    if (Result<std::string> key = ReadKeyFile(entry.path().string()); !key.ok()) {
      problem("security.authorized_keys", key.status().message());
    }
  }
  if (error)
    problem("security.authorized_keys", "cannot list " + config.authorized_keys + ": " + error.message());
  return problems;
}

const char* PlainLinksWarning() {
  return "security.mode is none: the links between nodes are neither encrypted nor authenticated, so anyone "
         "who reaches this node's ports can read transactions or forge results; use security.mode curve "
         "beyond a single-host demo (docs/operations.md, \"Securing the links\")";
}

}  // namespace scorepipe
