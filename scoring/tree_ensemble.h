// A native evaluator for the tree ensemble of an XGBoost binary:logistic
// model (gbtree), built from the model's JSON and computing the same
// probabilities as libxgboost 1.7's CPU predictor, in far less time per row.
//
// What it reproduces, step by step as XGBoost does it:
//   - a split sends a row left iff value < split_condition, both float32; a
//     missing value (NaN) follows the split's default_left;
//   - a row's margin starts at logit(base_score) (float: -logf(1/b - 1)) and
//     adds each tree's leaf value in tree order, in float;
//   - the probability is XGBoost's float sigmoid of that margin.
// FromXgboostJson() refuses, with an error value, every model outside that
// (another objective, multi-class or multi-target, gblinear or dart,
// categorical splits, vector leaves, a right child that is not the left one
// plus one, trees deeper than 12), so that the caller can keep libxgboost for
// it. The XGBoost model (scoring/xgboost_model.cc) still checks its output
// against libxgboost's on ProbeRows() before it relies on it.
//
// Layout and loop: trees are laid out complete (a leaf above the last level
// is reached through filler splits that send everything left), eight
// consecutive trees in one binary heap of 8-byte nodes, so a step is
// position = 2 position + 1 + (value >= threshold): no branch, no child
// pointer. Rows are scored in blocks of up to 256, transposed to columns on
// the stack; each tree walks 12 rows of the block in lockstep (independent
// load chains the CPU overlaps) while its nodes stay in L1; the last rows of
// a block (fewer than 12, e.g. a batch of one) walk the 8 trees of a heap in
// lockstep instead. A block without NaN skips the missing-value test.
//
// Immutable after construction: PredictProba() is const, allocates nothing
// and keeps its scratch (about 33 KB) on the stack, so any number of threads
// may call it on one instance. Owned by whoever built it (the XGBoost model
// of one worker).
#ifndef SCOREPIPE_SCORING_TREE_ENSEMBLE_H_
#define SCOREPIPE_SCORING_TREE_ENSEMBLE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "proto/status.h"

namespace scorepipe {

class TreeEnsemble {
 public:
  // Builds the ensemble from an XGBoost JSON model (XGBoost 1.x SaveModel /
  // XGBoosterSaveModelToBuffer with {"format":"json"}). Malformed or
  // truncated JSON, a model that is not one, and a supported-looking model
  // the evaluator cannot reproduce all give an error naming what and where
  // ("learner.gradient_booster.model.trees[12] node 5: ..."), never a crash.
  static Result<TreeEnsemble> FromXgboostJson(std::string_view json);

  TreeEnsemble(TreeEnsemble&&) noexcept = default;
  TreeEnsemble& operator=(TreeEnsemble&&) noexcept = default;
  TreeEnsemble(const TreeEnsemble&) = delete;
  TreeEnsemble& operator=(const TreeEnsemble&) = delete;

  // Floats per row that PredictProba() reads (learner_model_param.num_feature).
  size_t num_features() const { return num_features_; }
  size_t num_trees() const { return num_trees_; }
  // The deepest leaf's depth over all trees (0: every tree is one leaf).
  int max_depth() const { return max_depth_; }
  // The margin every row starts from: logit(base_score), in float.
  float base_margin() const { return base_margin_; }

  // Writes the probability of class 1 for each of the n_rows rows of `rows`
  // (row-major, num_features() floats each, NaN for a missing value) to
  // p[0, n_rows). `rows` may be null when n_rows is 0.
  void PredictProba(const float* rows, size_t n_rows, double* p) const;

  // n_rows rows (row-major) that reach the splits from every side: per
  // feature, values exactly equal to its split thresholds and to the floats
  // either side of them, NaN, infinities, and values drawn over the
  // thresholds' range with a margin. The same `seed` gives the same rows.
  std::vector<float> ProbeRows(size_t n_rows, uint64_t seed) const;

 private:
  // One split of a group's heap; the children of position p are at 2p + 1
  // (left) and 2p + 2 (right).
  struct Node {
    // A value goes right iff value >= threshold. A filler (under a leaf that
    // is not on the last level) has NaN, so every value goes left.
    float threshold;
    // The tested column's offset in the column-major block: feature *
    // block_rows_.
    uint32_t column;
  };
  // Up to kTreeLanes consecutive trees, laid out complete to one depth in one
  // binary heap.
  struct Group {
    uint32_t first_node;  // in nodes_: kTreeLanes 2^depth - 1 of them
    uint32_t first_leaf;  // in leaf_value_: kTreeLanes 2^depth of them
    int depth;            // levels of splits; every row takes exactly this many steps
    uint32_t num_trees;   // the rest of the heap holds fillers
  };

 public:
  struct JsonTree;  // one tree as the JSON holds it (tree_ensemble.cc)

 private:
  TreeEnsemble() = default;

  // Lays out trees[0, count), checked and at most `depth` deep, as a group.
  void AddGroup(const JsonTree* trees, size_t count, int depth);
  // Adds each tree's leaf value to acc[r] for the n rows of a column-major
  // block.
  template <bool kHasMissing>
  void AccumulateBlock(const float* columns, size_t n, float* acc) const;

  size_t num_features_ = 0;
  size_t num_trees_ = 0;
  uint32_t block_rows_ = 0;  // rows per block, from num_features_
  float base_margin_ = 0;
  int max_depth_ = 0;
  std::vector<Group> groups_;
  std::vector<Node> nodes_;
  std::vector<uint8_t> missing_right_;  // per node: 1 if a missing value goes right
  std::vector<float> leaf_value_;
};

}  // namespace scorepipe

#endif  // SCOREPIPE_SCORING_TREE_ENSEMBLE_H_
