#include "config/yaml_util.h"

namespace scorepipe {

Status YamlErrorAt(const std::string& name, const YAML::Mark& mark, const std::string& what) {
  if (mark.is_null() || mark.line < 0) return Status::Error(name + ": " + what);
  return Status::Error(name + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
                       ": " + what);
}

Status ReadYamlMapping(const std::string& name, const YAML::Node& node, const std::string& path,
                       std::initializer_list<const char*> allowed, YamlFields* out) {
  const std::string prefix = path.empty() ? "" : path + ": ";
  std::string allowed_list;
  for (const char* key : allowed) {
    if (!allowed_list.empty()) allowed_list += ", ";
    allowed_list += key;
  }
  if (!node.IsMap()) {
    return YamlErrorAt(name, node, prefix + "expected a mapping with keys " + allowed_list);
  }
  out->clear();
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      return YamlErrorAt(name, kv.first, prefix + "unknown key '" + key + "'; allowed: " + allowed_list);
    }
    if (!out->emplace(key, kv.second).second) {
      return YamlErrorAt(name, kv.first, prefix + "key '" + key + "' appears twice");
    }
  }
  return Status::Ok();
}

Result<YAML::Node> ParseYaml(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return YamlErrorAt(name, e.mark, "invalid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return Status::Error(name + ": the file is empty");
  return root;
}

}  // namespace scorepipe
