// PLACEHOLDER — replaced by the owner of this command.
#include "cli/commands.h"
namespace hearth::cli {
void add_synth_command(CLI::App& app, int& exit_code) { (void)app; (void)exit_code; }
}  // namespace hearth::cli
