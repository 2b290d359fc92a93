// ZeroMQ CURVE for the links between nodes: key pairs and their files, the
// socket options that make a socket a CURVE server or client, and the ZAP
// authenticator that lets only listed client keys in.
//
// Key files hold one Z85 key (40 characters) and a newline: "<name>.key" the
// public key, "<name>.key_secret" the secret one (mode 0600). A topology
// names files, never keys. The authorized-keys folder holds one public key
// file per client ("*.key"); it is read again for every new connection, so
// adding a worker host's key needs no restart.
//
// Free functions: any thread. A ZapAuthenticator runs its own thread on the
// context it is given and stops when destroyed.
#ifndef SCOREPIPE_RUNTIME_CURVE_H_
#define SCOREPIPE_RUNTIME_CURVE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <zmq.hpp>

#include "proto/status.h"

namespace scorepipe {

constexpr size_t kCurveKeyChars = 40;  // Z85 of 32 bytes
// A key pair's files: "<prefix>.key" (public) and "<prefix>.key_secret".
constexpr std::string_view kPublicKeySuffix = ".key";
constexpr std::string_view kSecretKeySuffix = ".key_secret";

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

Result<CurveKeyPair> NewCurveKeyPair();

// Writes `<prefix>.key` and `<prefix>.key_secret` (0600), each fsync()ed,
// then fsyncs their folder: once it returns, a crash keeps the pair. Refuses
// to overwrite either, and says which exists.
Status WriteKeyPair(const std::string& prefix, const CurveKeyPair& pair);
// The public key file beside a secret key file: "x.key_secret" -> "x.key"
// (any other name: "<name>.pub").
std::string PublicKeyPathOf(const std::string& secret_path);
// Reads a key file: one Z85 key; an error names the file and what is wrong.
Result<std::string> ReadKeyFile(const std::string& path);
// Reads `<prefix>.key_secret` and `<prefix>.key`; the secret file must not be
// readable by group or others.
Result<CurveKeyPair> ReadKeyPair(const std::string& secret_path);

// Makes `socket` a CURVE server with `own` keys (before bind), or a client
// that accepts only the server holding `server_public_key` (before connect).
Status MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& own);
Status MakeCurveClient(zmq::socket_t& socket, const CurveKeyPair& own, const std::string& server_public_key);

// CURVE connections this process refused, or was refused by a server, by
// reason: what every node exports as scorepipe_curve_refused_total{side,
// reason} (runtime/process_metrics.h). The ZAP handler counts the server
// side, every HandshakeWatch the client side. Thread-safe.
enum class CurveRefusal : uint8_t {
  kKeyNotAuthorized = 0,  // server: a client key not in security.authorized_keys
  kMalformedRequest = 1,  // server: a ZAP request that is not a well-formed CURVE one
  kOwnKeyRefused = 2,     // client: the server refused this host's key
  kServerKeyMismatch =
      3,               // client: the handshake broke off (the server holds another key than the pinned one)
  kProtocolError = 4,  // client: a ZMTP protocol error during the handshake
};
inline constexpr size_t kCurveRefusalKinds = 5;
struct CurveRefusalLabels {
  std::string_view side;    // "server" | "client"
  std::string_view reason;  // "key_not_authorized", "malformed_request", "own_key_refused", ...
};
CurveRefusalLabels LabelsOf(CurveRefusal refusal);
void CountCurveRefusal(CurveRefusal refusal);
uint64_t CurveRefusals(CurveRefusal refusal);

// The ZAP handler of a context: accepts a CURVE client whose public key is
// `own_public_key` (the server's own, so that the head's nodes reach each
// other) or is in one of the `*.key` files of `authorized_dir`; refuses every
// other (logged, at a limited rate, with its address). Start it before the
// context's server sockets bind; one per context.
class ZapAuthenticator {
 public:
  static Result<std::unique_ptr<ZapAuthenticator>> Start(zmq::context_t& context, std::string authorized_dir,
                                                         std::string own_public_key = "");
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  uint64_t accepted() const { return accepted_; }
  uint64_t refused() const { return refused_; }

 private:
  ZapAuthenticator(zmq::context_t& context, std::string authorized_dir, std::string own_public_key);
  void Loop(zmq::socket_t handler);
  bool Authorized(const std::string& client_key) const;

  zmq::context_t& context_;
  const std::string authorized_dir_;
  const std::string own_public_key_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

// Follows a client socket's link to its server, so that a node can say more
// than "the server is silent" and can tell a link ZeroMQ will mend by itself
// from one it will not: it watches the socket's connections and handshakes
// (a ZeroMQ socket monitor). A refused key and a server that holds another
// key than the one pinned then read differently from a server that is down.
//
// After a failed handshake libzmq does not connect that socket again (the
// connection is dropped for good), so a refused link stays refused until the
// owner builds a new socket (runtime/client_link.h does).
//
// Owned by the thread that owns the socket. Watch() before connecting; destroy
// the watch before the socket.
class HandshakeWatch : private zmq::monitor_t {
 public:
  enum class LinkState {
    kConnecting,  // no handshake yet, or the last connection dropped: ZeroMQ retries by itself
    kUp,          // the last handshake succeeded and the connection holds
    kRefused,     // the last handshake failed: ZeroMQ does not retry this socket
  };

  HandshakeWatch() = default;
  ~HandshakeWatch() override = default;
  HandshakeWatch(const HandshakeWatch&) = delete;
  HandshakeWatch& operator=(const HandshakeWatch&) = delete;

  // `peer` names the server in messages ("the ventilator"); `own_public_key`
  // is empty for a plain (non-CURVE) socket.
  Status Watch(zmq::socket_t& socket, std::string peer, std::string own_public_key);
  // Reads the events so far: what went wrong with the last handshake, or
  // nothing (no failure since the last success, or nothing watched).
  std::optional<std::string> Failure();
  // Reads the events so far; kConnecting when nothing is watched.
  LinkState State();

 private:
  void on_event_handshake_succeeded(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_no_detail(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_protocol(const zmq_event_t& event, const char* address) override;
  void on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) override;
  void on_event_disconnected(const zmq_event_t& event, const char* address) override;
  void ReadEvents();

  bool watching_ = false;
  bool up_ = false;
  std::string peer_;
  std::string own_public_key_;
  std::optional<std::string> failure_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_RUNTIME_CURVE_H_
