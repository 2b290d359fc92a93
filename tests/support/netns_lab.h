// NetnsLab: hosts made of Linux network namespaces, for the fault tests that
// put workers on "other machines" and cut or degrade their links.
//
// The head (Redis and the bridge, ventilator and sink) stays in this
// process's namespace. Create() adds a Linux bridge device here with the
// address head_address(), and one namespace per worker host, each joined to
// the bridge by a veth pair and given its own address on the same /24, so
// every host reaches the head's one address. A host's link is cut by setting
// its veth end on the bridge down, and degraded with tc (netem delay and
// loss; where the kernel has no netem, a rate-limited htb link plus random
// loss from iptables' statistic match, and Degrade() says which).
//
// Names carry this process's pid, so runs never collide, and the destructor
// removes everything it made (also after a failed test); Create() first
// removes what a run that was killed left behind. Needs root and `ip`.
//
// Owned by one test; use from the test's thread.
#ifndef SCOREPIPE_TESTS_SUPPORT_NETNS_LAB_H_
#define SCOREPIPE_TESTS_SUPPORT_NETNS_LAB_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "proto/status.h"

namespace scorepipe::testing {

class NetnsLab {
 public:
  struct Host {
    std::string ns;          // network namespace name
    std::string address;     // its address on the lab's /24
    std::string head_link;   // its veth end on the head's bridge (cut here)
    std::string inner_link;  // its veth end inside the namespace
    bool iptables_loss = false;
  };

  // Why namespaces cannot be made here (not root, no `ip`, not permitted),
  // or empty when they can.
  static std::string WhyUnavailable();
  static Result<std::unique_ptr<NetnsLab>> Create(int hosts);
  ~NetnsLab();
  NetnsLab(const NetnsLab&) = delete;
  NetnsLab& operator=(const NetnsLab&) = delete;

  const std::string& head_address() const { return head_address_; }
  const std::vector<Host>& hosts() const { return hosts_; }

  // `argv` run inside host `host`'s namespace (ip netns exec: same pid).
  std::vector<std::string> InHost(size_t host, const std::vector<std::string>& argv) const;
  // Cuts (`up` false) or restores host `host`'s link to the head.
  Status SetLink(size_t host, bool up);
  // Adds `delay` and `loss_percent` packet loss to both directions of the
  // host's link; returns what was applied, for the test's log.
  Result<std::string> Degrade(size_t host, std::chrono::milliseconds delay, double loss_percent);
  // Takes back what Degrade() added.
  Status Restore(size_t host);

 private:
  NetnsLab() = default;
  // Runs a command to its end; its output is the error message when it fails.
  Status Run(const std::vector<std::string>& argv);
  // For undoing: there being nothing to undo (any more) is fine.
  void RunBestEffort(const std::vector<std::string>& argv);
  Status Build(int hosts);
  void TearDown();

  std::filesystem::path dir_;  // command output
  std::string ip_;             // path of `ip`
  std::string prefix_;         // of every name this lab makes
  std::string bridge_;
  std::string head_address_;
  std::vector<Host> hosts_;
};

}  // namespace scorepipe::testing

#endif  // SCOREPIPE_TESTS_SUPPORT_NETNS_LAB_H_
