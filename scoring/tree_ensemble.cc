#include "scoring/tree_ensemble.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

namespace scorepipe {
namespace {

namespace od = simdjson::ondemand;

// Rows scored together, one tree at a time: at most kMaxBlockRows, and at
// most kScratchFloats values (the block, column-major, on the stack).
constexpr size_t kMaxBlockRows = 256;
constexpr size_t kScratchFloats = 8192;
// Rows walked in lockstep through a tree: independent chains of loads that
// the CPU overlaps (12 measured best on a Zen 3 core: 8 leaves it waiting,
// 16 spills registers).
constexpr size_t kRowLanes = 12;
// Trees are laid out complete, kTreeLanes of them in one binary heap (tree t
// rooted at position kTreeLanes - 1 + t): a row walks the trees of a group at
// once from one base address. A power of 2.
constexpr size_t kTreeLanes = 8;
// The complete layout bounds the depth of a tree and the nodes in all.
constexpr int kMaxTreeDepth = 12;
constexpr size_t kMaxPositions = size_t{1} << 26;

constexpr std::string_view kObjective = "binary:logistic";

// XGBoost's common::Sigmoid(float), operation for operation.
inline float XgboostSigmoid(float margin) {
  constexpr float kEps = 1e-16f;
  const float x = std::min(-margin, 88.7f);
  const float denom = std::exp(x) + 1.0f + kEps;
  return 1.0f / denom;
}

// ---------------------------------------------------------------------------
// Reading the JSON (simdjson On-Demand, which keeps each number's text, so
// that floats are read straight from it as float32, rounded once).

Status JsonError(const std::string& where, simdjson::error_code error) {
  return Status::Error(where + ": " + simdjson::error_message(error));
}

std::string Join(const std::string& where, std::string_view key) {
  return where.empty() ? std::string(key) : where + "." + std::string(key);
}

Status FindObject(od::object& parent, const std::string& where, std::string_view key, od::object* out) {
  if (simdjson::error_code e = parent.find_field_unordered(key).get_object().get(*out)) {
    return JsonError(Join(where, key), e);
  }
  return Status::Ok();
}

Status FindString(od::object& parent, const std::string& where, std::string_view key, std::string* out) {
  std::string_view text;
  if (simdjson::error_code e = parent.find_field_unordered(key).get_string().get(text)) {
    return JsonError(Join(where, key), e);
  }
  out->assign(text);
  return Status::Ok();
}

// A float32 from its decimal text (trailing whitespace allowed), rounded once
// (std::from_chars), as XGBoost reads it; false if the text is not one.
bool ParseFloat(std::string_view text, float* out) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  const std::from_chars_result r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

Status ParseInt(std::string_view text, const std::string& where, int64_t* out) {
  const std::from_chars_result r = std::from_chars(text.data(), text.data() + text.size(), *out);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return Status::Error(where + ": '" + std::string(text) + "' is not an integer");
  }
  return Status::Ok();
}

// XGBoost keeps its model parameters as strings ("num_class": "0").
Status FindIntString(od::object& parent, const std::string& where, std::string_view key, int64_t* out) {
  std::string text;
  if (Status s = FindString(parent, where, key, &text); !s.ok()) return s;
  return ParseInt(text, Join(where, key), out);
}

// Calls read(value, where_it_is) for each element of the array `key`;
// where_it_is() names the element ("where.key[i]") for an error.
template <typename ReadElement>
Status ForEachElement(od::object& parent, const std::string& where, std::string_view key, ReadElement read) {
  const std::string field = Join(where, key);
  od::array array;
  if (simdjson::error_code e = parent.find_field_unordered(key).get_array().get(array)) {
    return JsonError(field, e);
  }
  size_t index = 0;
  for (simdjson::simdjson_result<od::value> element : array) {
    const auto where_it_is = [&field, index] { return field + "[" + std::to_string(index) + "]"; };
    od::value value;
    if (simdjson::error_code e = element.get(value)) return JsonError(where_it_is(), e);
    if (Status s = read(value, where_it_is); !s.ok()) return s;
    ++index;
  }
  return Status::Ok();
}

Status FindFloatArray(od::object& parent, const std::string& where, std::string_view key,
                      std::vector<float>* out) {
  out->clear();
  return ForEachElement(parent, where, key, [out](od::value& value, const auto& where_it_is) {
    float number = 0;
    if (!ParseFloat(value.raw_json_token(), &number)) {
      return Status::Error(where_it_is() + ": '" + std::string(value.raw_json_token()) +
                           "' is not a float32 number");
    }
    out->push_back(number);
    return Status::Ok();
  });
}

// Integers, or booleans read as 0/1 (older models write default_left so).
Status FindIntArray(od::object& parent, const std::string& where, std::string_view key,
                    std::vector<int64_t>* out) {
  out->clear();
  return ForEachElement(parent, where, key, [out](od::value& value, const auto& where_it_is) {
    od::json_type type;
    if (simdjson::error_code e = value.type().get(type)) return JsonError(where_it_is(), e);
    if (type == od::json_type::boolean) {
      bool flag = false;
      if (simdjson::error_code e = value.get_bool().get(flag)) return JsonError(where_it_is(), e);
      out->push_back(flag ? 1 : 0);
      return Status::Ok();
    }
    int64_t number = 0;
    if (simdjson::error_code e = value.get_int64().get(number)) return JsonError(where_it_is(), e);
    out->push_back(number);
    return Status::Ok();
  });
}

}  // namespace

// One tree's arrays, as the JSON holds them.
struct TreeEnsemble::JsonTree {
  std::vector<int64_t> left;
  std::vector<int64_t> right;
  std::vector<int64_t> split_index;
  std::vector<float> split_condition;
  std::vector<int64_t> default_left;
  std::vector<int64_t> split_type;
};

namespace {

using JsonTree = TreeEnsemble::JsonTree;

Status ReadTree(od::object& tree, const std::string& where, JsonTree* out) {
  if (Status s = FindIntArray(tree, where, "left_children", &out->left); !s.ok()) return s;
  if (Status s = FindIntArray(tree, where, "right_children", &out->right); !s.ok()) return s;
  if (Status s = FindIntArray(tree, where, "split_indices", &out->split_index); !s.ok()) return s;
  if (Status s = FindFloatArray(tree, where, "split_conditions", &out->split_condition); !s.ok()) {
    return s;
  }
  if (Status s = FindIntArray(tree, where, "default_left", &out->default_left); !s.ok()) return s;
  if (Status s = FindIntArray(tree, where, "split_type", &out->split_type); !s.ok()) return s;
  od::object param;
  if (Status s = FindObject(tree, where, "tree_param", &param); !s.ok()) return s;
  int64_t num_nodes = 0;
  int64_t size_leaf_vector = 0;
  if (Status s = FindIntString(param, where + ".tree_param", "num_nodes", &num_nodes); !s.ok()) {
    return s;
  }
  if (Status s = FindIntString(param, where + ".tree_param", "size_leaf_vector", &size_leaf_vector);
      !s.ok()) {
    return s;
  }
  if (size_leaf_vector > 1) {
    return Status::Error(where + ": vector leaves (size_leaf_vector " + std::to_string(size_leaf_vector) +
                         ") are not supported");
  }
  const size_t n = out->left.size();
  if (num_nodes < 1 || static_cast<size_t>(num_nodes) != n || out->right.size() != n ||
      out->split_index.size() != n || out->split_condition.size() != n || out->default_left.size() != n ||
      out->split_type.size() != n) {
    return Status::Error(where + ": the node arrays' lengths (" + std::to_string(n) + ", " +
                         std::to_string(out->right.size()) + ", " + std::to_string(out->split_index.size()) +
                         ", " + std::to_string(out->split_condition.size()) + ", " +
                         std::to_string(out->default_left.size()) + ", " +
                         std::to_string(out->split_type.size()) + ") differ from tree_param.num_nodes " +
                         std::to_string(num_nodes));
  }
  return Status::Ok();
}

// Walks the tree from its root and returns the depth of its deepest leaf, or
// why the evaluator cannot take the tree. Nodes the walk does not reach
// (deleted ones) are not looked at.
Result<int> CheckTree(const JsonTree& tree, size_t num_features, const std::string& where) {
  const auto n = static_cast<int64_t>(tree.left.size());
  std::vector<char> reached(static_cast<size_t>(n), 0);
  std::vector<std::pair<int64_t, int>> stack = {{0, 0}};  // (node, depth)
  int depth = 0;
  while (!stack.empty()) {
    const auto [i, d] = stack.back();
    stack.pop_back();
    const auto k = static_cast<size_t>(i);
    const std::string node_where = where + " node " + std::to_string(i);
    if (reached[k]) return Status::Error(node_where + ": reached twice; not a tree");
    reached[k] = 1;
    depth = std::max(depth, d);
    if (tree.left[k] == -1) continue;  // a leaf
    if (tree.split_type[k] != 0) {
      return Status::Error(node_where + ": categorical split (split_type " +
                           std::to_string(tree.split_type[k]) + ") is not supported");
    }
    if (tree.left[k] < 1 || tree.left[k] + 1 >= n) {
      return Status::Error(node_where + ": left child " + std::to_string(tree.left[k]) +
                           " is not a node of the tree");
    }
    // libxgboost takes the right child as left + 1 (GetNextNode), whatever
    // right_children says; a model where they differ is ambiguous.
    if (tree.right[k] != tree.left[k] + 1) {
      return Status::Error(node_where + ": right child " + std::to_string(tree.right[k]) +
                           " is not left child + 1 (" + std::to_string(tree.left[k] + 1) + ")");
    }
    if (tree.split_index[k] < 0 || tree.split_index[k] >= static_cast<int64_t>(num_features)) {
      return Status::Error(node_where + ": split feature " + std::to_string(tree.split_index[k]) +
                           " is not in [0, " + std::to_string(num_features) + ")");
    }
    if (std::isnan(tree.split_condition[k])) {
      return Status::Error(node_where + ": split condition is NaN");
    }
    stack.emplace_back(tree.left[k], d + 1);
    stack.emplace_back(tree.left[k] + 1, d + 1);
  }
  return depth;
}

}  // namespace

// ---------------------------------------------------------------------------
// Building

Result<TreeEnsemble> TreeEnsemble::FromXgboostJson(std::string_view json) {
  const simdjson::padded_string padded(json.data(), json.size());
  od::parser parser;
  od::document doc;
  // On-Demand reads only what it is asked for, so a first pass walks the
  // whole text: a truncated or damaged model is refused wherever the damage
  // is. (Not the strict DOM parser: XGBoost writes NaN, not valid JSON, as
  // the split condition of a categorical split.)
  {
    std::string_view whole;
    if (simdjson::error_code e = parser.iterate(padded).get(doc)) return JsonError("model JSON", e);
    if (simdjson::error_code e = doc.raw_json().get(whole)) return JsonError("model JSON", e);
    // `whole` points into `padded`.
    const char* after = whole.data() + whole.size();
    const std::string_view rest(after, static_cast<size_t>(padded.data() + padded.size() - after));
    if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return Status::Error("model JSON: text after the model's closing brace");
    }
  }
  if (simdjson::error_code e = parser.iterate(padded).get(doc)) return JsonError("model JSON", e);
  od::object root;
  if (simdjson::error_code e = doc.get_object().get(root)) return JsonError("model JSON", e);
  od::object learner;
  if (Status s = FindObject(root, "", "learner", &learner); !s.ok()) return s;

  TreeEnsemble ensemble;

  // learner_model_param: base_score, num_class, num_feature, num_target.
  {
    const std::string where = "learner.learner_model_param";
    od::object param;
    if (Status s = FindObject(learner, "learner", "learner_model_param", &param); !s.ok()) return s;
    std::string base_score_text;
    if (Status s = FindString(param, where, "base_score", &base_score_text); !s.ok()) return s;
    float base_score = 0;
    if (!ParseFloat(base_score_text, &base_score)) {
      return Status::Error(where + ".base_score: '" + base_score_text + "' is not a float32 number");
    }
    if (!(base_score > 0.0f && base_score < 1.0f)) {
      return Status::Error(where + ".base_score: " + base_score_text +
                           " is outside (0, 1), which binary:logistic requires");
    }
    // LogisticRegression::ProbToMargin, in float.
    ensemble.base_margin_ = -std::log(1.0f / base_score - 1.0f);
    int64_t num_class = 0;
    if (Status s = FindIntString(param, where, "num_class", &num_class); !s.ok()) return s;
    if (num_class > 1) {
      return Status::Error(where + ".num_class: " + std::to_string(num_class) +
                           " classes; only binary models (0 or 1) are supported");
    }
    int64_t num_feature = 0;
    if (Status s = FindIntString(param, where, "num_feature", &num_feature); !s.ok()) return s;
    if (num_feature < 1 || num_feature > std::numeric_limits<int32_t>::max()) {
      return Status::Error(where + ".num_feature: " + std::to_string(num_feature) +
                           " is out of range [1, 2^31)");
    }
    if (num_feature > static_cast<int64_t>(kScratchFloats)) {
      return Status::Error(where + ".num_feature: " + std::to_string(num_feature) +
                           " features; the native evaluator takes at most " + std::to_string(kScratchFloats));
    }
    ensemble.num_features_ = static_cast<size_t>(num_feature);
    ensemble.block_rows_ =
        static_cast<uint32_t>(std::min(kMaxBlockRows, kScratchFloats / ensemble.num_features_));
    // Absent before XGBoost 1.6, where a model had one target.
    std::string_view num_target_text;
    const simdjson::error_code num_target_error =
        param.find_field_unordered("num_target").get_string().get(num_target_text);
    if (num_target_error != simdjson::SUCCESS && num_target_error != simdjson::NO_SUCH_FIELD) {
      return JsonError(where + ".num_target", num_target_error);
    }
    if (num_target_error == simdjson::SUCCESS) {
      int64_t num_target = 0;
      if (Status s = ParseInt(num_target_text, where + ".num_target", &num_target); !s.ok()) {
        return s;
      }
      if (num_target > 1) {
        return Status::Error(where + ".num_target: " + std::to_string(num_target) +
                             " targets; only one is supported");
      }
    }
  }

  // objective
  {
    od::object objective;
    if (Status s = FindObject(learner, "learner", "objective", &objective); !s.ok()) return s;
    std::string name;
    if (Status s = FindString(objective, "learner.objective", "name", &name); !s.ok()) return s;
    if (name != kObjective) {
      return Status::Error("learner.objective.name: '" + name +
                           "' is not supported; allowed: " + std::string(kObjective));
    }
  }

  // gradient_booster: gbtree only.
  od::object booster;
  if (Status s = FindObject(learner, "learner", "gradient_booster", &booster); !s.ok()) return s;
  std::string booster_name;
  if (Status s = FindString(booster, "learner.gradient_booster", "name", &booster_name); !s.ok()) {
    return s;
  }
  if (booster_name != "gbtree") {
    return Status::Error("learner.gradient_booster.name: '" + booster_name +
                         "' is not supported; allowed: gbtree");
  }
  const std::string where = "learner.gradient_booster.model";
  od::object model;
  if (Status s = FindObject(booster, "learner.gradient_booster", "model", &model); !s.ok()) return s;
  int64_t num_trees = 0;
  {
    od::object param;
    if (Status s = FindObject(model, where, "gbtree_model_param", &param); !s.ok()) return s;
    const std::string param_where = where + ".gbtree_model_param";
    if (Status s = FindIntString(param, param_where, "num_trees", &num_trees); !s.ok()) return s;
    int64_t num_parallel_tree = 0;
    if (Status s = FindIntString(param, param_where, "num_parallel_tree", &num_parallel_tree); !s.ok()) {
      return s;
    }
    // Parallel trees (a boosted forest) are summed like any others.
    if (num_parallel_tree < 1) {
      return Status::Error(param_where + ".num_parallel_tree: " + std::to_string(num_parallel_tree) +
                           " is not >= 1");
    }
  }
  {
    std::vector<int64_t> tree_info;
    if (Status s = FindIntArray(model, where, "tree_info", &tree_info); !s.ok()) return s;
    if (static_cast<int64_t>(tree_info.size()) != num_trees) {
      return Status::Error(where + ".tree_info: " + std::to_string(tree_info.size()) + " entries for " +
                           std::to_string(num_trees) + " trees");
    }
    for (size_t t = 0; t < tree_info.size(); ++t) {
      if (tree_info[t] != 0) {
        return Status::Error(where + ".tree_info[" + std::to_string(t) + "]: tree of output group " +
                             std::to_string(tree_info[t]) + "; only one output group is supported");
      }
    }
  }

  od::array trees;
  if (simdjson::error_code e = model.find_field_unordered("trees").get_array().get(trees)) {
    return JsonError(where + ".trees", e);
  }
  std::vector<JsonTree> parsed;
  std::vector<int> depths;
  for (simdjson::simdjson_result<od::value> element : trees) {
    const std::string tree_where = where + ".trees[" + std::to_string(parsed.size()) + "]";
    od::object object;
    if (simdjson::error_code e = element.get_object().get(object)) return JsonError(tree_where, e);
    JsonTree tree;
    if (Status s = ReadTree(object, tree_where, &tree); !s.ok()) return s;
    Result<int> depth = CheckTree(tree, ensemble.num_features_, tree_where);
    if (!depth.ok()) return depth.status();
    if (*depth > kMaxTreeDepth) {
      return Status::Error(tree_where + ": depth " + std::to_string(*depth) +
                           " is beyond the native evaluator's limit of " + std::to_string(kMaxTreeDepth));
    }
    parsed.push_back(std::move(tree));
    depths.push_back(*depth);
  }
  if (static_cast<int64_t>(parsed.size()) != num_trees) {
    return Status::Error(where + ".trees: " + std::to_string(parsed.size()) +
                         " trees, but gbtree_model_param.num_trees is " + std::to_string(num_trees));
  }

  // Groups of kTreeLanes consecutive trees, each as deep as its deepest tree.
  std::vector<int> group_depth;
  size_t positions = 0;
  for (size_t first = 0; first < depths.size(); first += kTreeLanes) {
    const auto begin = depths.begin() + static_cast<std::ptrdiff_t>(first);
    const auto end =
        depths.begin() + static_cast<std::ptrdiff_t>(std::min(first + kTreeLanes, depths.size()));
    group_depth.push_back(*std::max_element(begin, end));
    positions += kTreeLanes << group_depth.back();
  }
  if (positions > kMaxPositions) {
    return Status::Error(where + ".trees: the complete-tree layout needs " + std::to_string(positions) +
                         " nodes, beyond the native evaluator's limit of " + std::to_string(kMaxPositions));
  }
  for (size_t g = 0; g < group_depth.size(); ++g) {
    const size_t first = g * kTreeLanes;
    ensemble.AddGroup(&parsed[first], std::min(kTreeLanes, parsed.size() - first), group_depth[g]);
  }
  ensemble.num_trees_ = parsed.size();
  ensemble.max_depth_ = depths.empty() ? 0 : *std::max_element(depths.begin(), depths.end());
  return ensemble;
}

void TreeEnsemble::AddGroup(const JsonTree* trees, size_t count, int depth) {
  // Heap positions above the last level (the first kTreeLanes - 1 are unused).
  const size_t splits = (kTreeLanes << depth) - 1;
  const Group group{static_cast<uint32_t>(nodes_.size()), static_cast<uint32_t>(leaf_value_.size()), depth,
                    static_cast<uint32_t>(count)};
  // Every position starts as a filler split that sends every value left
  // (nothing is >= NaN, and a missing value goes left), and every leaf as 0.
  nodes_.resize(nodes_.size() + splits, Node{std::numeric_limits<float>::quiet_NaN(), 0});
  missing_right_.resize(nodes_.size(), 0);
  leaf_value_.resize(leaf_value_.size() + (kTreeLanes << depth), 0.0f);
  Node* nodes = nodes_.data() + group.first_node;
  uint8_t* missing_right = missing_right_.data() + group.first_node;
  float* leaves = leaf_value_.data() + group.first_leaf;
  for (size_t t = 0; t < count; ++t) {
    const JsonTree& tree = trees[t];
    // (XGBoost node, heap position, level below the tree's root). A leaf
    // above the last level takes the leftmost position of the last level
    // under it, where the fillers lead.
    std::vector<std::tuple<int64_t, size_t, int>> stack = {{0, kTreeLanes - 1 + t, 0}};
    while (!stack.empty()) {
      const auto [i, at, d] = stack.back();
      stack.pop_back();
      const auto k = static_cast<size_t>(i);
      if (tree.left[k] == -1) {
        size_t leaf_at = at;
        for (int below = d; below < depth; ++below) leaf_at = 2 * leaf_at + 1;
        leaves[leaf_at - splits] = tree.split_condition[k];
        continue;
      }
      nodes[at] = Node{tree.split_condition[k], static_cast<uint32_t>(tree.split_index[k] * block_rows_)};
      missing_right[at] = tree.default_left[k] != 0 ? 0 : 1;
      stack.emplace_back(tree.left[k], 2 * at + 1, d + 1);
      stack.emplace_back(tree.left[k] + 1, 2 * at + 2, d + 1);
    }
  }
  groups_.push_back(group);
}

// ---------------------------------------------------------------------------
// Scoring

template <bool kHasMissing>
void TreeEnsemble::AccumulateBlock(const float* columns, size_t n, float* acc) const {
  const float* const lanes_end = columns + n / kRowLanes * kRowLanes;
  for (const Group& group : groups_) {
    const Node* nodes = nodes_.data() + group.first_node;
    const uint8_t* missing_right = missing_right_.data() + group.first_node;
    // Position p of the last level holds leaves[p - (kTreeLanes 2^depth - 1)].
    const float* leaves = leaf_value_.data() + group.first_leaf - ((kTreeLanes << group.depth) - 1);
    // One level down from position `at` for the row whose values are at
    // row[column + lane]: 2 at + 1 (left) or 2 at + 2 (right).
    const auto step = [nodes, missing_right](const float* row, size_t lane, size_t at) {
      const Node& node = nodes[at];
      const float x = row[size_t{node.column} + lane];
      size_t right = x >= node.threshold;
      if constexpr (kHasMissing) {
        right |= std::isnan(x) & missing_right[at];
      } else {
        static_cast<void>(missing_right);
      }
      return 2 * at + 1 + right;
    };
    // kRowLanes rows at a time through one tree.
    for (size_t t = 0; t < group.num_trees; ++t) {
      float* sum = acc;
      for (const float* row = columns; row != lanes_end; row += kRowLanes, sum += kRowLanes) {
        size_t at[kRowLanes];
        std::fill(at, at + kRowLanes, kTreeLanes - 1 + t);
        for (int d = 0; d < group.depth; ++d) {
          for (size_t l = 0; l < kRowLanes; ++l) at[l] = step(row, l, at[l]);
        }
        for (size_t l = 0; l < kRowLanes; ++l) sum[l] += leaves[at[l]];
      }
    }
    // The rest one row at a time through the group's trees at once (lanes
    // past num_trees walk fillers and are not added).
    for (size_t r = static_cast<size_t>(lanes_end - columns); r < n; ++r) {
      size_t at[kTreeLanes];
      for (size_t l = 0; l < kTreeLanes; ++l) at[l] = kTreeLanes - 1 + l;
      for (int d = 0; d < group.depth; ++d) {
        for (size_t l = 0; l < kTreeLanes; ++l) at[l] = step(columns + r, 0, at[l]);
      }
      for (size_t l = 0; l < group.num_trees; ++l) acc[r] += leaves[at[l]];
    }
  }
}

void TreeEnsemble::PredictProba(const float* rows, size_t n_rows, double* p) const {
  // The block, column-major: column c of row r at columns[c * block_rows_ + r].
  float columns[kScratchFloats];
  float acc[kMaxBlockRows];
  const size_t width = num_features_;
  for (size_t begin = 0; begin < n_rows; begin += block_rows_) {
    const size_t n = std::min<size_t>(block_rows_, n_rows - begin);
    const float* block = rows + begin * width;
    bool has_missing = false;
    for (size_t r = 0; r < n; ++r) {
      for (size_t c = 0; c < width; ++c) {
        const float x = block[r * width + c];
        has_missing |= std::isnan(x);
        columns[c * block_rows_ + r] = x;
      }
    }
    std::fill(acc, acc + n, base_margin_);
    if (has_missing) {
      AccumulateBlock<true>(columns, n, acc);
    } else {
      AccumulateBlock<false>(columns, n, acc);
    }
    for (size_t r = 0; r < n; ++r) p[begin + r] = XgboostSigmoid(acc[r]);
  }
}

// ---------------------------------------------------------------------------
// Probe rows

std::vector<float> TreeEnsemble::ProbeRows(size_t n_rows, uint64_t seed) const {
  // Each feature's split thresholds (fillers hold NaN).
  std::vector<std::vector<float>> thresholds(num_features_);
  for (const Node& node : nodes_) {
    if (std::isnan(node.threshold)) continue;
    thresholds[node.column / block_rows_].push_back(node.threshold);
  }
  // Each feature's range for random values: its thresholds' range with a
  // quarter of it (and 1) either side; [-1, 1] when it is never tested.
  std::vector<std::pair<double, double>> range(num_features_, {-1.0, 1.0});
  for (size_t f = 0; f < num_features_; ++f) {
    if (thresholds[f].empty()) continue;
    const auto [min, max] = std::minmax_element(thresholds[f].begin(), thresholds[f].end());
    const double margin = 0.25 * (static_cast<double>(*max) - *min) + 1.0;
    range[f] = {*min - margin, *max + margin};
  }
  std::mt19937_64 random(seed);
  const auto uniform = [&random](std::pair<double, double> lo_hi) {
    const auto [lo, hi] = lo_hi;
    return lo + (hi - lo) * (static_cast<double>(random() >> 11) * 0x1.0p-53);
  };
  std::vector<float> rows(n_rows * num_features_);
  for (size_t r = 0; r < n_rows; ++r) {
    for (size_t f = 0; f < num_features_; ++f) {
      const std::vector<float>& t = thresholds[f];
      float& value = rows[r * num_features_ + f];
      const uint64_t kind = random() % 100;
      if (kind < 10) {
        value = std::numeric_limits<float>::quiet_NaN();
      } else if (kind < 12) {
        value = kind == 10 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
      } else if (kind < 55 && !t.empty()) {
        const float at = t[random() % t.size()];
        if (kind < 35) {
          value = at;
        } else if (kind < 45) {
          value = std::nextafter(at, -std::numeric_limits<float>::infinity());
        } else {
          value = std::nextafter(at, std::numeric_limits<float>::infinity());
        }
      } else {
        value = static_cast<float>(uniform(range[f]));
      }
    }
  }
  return rows;
}

}  // namespace scorepipe
