#include "cli/preflight.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <zmq.hpp>

#include "config/token_file.h"
#include "proto/codec.h"
#include "runtime/curve.h"
#include "runtime/link_security.h"
#include "runtime/node.h"
#include "scoring/feature_spec.h"
#include "scoring/model_watcher.h"

namespace scorepipe {
namespace {

void Add(std::vector<std::string>* problems, std::vector<std::string> more) {
  for (std::string& problem : more) {
    if (std::find(problems->begin(), problems->end(), problem) == problems->end()) {
      problems->push_back(std::move(problem));
    }
  }
}

// The model's files, each at its own key, then the model loaded as a worker
// loads it (registry versions included).
void CheckModel(const Topology& topology, std::vector<std::string>* problems) {
  namespace fs = std::filesystem;
  const ModelConfig& model = topology.model;
  // The usual cause of a missing file: a copied topology whose relative
  // paths now start elsewhere.
  const std::string relative_hint =
      topology.source.empty()
          ? ""
          : " (relative paths start at the topology file's folder, " +
                fs::absolute(topology.source).parent_path().lexically_normal().string() + ")";
  const size_t before = problems->size();
  std::error_code error;
  if (!model.registry.empty()) {
    if (!fs::is_directory(model.registry, error)) {
      problems->push_back(KeyPlace(topology, "model.registry") + ": " + model.registry + " is not a folder" +
                          relative_hint);
    }
  } else {
    for (const char* key : {"model.path", "model.features"}) {
      const std::string& path = std::string_view(key) == "model.path" ? model.path : model.features;
      if (fs::is_directory(path, error)) {
        problems->push_back(KeyPlace(topology, key) + ": " + path + " is a directory, not a file");
      } else if (!fs::exists(path, error)) {
        problems->push_back(KeyPlace(topology, key) + ": " + path + " does not exist" + relative_hint);
      }
    }
  }
  if (problems->size() > before) return;
  if (Result<StartingModel> loaded = LoadModelOf(model); !loaded.ok()) {
    problems->push_back(KeyPlace(topology, model.registry.empty() ? "model.path" : "model.registry") +
                        ": cannot load the model: " + loaded.status().message());
  }
}

// OpenSSL's last error, for a message ("no start line", ...).
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no detail";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// The gateway's TLS certificate and key as its HTTP server loads them (PEM):
// each readable and parsed, the key the certificate's, the certificate not
// expired.
void CheckTlsPair(const Topology& topology, std::vector<std::string>* problems) {
  const GatewayConfig& g = topology.gateway;
  std::unique_ptr<X509, X509Deleter> cert;
  if (std::unique_ptr<std::FILE, FileCloser> f(std::fopen(g.tls_cert_file.c_str(), "r")); !f) {
    problems->push_back(KeyPlace(topology, "gateway.tls_cert_file") + ": cannot read " + g.tls_cert_file +
                        ": " + std::strerror(errno));
  } else if (cert.reset(PEM_read_X509(f.get(), nullptr, nullptr, nullptr)); !cert) {
    problems->push_back(KeyPlace(topology, "gateway.tls_cert_file") + ": " + g.tls_cert_file +
                        " holds no PEM certificate (" + OpenSslError() + ")");
  } else if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    problems->push_back(KeyPlace(topology, "gateway.tls_cert_file") + ": the certificate in " +
                        g.tls_cert_file + " has expired");
  }
  std::unique_ptr<EVP_PKEY, KeyDeleter> key;
  if (std::unique_ptr<std::FILE, FileCloser> f(std::fopen(g.tls_key_file.c_str(), "r")); !f) {
    problems->push_back(KeyPlace(topology, "gateway.tls_key_file") + ": cannot read " + g.tls_key_file +
                        ": " + std::strerror(errno));
  } else if (key.reset(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr)); !key) {
    problems->push_back(KeyPlace(topology, "gateway.tls_key_file") + ": " + g.tls_key_file +
                        " holds no PEM private key without a passphrase (" + OpenSslError() + ")");
  }
  if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    problems->push_back(KeyPlace(topology, "gateway.tls_key_file") + ": the key in " + g.tls_key_file +
                        " is not the one of the certificate in " + g.tls_cert_file);
  }
}

// What a gateway reads at start: its TLS and token files, and with
// `features` the model's features (the tensor's columns).
void CheckGatewayFiles(const Topology& topology, bool features, std::vector<std::string>* problems) {
  const GatewayConfig& g = topology.gateway;
  if (g.security == GatewaySecurity::kTls) {
    std::string unset;
    for (const auto& [key, value] : {std::pair{"gateway.tls_cert_file", &g.tls_cert_file},
                                     std::pair{"gateway.tls_key_file", &g.tls_key_file},
                                     std::pair{"gateway.tokens_file", &g.tokens_file}}) {
      if (value->empty()) unset += std::string(unset.empty() ? "" : ", ") + key;
    }
    if (!unset.empty()) {
      problems->push_back(KeyPlace(topology, "gateway.security") + ": tls needs " + unset +
                          " (or gateway.security: none, for a single-host demo)");
    }
    if (!g.tls_cert_file.empty() && !g.tls_key_file.empty()) CheckTlsPair(topology, problems);
    if (!g.tokens_file.empty()) {
      if (Result<std::vector<std::string>> tokens = LoadTokenFile(g.tokens_file); !tokens.ok()) {
        problems->push_back(KeyPlace(topology, "gateway.tokens_file") + ": " + tokens.status().message());
      }
    }
  }
  if (!g.admin_tokens_file.empty()) {
    if (Result<std::vector<AdminToken>> admins = LoadAdminTokenFile(g.admin_tokens_file); !admins.ok()) {
      problems->push_back(KeyPlace(topology, "gateway.admin_tokens_file") + ": " + admins.status().message());
    }
    if (topology.model.registry.empty()) {
      problems->push_back(KeyPlace(topology, "gateway.admin_tokens_file") +
                          ": model administration works on a registry, and model.registry is not set");
    }
  }
  if (!features) return;
  Result<ModelConfig> model = ResolveModel(topology.model);
  if (!model.ok()) {
    problems->push_back(KeyPlace(topology, "model.registry") + ": " + model.status().message());
  } else if (Result<FeatureSpec> spec = LoadFeatureSpecFile(model->features); !spec.ok()) {
    problems->push_back(
        KeyPlace(topology, topology.model.registry.empty() ? "model.features" : "model.registry") +
        ": the gateway cannot load the features: " + spec.status().message());
  }
}

// gateway.address:port can be bound now (and is released at once).
void ProbeGatewayPort(const Topology& topology, std::vector<std::string>* problems) {
  const GatewayConfig& g = topology.gateway;
  const std::string where = g.address + ":" + std::to_string(g.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (const int error = ::getaddrinfo(g.address.c_str(), std::to_string(g.port).c_str(), &hints, &found);
      error != 0) {
    problems->push_back(KeyPlace(topology, "gateway.address") + ": cannot resolve " + g.address + ": " +
                        gai_strerror(error));
    return;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  if (fd < 0) {
    problems->push_back(KeyPlace(topology, "gateway.port") +
                        ": cannot open a socket: " + std::strerror(errno));
    return;
  }
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // as the gateway's acceptor does
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
    const int error = errno;
    problems->push_back(
        KeyPlace(topology, "gateway.port") + ": cannot bind " + where + ": " + std::strerror(error) +
        (error == EADDRINUSE ? " (another program, or a gateway already running here, holds it)"
         : error == EACCES   ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)"
                             : ""));
  }
  ::close(fd);
}

// Asks the ventilator's gateway endpoint once, as a gateway does: a
// heartbeat on a DEALER, answered with a HeadStatus.
void ProbeHead(const Topology& topology, std::chrono::milliseconds timeout,
               std::vector<std::string>* problems) {
  using Clock = std::chrono::steady_clock;
  const std::string& endpoint = topology.ventilator.gateways.connect;
  const std::string place = KeyPlace(topology, "ventilator.gateway_connect");
  Result<LinkSecurity> security = LinkSecurity::Load(topology.security);
  if (!security.ok()) return;  // the key files' problems are listed already
  const std::string no_answer =
      "the ventilator at " + endpoint + " did not answer a gateway's heartbeat within " +
      std::to_string(timeout.count()) + " ms: is the head running and reachable from here?" +
      (security->curve() ? " Is this host's key (security.secret_key) authorized on the head?" : "");
  try {
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    HandshakeWatch watch;
    if (security->curve()) {
      if (Status s = watch.Watch(socket, "the ventilator", security->public_key()); !s.ok()) {
        problems->push_back(place + ": " + s.message());
        return;
      }
    }
    if (Status s = security->ConnectAsClient(socket, endpoint); !s.ok()) {
      problems->push_back(place + ": " + s.message());
      return;
    }
    Heartbeat beat;
    beat.sender = "scorepipe-check";
    beat.host = HostName();
    beat.pid = static_cast<int64_t>(::getpid());
    beat.session = NewSession();
    beat.sequence = 1;
    beat.sent_at_us = NowUnixMicros();
    const std::string encoded = Encode(beat);
    socket.send(zmq::buffer(encoded), zmq::send_flags::dontwait);
    const auto deadline = Clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (std::optional<std::string> refused = watch.Failure()) {
        problems->push_back(place + ": " + *refused);
        return;
      }
      if (left.count() <= 0) {
        problems->push_back(place + ": " + no_answer);
        return;
      }
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::min(left, std::chrono::milliseconds(100)));
      zmq::message_t reply;
      if (!socket.recv(reply, zmq::recv_flags::dontwait)) continue;
      if (Result<HeadStatus> head = DecodeHeadStatus(reply.to_string_view()); !head.ok()) {
        problems->push_back(place + ": what answered at " + endpoint +
                            " is not a scorepipe ventilator: " + head.status().message());
      }
      return;
    }
  } catch (const zmq::error_t& e) {
    problems->push_back(place + ": asking the ventilator at " + endpoint + ": " + e.what());
  }
}

}  // namespace

std::vector<std::string> Preflight(const Topology& topology, PreflightScope scope) {
  std::vector<std::string> problems;
  if (scope.head) Add(&problems, CheckSecurityFiles(topology, /*server=*/true));
  if (scope.worker || scope.gateway) Add(&problems, CheckSecurityFiles(topology, /*server=*/false));
  if (scope.worker) CheckModel(topology, &problems);
  const std::string& password_file = topology.queue.redis.password_file;
  if (scope.head && !password_file.empty() && !std::ifstream(password_file)) {
    problems.push_back(KeyPlace(topology, "queue.redis.password_file") + ": cannot read " + password_file);
  }
  if (scope.gateway) {
    std::vector<std::string> gateway;
    // A worker's model check covers the features already.
    CheckGatewayFiles(topology, /*features=*/!scope.worker, &gateway);
    Add(&problems, std::move(gateway));
  }
  if (scope.gateway && scope.probe) {
    std::vector<std::string> probed;
    ProbeGatewayPort(topology, &probed);
    ProbeHead(topology, scope.probe_timeout, &probed);
    Add(&problems, std::move(probed));
  }
  return problems;
}

}  // namespace scorepipe
