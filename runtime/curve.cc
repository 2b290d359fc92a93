#include "runtime/curve.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "durable/dir.h"
#include "runtime/node.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "scorepipe";
constexpr int kZapPollMs = 100;

bool IsZ85Key(const std::string& key) {
  if (key.size() != kCurveKeyChars) return false;
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, key.c_str()) != nullptr;
}

// Creates a key file, never overwriting one someone relies on.
Status WriteNew(const std::string& path, const std::string& text, mode_t mode) {
  Result<bool> created = CreateNewFile(path, text, FileOptions{.mode = mode});
  if (!created.ok()) return created.status();
  if (!created.value()) return Status::Error(path + " exists; refusing to overwrite a key file");
  return Status::Ok();
}

Status SetOption(zmq::socket_t& socket, int option, const void* value, size_t size, const char* name) {
  if (zmq_setsockopt(socket.handle(), option, value, size) != 0) {
    return Status::Error(std::string("cannot set ") + name + ": " + zmq_strerror(zmq_errno()));
  }
  return Status::Ok();
}

}  // namespace

std::string PublicKeyPathOf(const std::string& secret_path) {
  if (!secret_path.ends_with(kSecretKeySuffix)) return secret_path + ".pub";
  return secret_path.substr(0, secret_path.size() - kSecretKeySuffix.size()) + std::string(kPublicKeySuffix);
}

Result<CurveKeyPair> NewCurveKeyPair() {
  char public_key[kCurveKeyChars + 1];
  char secret_key[kCurveKeyChars + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Status WriteKeyPair(const std::string& prefix, const CurveKeyPair& pair) {
  const std::string public_path = prefix + std::string(kPublicKeySuffix);
  const std::string secret_path = prefix + std::string(kSecretKeySuffix);
  for (const std::string& path : {public_path, secret_path}) {
    if (fs::exists(path)) return Status::Error(path + " exists; refusing to overwrite a key file");
  }
  if (Status s = WriteNew(secret_path, pair.secret_key + "\n", 0600); !s.ok()) return s;
  if (Status s = WriteNew(public_path, pair.public_key + "\n", 0644); !s.ok()) return s;
  // The two names are durable only once their folder is: a crash must not
  // leave a host whose next start makes a second pair that nobody authorized.
  const fs::path folder = fs::path(secret_path).parent_path();
  return SyncDir(folder.empty() ? "." : folder.string());
}

Result<std::string> ReadKeyFile(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    return Status::Error(path + " is a directory; allowed: a key file, as `scorepipe keygen` writes");
  }
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read key file " + path + ": " + std::strerror(errno));
  std::string key;
  std::getline(in, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  if (!IsZ85Key(key)) {
    return Status::Error("key file " + path + " does not hold a CURVE key (one line of " +
                         std::to_string(kCurveKeyChars) + " Z85 characters, as `scorepipe keygen` writes)");
  }
  return key;
}

Result<CurveKeyPair> ReadKeyPair(const std::string& secret_path) {
  struct stat info {};
  if (::stat(secret_path.c_str(), &info) != 0) {
    return Status::Error("cannot read key file " + secret_path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) {
    return Status::Error(secret_path + " is a directory; allowed: a secret key file (<name>" +
                         std::string(kSecretKeySuffix) + ", as `scorepipe keygen` writes)");
  }
  if (secret_path.ends_with(kPublicKeySuffix)) {
    const std::string prefix = secret_path.substr(0, secret_path.size() - kPublicKeySuffix.size());
    return Status::Error(secret_path + " is a public key file, not a secret one: name its secret half, " +
                         prefix + std::string(kSecretKeySuffix));
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::Error("secret key file " + secret_path + " is readable by others; chmod 600 it");
  }
  Result<std::string> secret = ReadKeyFile(secret_path);
  if (!secret.ok()) return secret.status();
  Result<std::string> pub = ReadKeyFile(PublicKeyPathOf(secret_path));
  if (!pub.ok()) return pub.status();
  char derived[kCurveKeyChars + 1];
  if (zmq_curve_public(derived, secret.value().c_str()) != 0 || pub.value() != derived) {
    return Status::Error("the public key " + PublicKeyPathOf(secret_path) + " is not the public half of " +
                         secret_path + " (their pair is " + derived +
                         "): keep the two files of one pair together");
  }
  return CurveKeyPair{pub.value(), secret.value()};
}

Status MakeCurveServer(zmq::socket_t& socket, const CurveKeyPair& own) {
  const int on = 1;
  if (Status s = SetOption(socket, ZMQ_CURVE_SERVER, &on, sizeof on, "ZMQ_CURVE_SERVER"); !s.ok()) return s;
  if (Status s = SetOption(socket, ZMQ_CURVE_SECRETKEY, own.secret_key.c_str(), kCurveKeyChars + 1,
                           "ZMQ_CURVE_SECRETKEY");
      !s.ok()) {
    return s;
  }
  return SetOption(socket, ZMQ_ZAP_DOMAIN, kZapDomain, std::strlen(kZapDomain), "ZMQ_ZAP_DOMAIN");
}

Status MakeCurveClient(zmq::socket_t& socket, const CurveKeyPair& own, const std::string& server_public_key) {
  if (Status s = SetOption(socket, ZMQ_CURVE_SERVERKEY, server_public_key.c_str(), kCurveKeyChars + 1,
                           "ZMQ_CURVE_SERVERKEY");
      !s.ok()) {
    return s;
  }
  if (Status s = SetOption(socket, ZMQ_CURVE_PUBLICKEY, own.public_key.c_str(), kCurveKeyChars + 1,
                           "ZMQ_CURVE_PUBLICKEY");
      !s.ok()) {
    return s;
  }
  return SetOption(socket, ZMQ_CURVE_SECRETKEY, own.secret_key.c_str(), kCurveKeyChars + 1,
                   "ZMQ_CURVE_SECRETKEY");
}

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, std::string authorized_dir,
                                   std::string own_public_key)
    : context_(context),
      authorized_dir_(std::move(authorized_dir)),
      own_public_key_(std::move(own_public_key)) {}

Result<std::unique_ptr<ZapAuthenticator>> ZapAuthenticator::Start(zmq::context_t& context,
                                                                  std::string authorized_dir,
                                                                  std::string own_public_key) {
  std::error_code error;
  if (!fs::is_directory(authorized_dir, error)) {
    return Status::Error("authorized keys folder " + authorized_dir + " is not a folder");
  }
  std::unique_ptr<ZapAuthenticator> auth(
      new ZapAuthenticator(context, std::move(authorized_dir), std::move(own_public_key)));
  zmq::socket_t handler(context, zmq::socket_type::rep);
  handler.set(zmq::sockopt::linger, 0);
  if (Status s = BindSocket(handler, kZapEndpoint); !s.ok()) return s.WithContext("starting the ZAP handler");
  auth->thread_ = std::thread([a = auth.get(), h = std::move(handler)]() mutable { a->Loop(std::move(h)); });
  return auth;
}

ZapAuthenticator::~ZapAuthenticator() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool ZapAuthenticator::Authorized(const std::string& client_key) const {
  if (!own_public_key_.empty() && client_key == own_public_key_) return true;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(authorized_dir_, error)) {
    if (entry.path().extension() != ".key") continue;
    Result<std::string> key = ReadKeyFile(entry.path().string());
    if (key.ok() && key.value() == client_key) return true;
  }
  return false;
}

namespace {

std::atomic<uint64_t> g_curve_refusals[kCurveRefusalKinds];

}  // namespace

CurveRefusalLabels LabelsOf(CurveRefusal refusal) {
  switch (refusal) {
    case CurveRefusal::kKeyNotAuthorized:
      return {"server", "key_not_authorized"};
    case CurveRefusal::kMalformedRequest:
      return {"server", "malformed_request"};
    case CurveRefusal::kOwnKeyRefused:
      return {"client", "own_key_refused"};
    case CurveRefusal::kServerKeyMismatch:
      return {"client", "server_key_mismatch"};
    case CurveRefusal::kProtocolError:
      return {"client", "protocol_error"};
  }
  return {"?", "?"};
}

void CountCurveRefusal(CurveRefusal refusal) {
  g_curve_refusals[static_cast<size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t CurveRefusals(CurveRefusal refusal) {
  return g_curve_refusals[static_cast<size_t>(refusal)].load(std::memory_order_relaxed);
}

void ZapAuthenticator::Loop(zmq::socket_t handler) {
  RateLimitedLog refused_log;
  while (!stop_) {
    zmq::pollitem_t item{handler.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(kZapPollMs)) == 0) continue;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      if (e.num() == ETERM) return;
      throw;
    }
    std::vector<zmq::message_t> request;
    while (true) {
      zmq::message_t part;
      if (!handler.recv(part, zmq::recv_flags::dontwait)) break;
      const bool more = part.more();
      request.push_back(std::move(part));
      if (!more) break;
    }
    // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
    std::string status = "400";
    std::string text = "malformed ZAP request";
    const std::string address = request.size() > 3 ? request[3].to_string() : "?";
    if (request.size() >= 7 && request[0].to_string() == "1.0" && request[5].to_string() == "CURVE" &&
        request[6].size() == 32) {
      char client[kCurveKeyChars + 1];
      zmq_z85_encode(client, static_cast<const uint8_t*>(request[6].data()), 32);
      if (Authorized(client)) {
        status = "200";
        text = "OK";
      } else {
        text = "key not authorized";
        uint64_t held_back = 0;
        if (refused_log.ShouldLog(&held_back)) {
          spdlog::warn(
              "refused a connection from {}: its CURVE key {} is not in {} ({} more since the last report)",
              address.empty() ? "a local (ipc) peer" : address, client, authorized_dir_, held_back);
        }
      }
    }
    (status == "200" ? accepted_ : refused_) += 1;
    if (status != "200") {
      CountCurveRefusal(text == "key not authorized" ? CurveRefusal::kKeyNotAuthorized
                                                     : CurveRefusal::kMalformedRequest);
    }
    const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
    handler.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
    handler.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    handler.send(zmq::buffer(status), zmq::send_flags::sndmore);
    handler.send(zmq::buffer(text), zmq::send_flags::sndmore);
    handler.send(zmq::buffer(std::string()), zmq::send_flags::sndmore);  // user id
    handler.send(zmq::buffer(std::string()), zmq::send_flags::none);     // metadata
  }
}

Status HandshakeWatch::Watch(zmq::socket_t& socket, std::string peer, std::string own_public_key) {
  static std::atomic<uint64_t> watches{0};
  const std::string address = "inproc://scorepipe-handshake-" + std::to_string(++watches);
  peer_ = std::move(peer);
  own_public_key_ = std::move(own_public_key);
  try {
    init(socket, address,
         ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED);
  } catch (const zmq::error_t& e) {
    return Status::Error("cannot watch the handshakes with " + peer_ + ": " + e.what());
  }
  watching_ = true;
  return Status::Ok();
}

void HandshakeWatch::ReadEvents() {
  if (!watching_) return;
  while (check_event(0)) {
  }
}

std::optional<std::string> HandshakeWatch::Failure() {
  ReadEvents();
  return failure_;
}

HandshakeWatch::LinkState HandshakeWatch::State() {
  ReadEvents();
  if (failure_) return LinkState::kRefused;
  return up_ ? LinkState::kUp : LinkState::kConnecting;
}

void HandshakeWatch::on_event_handshake_succeeded(const zmq_event_t&, const char*) {
  failure_.reset();
  up_ = true;
}

// A drop after a failed handshake leaves the link refused: ZeroMQ does not
// connect again.
void HandshakeWatch::on_event_disconnected(const zmq_event_t&, const char*) { up_ = false; }

void HandshakeWatch::on_event_handshake_failed_no_detail(const zmq_event_t&, const char* address) {
  up_ = false;
  CountCurveRefusal(CurveRefusal::kServerKeyMismatch);
  failure_ =
      "the CURVE handshake with " + peer_ + " at " + address +
      " broke off: the server there does not hold the secret half of the key security.server_key names "
      "(or is not a scorepipe node)";
}

void HandshakeWatch::on_event_handshake_failed_protocol(const zmq_event_t& event, const char* address) {
  up_ = false;
  CountCurveRefusal(CurveRefusal::kProtocolError);
  char code[16];
  std::snprintf(code, sizeof code, "0x%x", static_cast<unsigned>(event.value));
  failure_ = "the CURVE handshake with " + peer_ + " at " + address + " failed: ZMTP protocol error " + code;
}

void HandshakeWatch::on_event_handshake_failed_auth(const zmq_event_t& event, const char* address) {
  up_ = false;
  CountCurveRefusal(CurveRefusal::kOwnKeyRefused);
  failure_ = peer_ + " at " + address + " refused this host's CURVE key " + own_public_key_ + " (status " +
             std::to_string(event.value) + "): add it to the head's security.authorized_keys folder";
}

}  // namespace scorepipe
