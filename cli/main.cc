// scorepipe: the one command for people. Each subcommand lives in its
// cli/<name>_command file; this lists them. `bridge|ventilator|worker|sink|
// gateway|train-demo` run the role programs that sit beside this one (as
// `git <command>` does).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/check_command.h"
#include "cli/command.h"
#include "cli/dataset_command.h"
#include "cli/demo_command.h"
#include "cli/evaluate_command.h"
#include "cli/install_command.h"
#include "cli/keys_command.h"
#include "cli/model_command.h"
#include "cli/push_command.h"
#include "cli/status_command.h"
#include "cli/train_command.h"
#include "cli/up_command.h"
#include "proto/build_info.h"

namespace {

// `scorepipe worker ...` runs `scorepipe-worker ...`.
int ExecRole(const std::string& role, int argc, char** argv) {
  std::string program = scorepipe::BinDir() + "/scorepipe-" + role;
  std::vector<char*> args = {program.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(program.c_str(), args.data());
  std::fprintf(stderr, "scorepipe: cannot run %s: %s\n", program.c_str(), std::strerror(errno));
  return 127;
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* role : {"bridge", "ventilator", "worker", "sink", "gateway", "train-demo"}) {
    if (argc >= 2 && std::strcmp(argv[1], role) == 0) return ExecRole(role, argc, argv);
  }
  CLI::App app{
      "scorepipe: real-time fraud scoring of payment transactions on a ZeroMQ cluster.\n"
      "Node programs (each also runs alone, e.g. on another host):\n"
      "  scorepipe bridge|ventilator|worker|sink -c FILE   (see `scorepipe worker --help`)\n"
      "  scorepipe gateway -c FILE                         (online scoring over HTTP: docs/gateway.md)\n"
      "  scorepipe train-demo --out DIR                    (fit the demo XGBoost model)"};
  app.set_version_flag("--version", scorepipe::VersionLine("scorepipe"),
                       "prints the version, the commit and the build type, and exits");
  app.require_subcommand(1);
  const std::vector<scorepipe::Command> commands = {
      scorepipe::AddUpCommand(app),     scorepipe::AddDemoCommand(app),     scorepipe::AddPushCommand(app),
      scorepipe::AddStatusCommand(app), scorepipe::AddInstallCommand(app),  scorepipe::AddKeygenCommand(app),
      scorepipe::AddKeysCommand(app),   scorepipe::AddModelCommand(app),    scorepipe::AddDatasetCommand(app),
      scorepipe::AddTrainCommand(app),  scorepipe::AddEvaluateCommand(app), scorepipe::AddCheckCommand(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help, or what is wrong with the command line
    return code == 0 ? 0 : 2;
  }
  for (const scorepipe::Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  return 2;  // require_subcommand(1) leaves no way here
}
