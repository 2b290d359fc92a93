#include "tests/support/netns_lab.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "local_cluster/child_process.h"
#include "local_cluster/local_redis.h"

namespace scorepipe::testing {
namespace {

namespace fs = std::filesystem;

// Every name a lab makes starts with this and its creator's pid.
constexpr char kPrefix[] = "spf";
constexpr auto kCommandTimeout = std::chrono::seconds(20);
// The rate of a degraded link where the kernel has no netem: slow enough that
// frames queue (delay), fast enough that work still flows.
constexpr char kFallbackRate[] = "4mbit";

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `argv` to its end with its output in `log`; the output is the result,
// or the error message when it fails.
Result<std::string> Capture(const std::vector<std::string>& argv, const fs::path& log) {
  std::error_code ignored;
  fs::remove(log, ignored);
  Result<ChildProcess> child = ChildProcess::Start(argv, log.string());
  if (!child.ok()) return child.status();
  if (!child->WaitFor(kCommandTimeout)) {
    child->Stop(std::chrono::seconds(1));
    return Status::Error(Join(argv) + ": still running after " + std::to_string(kCommandTimeout.count()) +
                         " s");
  }
  std::string output = ReadFile(log);
  if (child->exit_code() != 0) {
    return Status::Error(Join(argv) + ": exit code " + std::to_string(child->exit_code().value_or(-1)) +
                         ": " + output);
  }
  return output;
}

// The pid in a name this code made ("spf<pid>..."), if it is one.
std::optional<pid_t> CreatorPid(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const std::string digits = name.substr(sizeof(kPrefix) - 1);
  const long pid = std::atol(digits.c_str());
  if (pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

bool Alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

// The first word of each line of `text`, with a trailing ':' and any "@peer"
// cut off ("3: spf1h1@if2: <...>" -> "spf1h1" with `field` 1).
std::vector<std::string> Words(const std::string& text, size_t field) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string word;
    for (size_t i = 0; i <= field && words >> word; ++i) {
    }
    word = word.substr(0, word.find('@'));
    if (!word.empty() && word.back() == ':') word.pop_back();
    if (!word.empty()) out.push_back(word);
  }
  return out;
}

}  // namespace

std::string NetnsLab::WhyUnavailable() {
  if (geteuid() != 0) return "network namespaces need root; running as uid " + std::to_string(geteuid());
  Result<std::string> ip = FindProgram("ip");
  if (!ip.ok()) return "no `ip` program (apt-get install iproute2)";
  char pattern[] = "/tmp/scorepipe-netns-probe-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return "cannot create a temporary directory";
  const fs::path log = fs::path(pattern) / "probe.log";
  const std::string name = kPrefix + std::to_string(getpid()) + "probe";
  std::string why;
  if (Result<std::string> added = Capture({ip.value(), "netns", "add", name}, log); !added.ok()) {
    why = "cannot create a network namespace: " + added.status().message();
  } else {
    static_cast<void>(Capture({ip.value(), "netns", "del", name}, log));
  }
  std::error_code ignored;
  fs::remove_all(pattern, ignored);
  return why;
}

Result<std::unique_ptr<NetnsLab>> NetnsLab::Create(int hosts) {
  static int labs = 0;  // labs this process made, for distinct names
  std::unique_ptr<NetnsLab> lab(new NetnsLab());
  Result<std::string> ip = FindProgram("ip");
  if (!ip.ok()) return ip.status();
  lab->ip_ = ip.value();
  char pattern[] = "/tmp/scorepipe-netns-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return Status::Error("cannot create a temporary directory");
  lab->dir_ = pattern;
  lab->prefix_ = kPrefix + std::to_string(getpid()) + static_cast<char>('a' + labs++ % 26);
  if (Status s = lab->Build(hosts); !s.ok()) return s.WithContext("building the network namespace lab");
  return lab;
}

Status NetnsLab::Run(const std::vector<std::string>& argv) {
  return Capture(argv, dir_ / "command.log").status();
}

void NetnsLab::RunBestEffort(const std::vector<std::string>& argv) { static_cast<void>(Run(argv)); }

Status NetnsLab::Build(int hosts) {
  const fs::path log = dir_ / "command.log";
  // What killed runs left behind: their names carry a pid that is gone.
  if (Result<std::string> spaces = Capture({ip_, "netns", "list"}, log); spaces.ok()) {
    for (const std::string& ns : Words(spaces.value(), 0)) {
      std::optional<pid_t> creator = CreatorPid(ns);
      if (creator && !Alive(*creator)) RunBestEffort({ip_, "netns", "del", ns});
    }
  }
  if (Result<std::string> links = Capture({ip_, "-o", "link", "show"}, log); links.ok()) {
    for (const std::string& link : Words(links.value(), 1)) {
      std::optional<pid_t> creator = CreatorPid(link);
      if (creator && !Alive(*creator)) RunBestEffort({ip_, "link", "del", link});
    }
  }
  // A /24 in 10.213.0.0/16 that no address here uses yet.
  Result<std::string> addresses = Capture({ip_, "-o", "-4", "addr", "show"}, log);
  if (!addresses.ok()) return addresses.status();
  std::string subnet;
  for (int i = 0; i < 250 && subnet.empty(); ++i) {
    const std::string candidate = "10.213." + std::to_string((getpid() + i) % 250 + 1) + ".";
    if (addresses->find(candidate) == std::string::npos) subnet = candidate;
  }
  if (subnet.empty()) return Status::Error("every 10.213.x.0/24 is in use here");

  bridge_ = prefix_ + "br";
  head_address_ = subnet + "1";
  if (Status s = Run({ip_, "link", "add", bridge_, "type", "bridge"}); !s.ok()) return s;
  for (const std::vector<std::string>& step :
       std::vector<std::vector<std::string>>{{ip_, "addr", "add", head_address_ + "/24", "dev", bridge_},
                                             {ip_, "link", "set", bridge_, "up"}}) {
    if (Status s = Run(step); !s.ok()) return s;
  }
  for (int i = 1; i <= hosts; ++i) {
    Host host;
    host.ns = prefix_ + "-w" + std::to_string(i);
    host.address = subnet + std::to_string(10 + i);
    host.head_link = prefix_ + "h" + std::to_string(i);
    host.inner_link = prefix_ + "n" + std::to_string(i);
    hosts_.push_back(host);  // before it exists: the teardown removes what part of it was made
    for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
             {ip_, "netns", "add", host.ns},
             {ip_, "link", "add", host.head_link, "type", "veth", "peer", "name", host.inner_link},
             {ip_, "link", "set", host.inner_link, "netns", host.ns},
             {ip_, "link", "set", host.head_link, "master", bridge_},
             {ip_, "link", "set", host.head_link, "up"},
             {ip_, "-n", host.ns, "addr", "add", host.address + "/24", "dev", host.inner_link},
             {ip_, "-n", host.ns, "link", "set", host.inner_link, "up"},
             {ip_, "-n", host.ns, "link", "set", "lo", "up"}}) {
      if (Status s = Run(step); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

NetnsLab::~NetnsLab() { TearDown(); }

void NetnsLab::TearDown() {
  if (!ip_.empty()) {
    for (const Host& host : hosts_) {
      RunBestEffort({ip_, "link", "del", host.head_link});  // takes its peer in the namespace along
      RunBestEffort({ip_, "netns", "del", host.ns});
    }
    if (!bridge_.empty()) RunBestEffort({ip_, "link", "del", bridge_});
  }
  std::error_code ignored;
  if (!dir_.empty()) fs::remove_all(dir_, ignored);
}

std::vector<std::string> NetnsLab::InHost(size_t host, const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {ip_, "netns", "exec", hosts_.at(host).ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Status NetnsLab::SetLink(size_t host, bool up) {
  return Run({ip_, "link", "set", hosts_.at(host).head_link, up ? "up" : "down"});
}

Result<std::string> NetnsLab::Degrade(size_t host, std::chrono::milliseconds delay, double loss_percent) {
  Host& h = hosts_.at(host);
  Result<std::string> tc = FindProgram("tc");
  if (!tc.ok()) return tc.status();
  char loss[32];
  std::snprintf(loss, sizeof loss, "%g%%", loss_percent);
  const std::string delay_text = std::to_string(delay.count()) + "ms";
  Status netem = Run({tc.value(), "qdisc", "replace", "dev", h.head_link, "root", "netem", "delay",
                      delay_text, "loss", loss});
  if (netem.ok()) {
    if (Status s = Run(InHost(host, {tc.value(), "qdisc", "replace", "dev", h.inner_link, "root", "netem",
                                     "delay", delay_text, "loss", loss}));
        !s.ok()) {
      return s;
    }
    return "tc netem delay " + delay_text + " loss " + loss + " on both ends of the link";
  }
  // No netem (a kernel built without sch_netem): a slow link makes frames
  // queue, and iptables drops packets at random.
  const size_t error_at = netem.message().rfind("Error: ");
  std::string reason = error_at == std::string::npos ? netem.message() : netem.message().substr(error_at + 7);
  reason = reason.substr(0, reason.find('\n'));
  std::string applied = "no tc netem (" + reason + "); instead htb " + kFallbackRate + " both ways";
  for (const std::vector<std::string>& step : std::vector<std::vector<std::string>>{
           {tc.value(), "qdisc", "replace", "dev", h.head_link, "root", "handle", "1:", "htb", "default",
            "1"},
           {tc.value(), "class", "replace", "dev", h.head_link, "parent", "1:", "classid", "1:1", "htb",
            "rate", kFallbackRate},
           InHost(host, {tc.value(), "qdisc", "replace", "dev", h.inner_link, "root", "handle", "1:", "htb",
                         "default", "1"}),
           InHost(host, {tc.value(), "class", "replace", "dev", h.inner_link, "parent", "1:", "classid",
                         "1:1", "htb", "rate", kFallbackRate})}) {
    if (Status s = Run(step); !s.ok()) return s;
  }
  Result<std::string> iptables = FindProgram("iptables");
  if (!iptables.ok()) return applied + "; no packet loss (no iptables: apt-get install iptables)";
  const std::string probability = std::to_string(loss_percent / 100.0);
  for (const char* chain : {"INPUT", "OUTPUT"}) {
    if (Status s = Run(InHost(host, {iptables.value(), "-A", chain, "-m", "statistic", "--mode", "random",
                                     "--probability", probability, "-j", "DROP"}));
        !s.ok()) {
      return s;
    }
    h.iptables_loss = true;
  }
  return applied + " + iptables statistic loss " + loss + " both ways";
}

Status NetnsLab::Restore(size_t host) {
  Host& h = hosts_.at(host);
  Result<std::string> tc = FindProgram("tc");
  if (!tc.ok()) return tc.status();
  // Nothing to delete is fine: the link may not have been degraded.
  RunBestEffort({tc.value(), "qdisc", "del", "dev", h.head_link, "root"});
  RunBestEffort(InHost(host, {tc.value(), "qdisc", "del", "dev", h.inner_link, "root"}));
  if (!h.iptables_loss) return Status::Ok();
  Result<std::string> iptables = FindProgram("iptables");
  if (!iptables.ok()) return iptables.status();
  h.iptables_loss = false;
  return Run(InHost(host, {iptables.value(), "-F"}));
}

}  // namespace scorepipe::testing
