// What every `scorepipe` subcommand is: registered on the command line by
// its *_command file (Add<Name>Command), and run when it was the one given.
// cli/main.cc only lists them.
//
// A Command owns the options its subcommand fills (through `run`), so it
// must live until after the parse. Main thread only.
#ifndef SCOREPIPE_CLI_COMMAND_H_
#define SCOREPIPE_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>

namespace scorepipe {

struct Command {
  CLI::App* app = nullptr;   // the subcommand: app->parsed() says it was given
  std::function<int()> run;  // runs it; returns the exit code
};

// The folder of the running program: scorepipe-<role> sit beside it.
std::string BinDir();

// --seed and --first-id: which synthetic stream `push` and `dataset` take.
void AddStreamOptions(CLI::App* command, uint64_t& seed, int64_t& first_id);

}  // namespace scorepipe

#endif  // SCOREPIPE_CLI_COMMAND_H_
