#include "local_cluster/local_postgres.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include "local_cluster/local_redis.h"

namespace scorepipe {
namespace {

namespace fs = std::filesystem;

constexpr auto kReadyTimeout = std::chrono::seconds(60);
constexpr auto kInitdbTimeout = std::chrono::seconds(120);
constexpr int kStartAttempts = 3;

// The newest /usr/lib/postgresql/<major>/bin that holds initdb, or "".
std::string DebianBinDir() {
  std::error_code ec;
  int best = -1;
  std::string found;
  for (const fs::directory_entry& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
      continue;
    if (!fs::exists(entry.path() / "bin" / "initdb")) continue;
    const int major = std::stoi(name);
    if (major > best) {
      best = major;
      found = (entry.path() / "bin").string();
    }
  }
  return found;
}

Result<std::string> Program(const std::string& bin_dir, const std::string& name) {
  if (!bin_dir.empty()) {
    const std::string path = bin_dir + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
    return Status::Error("PostgreSQL's " + name + " is not at " + path +
                         " (Debian's postgresql package installs it: bash scripts/setup.sh)");
  }
  Result<std::string> found = FindProgram(name);
  if (!found.ok()) {
    return Status::Error("PostgreSQL's " + name +
                         " is not installed (Debian's postgresql package: bash scripts/setup.sh)");
  }
  return found;
}

std::string Quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Runs a program to its end; an error with its log when it fails.
Status RunToEnd(const std::vector<std::string>& argv, const std::string& log_path,
                std::chrono::milliseconds timeout) {
  Result<ChildProcess> child = ChildProcess::Start(argv, log_path);
  if (!child.ok()) return child.status();
  if (!child->WaitFor(timeout)) {
    child->Stop(std::chrono::seconds(1));
    return Status::Error(argv[0] + " did not finish within " + std::to_string(timeout.count()) + " ms (see " +
                         log_path + ")");
  }
  if (child->exit_code() != 0) {
    return Status::Error(argv[0] + " failed with exit code " +
                         std::to_string(child->exit_code().value_or(-1)) + " (see " + log_path + ")");
  }
  return Status::Ok();
}

// The words before a PostgreSQL program that drop root to `user` (setpriv,
// keeping the parent-death signal every ChildProcess has); none unless this
// process is root.
Result<std::vector<std::string>> AsUser(const std::string& user) {
  if (::geteuid() != 0) return std::vector<std::string>{};
  const passwd* entry = ::getpwnam(user.c_str());
  if (entry == nullptr) {
    return Status::Error("PostgreSQL refuses to run as root, and there is no user '" + user +
                         "' to run it as (Debian's postgresql package creates 'postgres')");
  }
  return std::vector<std::string>{"/usr/bin/setpriv",
                                  "--reuid=" + std::to_string(entry->pw_uid),
                                  "--regid=" + std::to_string(entry->pw_gid),
                                  "--init-groups",
                                  "--pdeathsig=SIGINT",
                                  "--"};
}

}  // namespace

LocalPostgres::LocalPostgres(LocalPostgresOptions options, std::string bin_dir, std::string data_dir,
                             int port)
    : options_(std::move(options)),
      bin_dir_(std::move(bin_dir)),
      data_dir_(std::move(data_dir)),
      socket_dir_(data_dir_),
      port_(port) {}

Result<std::unique_ptr<LocalPostgres>> LocalPostgres::Start(const LocalPostgresOptions& options) {
  if (options.dir.empty() || !fs::is_directory(options.dir)) {
    return Status::Error("LocalPostgres: the directory '" + options.dir + "' does not exist");
  }
  const std::string bin_dir = options.bin_dir.empty() ? DebianBinDir() : options.bin_dir;
  Result<std::string> initdb = Program(bin_dir, "initdb");
  if (!initdb.ok()) return initdb.status();
  const std::string data_dir = fs::absolute(options.dir).string() + "/pg";

  Result<std::vector<std::string>> as = AsUser(options.user);  // empty unless root
  if (!as.ok()) return as.status();
  if (!as->empty()) {
    // The user gets the data folder and must reach it: the directory above
    // becomes traversable.
    const passwd* user = ::getpwnam(options.user.c_str());
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) return Status::Error("cannot make " + data_dir + ": " + ec.message());
    fs::permissions(options.dir, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add, ec);
    if (ec) return Status::Error("cannot open " + options.dir + " to " + options.user + ": " + ec.message());
    if (user == nullptr || ::chown(data_dir.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return Status::Error("cannot give " + data_dir + " to " + options.user + ": " + std::strerror(errno));
    }
  }

  const bool fresh = !fs::exists(data_dir + "/PG_VERSION");
  if (fresh) {
    std::vector<std::string> argv = as.value();
    argv.insert(argv.end(), {initdb.value(), "--pgdata=" + data_dir, "--username=postgres", "--auth=trust",
                             "--encoding=UTF8", "--no-locale", "--no-instructions"});
    if (Status s = RunToEnd(argv, options.dir + "/pg-initdb.log", kInitdbTimeout); !s.ok()) {
      return Status::Error("initdb: " + s.message());
    }
  }

  std::string last_error = "no attempt made";
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    Result<int> port_to_try = PortToTry(options.port);
    if (!port_to_try.ok()) return port_to_try.status();
    const int port = port_to_try.value();
    std::unique_ptr<LocalPostgres> server(new LocalPostgres(options, bin_dir, data_dir, port));
    Status launched = server->Launch(/*wait_for_old=*/false);
    if (!launched.ok()) {
      last_error = launched.message();
      if (options.port != 0) break;  // a fixed port will not get better
      continue;
    }
    if (fresh) {
      PGconn* admin = PQconnectdb(server->conninfo("postgres").c_str());
      std::string why;
      if (PQstatus(admin) != CONNECTION_OK) {
        why = PQerrorMessage(admin);
      } else {
        PGresult* r = PQexec(admin, ("CREATE DATABASE \"" + options.database + "\"").c_str());
        if (PQresultStatus(r) != PGRES_COMMAND_OK) why = PQresultErrorMessage(r);
        PQclear(r);
      }
      PQfinish(admin);
      if (!why.empty()) return Status::Error("cannot create database " + options.database + ": " + why);
    }
    return server;
  }
  return Status::Error(last_error);
}

Status LocalPostgres::Launch(bool wait_for_old) {
  Result<std::string> postgres = Program(bin_dir_, "postgres");
  if (!postgres.ok()) return postgres.status();
  Result<std::vector<std::string>> as = AsUser(options_.user);
  if (!as.ok()) return as.status();
  std::vector<std::string> argv = std::move(as).value();
  argv.insert(argv.end(), {postgres.value(), "-D", data_dir_, "-p", std::to_string(port_), "-k", socket_dir_,
                           "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=60"});
  const std::string log = options_.dir + "/pg-" + std::to_string(port_) + ".log";
  // A server killed a moment ago may leave backends that still hold its
  // shared memory for a little while: the new one waits for them.
  const auto until = std::chrono::steady_clock::now() + kReadyTimeout;
  while (std::chrono::steady_clock::now() < until) {
    Result<ChildProcess> child = ChildProcess::Start(argv, log);
    if (!child.ok()) return child.status();
    const std::string info = conninfo();
    while (child->Running() && std::chrono::steady_clock::now() < until) {
      if (PQping(info.c_str()) == PQPING_OK) {
        process_.emplace(std::move(child).value());
        return Status::Ok();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (child->Running()) {
      child->Stop(std::chrono::seconds(2));
      break;
    }
    if (!wait_for_old) break;  // a new server that exits: the log says why
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Status::Error("the PostgreSQL server on port " + std::to_string(port_) + " did not come up (see " +
                       log + ")");
}

LocalPostgres::~LocalPostgres() { Stop(); }

std::string LocalPostgres::conninfo(const std::string& database) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + Quote(database) +
         " user=postgres connect_timeout=5";
}

void LocalPostgres::Stop() {
  if (!process_) return;
  process_->Signal(SIGINT);
  if (!process_->WaitFor(std::chrono::seconds(20))) process_->Stop(std::chrono::seconds(1));
  process_.reset();
}

void LocalPostgres::Kill() {
  if (!process_) return;
  process_->Signal(SIGKILL);
  process_->WaitFor(std::chrono::seconds(10));
  process_.reset();
}

Status LocalPostgres::Restart() {
  Stop();
  return Launch(/*wait_for_old=*/true);
}

}  // namespace scorepipe
