#include "cli/command.h"

#include <filesystem>
#include <system_error>

namespace scorepipe {

std::string BinDir() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string(".") : self.parent_path().string();
}

void AddStreamOptions(CLI::App* command, uint64_t& seed, int64_t& first_id) {
  command->add_option("--seed", seed, "seed of the synthetic stream (same seed, same transactions)")
      ->capture_default_str();
  command->add_option("--first-id", first_id, "id of the first transaction; the rest count up")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace scorepipe
