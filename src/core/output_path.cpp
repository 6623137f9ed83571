#include "core/output_path.h"

#include <unistd.h>

#include <system_error>

#include <fmt/format.h>

namespace hearth {

Status check_output_path(const std::filesystem::path& out, const std::filesystem::path& source,
                         std::string_view source_role) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(out, source, ec))
    return Error{fmt::format("output {} is the {} file; choose another name", out.string(), source_role)};
  if (std::filesystem::is_directory(out, ec))
    return Error{fmt::format("cannot write {}: it is a directory", out.string())};
  std::filesystem::path dir = out.parent_path();
  if (dir.empty()) dir = ".";
  if (!std::filesystem::is_directory(dir, ec))
    return Error{fmt::format("cannot write {}: directory {} does not exist", out.string(), dir.string())};
  if (::access(dir.c_str(), W_OK) != 0)
    return Error{fmt::format("cannot write {}: directory {} is not writable", out.string(), dir.string())};
  return {};
}

}  // namespace hearth
