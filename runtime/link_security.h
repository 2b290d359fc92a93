// How a node secures its ZeroMQ links, from the topology's `security`
// section: with CURVE, the node's key pair and the head's public key are read
// once at start and put on each socket before it binds (server) or connects
// (client); a server node also runs the ZAP handler that lets only the
// authorized client keys in. With `none`, every call leaves the socket plain.
//
// A value type: load it once, then use it from the thread that owns the
// sockets (the socket calls only read it).
#ifndef SCOREPIPE_RUNTIME_LINK_SECURITY_H_
#define SCOREPIPE_RUNTIME_LINK_SECURITY_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "config/topology.h"
#include "proto/status.h"
#include "runtime/curve.h"

namespace scorepipe {

class LinkSecurity {
 public:
  LinkSecurity() = default;  // plain links

  // Reads the key files `config` names (nothing for mode none); an error
  // names the file and what is wrong with it.
  static Result<LinkSecurity> Load(const SecurityConfig& config);

  bool curve() const { return curve_; }
  // This node's public key (empty for plain links).
  const std::string& public_key() const { return own_.public_key; }

  // Before bind: a CURVE server with this node's keys.
  Status Server(zmq::socket_t& socket) const;
  // Before connect: a CURVE client that talks only to the head.
  Status Client(zmq::socket_t& socket) const;
  // The ZAP handler of a server node's context (nullptr for plain links).
  // Call once per context, before the first Server() socket binds.
  Result<std::unique_ptr<ZapAuthenticator>> Authenticate(zmq::context_t& context) const;

  // Server() then bind, Client() then connect; an error names `endpoint`.
  Status BindAsServer(zmq::socket_t& socket, const std::string& endpoint) const;
  Status ConnectAsClient(zmq::socket_t& socket, const std::string& endpoint) const;

 private:
  bool curve_ = false;
  CurveKeyPair own_;
  std::string server_key_;
  std::string authorized_dir_;
};

// What a server node (the ventilator, the sink) does first: Load(config),
// then Authenticate(context), the handler kept in *zap for the node's life.
Result<LinkSecurity> LoadServerSecurity(const SecurityConfig& config, zmq::context_t& context,
                                        std::unique_ptr<ZapAuthenticator>* zap);

// Every problem with the key files `topology.security` names, each placed
// at its topology key ("cluster.yaml:93: security.secret_key: ..."):
// missing or unreadable files, a directory, a public key named as the
// secret one, a secret key readable by others, a pair whose halves do not
// match. `server` (the ventilator and the sink, which bind) also checks that
// its own public key is the one security.server_key names and that
// security.authorized_keys is a folder whose *.key files hold keys. Empty
// for security.mode none, or when all is well. Reads files only.
std::vector<std::string> CheckSecurityFiles(const Topology& topology, bool server);

// The warning a node logs at start when its links are plain.
const char* PlainLinksWarning();

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_LINK_SECURITY_H_
