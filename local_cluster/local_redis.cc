#include "local_cluster/local_redis.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "queue/redis_client.h"

namespace scorepipe {
namespace {

constexpr int kStartAttempts = 5;
constexpr auto kReadyTimeout = std::chrono::seconds(10);

// True when the server on `port` answers PING and is the process `pid`: a
// port taken by another server before ours could bind it answers too.
bool Answers(int port, pid_t pid, const std::string& password_file) {
  RedisConfig config;
  config.port = port;
  config.password_file = password_file;
  config.connect_timeout_ms = 200;
  RedisClient client(config);
  auto replies = client.Pipeline({{"PING"}, {"INFO", "server"}});
  if (!replies.ok()) return false;
  const std::string own = "\nprocess_id:" + std::to_string(pid) + "\r\n";
  return ReplyText(replies.value()[1].get()).find(own) != std::string_view::npos;
}

}  // namespace

namespace {

// Binds 127.0.0.1:`port` (0: any) and lets go: the port it got, or 0.
int TryPort(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof(address);
  const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  return bound ? static_cast<int>(ntohs(address.sin_port)) : 0;
}

}  // namespace

Result<int> PortToTry(int configured) {
  if (configured != 0) return configured;
  return FindFreePort();
}

Result<int> FindFreePort() {
  // Below Linux's ephemeral range (32768..60999 by default), where the
  // kernel picks the local port of every outgoing connection: a port from
  // that range can be taken by any client's connect between this check and
  // the bind that follows it (a node's metrics port was, once in a few
  // thousand runs). A random start spreads parallel test processes.
  constexpr int kFirst = 20000;
  constexpr int kCount = 12000;
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  const int start = static_cast<int>(rng() % kCount);
  for (int i = 0; i < 200; ++i) {
    if (int port = TryPort(kFirst + (start + i * 7919) % kCount); port != 0) return port;
  }
  if (int port = TryPort(0); port != 0) return port;  // the kernel's choice, as a last resort
  return Status::Error(std::string("cannot find a free port: ") + std::strerror(errno));
}

Result<std::string> FindProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  // Debian installs redis-server under /usr/bin, but a root shell may lack /usr/sbin etc.
  for (const char* fallback : {"/usr/bin/", "/usr/sbin/", "/usr/local/bin/"}) {
    std::string candidate = fallback + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return Status::Error(program + " not found on PATH (install it: apt-get install redis-server)");
}

Result<std::unique_ptr<LocalRedis>> LocalRedis::Start(const LocalRedisOptions& options) {
  Result<std::string> server = FindProgram(options.server);
  if (!server.ok()) return server.status();
  std::string password_file;
  if (!options.password.empty()) {
    password_file = options.dir + "/redis.password";
    std::ofstream(password_file) << options.password << "\n";
    std::filesystem::permissions(password_file,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  std::string last_error = "no attempt made";
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    Result<int> port_to_try = PortToTry(options.port);
    if (!port_to_try.ok()) return port_to_try.status();
    const int port = port_to_try.value();
    std::vector<std::string> argv = {server.value(),
                                     "--port",
                                     std::to_string(port),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     options.dir,
                                     "--save",
                                     "",
                                     "--appendonly",
                                     options.append_only ? "yes" : "no",
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     "redis-" + std::to_string(port) + ".log"};
    if (!options.password.empty()) argv.insert(argv.end(), {"--requirepass", options.password});
    Result<ChildProcess> child = ChildProcess::Start(argv);
    if (!child.ok()) return child.status();
    const auto until = std::chrono::steady_clock::now() + kReadyTimeout;
    while (child->Running() && std::chrono::steady_clock::now() < until) {
      if (Answers(port, child->pid(), password_file)) {
        return std::unique_ptr<LocalRedis>(new LocalRedis(std::move(child.value()), port, password_file));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    last_error = "redis-server on port " + std::to_string(port) + " did not come up (see " + options.dir +
                 "/redis-" + std::to_string(port) + ".log)";
    child->Stop(std::chrono::seconds(1));
    if (options.port != 0) break;  // a fixed port will not get better
  }
  return Status::Error(last_error);
}

LocalRedis::~LocalRedis() { Stop(); }

void LocalRedis::Stop() { process_.Stop(std::chrono::seconds(5)); }

}  // namespace scorepipe
