#include "cli/dataset_command.h"

#include <memory>

#include "training/labelled_data.h"
#include "training/labelled_writer.h"
#include "training/synthetic.h"

namespace scorepipe {

int RunDataset(const DatasetOptions& options, FILE* out, FILE* err) {
  const auto fail = [err](const std::string& what) {
    fprintf(err, "scorepipe dataset: %s\n", what.c_str());
    return 1;
  };
  if (options.rows == 0) return fail("--rows must be at least 1");
  if (options.first_id < 1) return fail("--first-id must be at least 1");
  Result<LabelledFileWriter> writer = LabelledFileWriter::Open(options.out_path, options.label_column);
  if (!writer.ok()) return fail(writer.status().message());
  SyntheticTransactions generator(options.seed, options.first_id);
  size_t frauds = 0;
  for (size_t row = 1; row <= options.rows; ++row) {
    const LabelledTransaction t = generator.Next();
    frauds += t.label == 1 ? 1 : 0;
    if (Status s = writer->Append(t.parsed, static_cast<float>(t.label)); !s.ok()) return fail(s.message());
    if (options.progress_every_rows > 0 && row % options.progress_every_rows == 0 && row < options.rows) {
      fprintf(err, "dataset: %zu of %zu rows\n", row, options.rows);
    }
  }
  if (Status s = writer->Close(); !s.ok()) return fail(s.message());
  fprintf(out, "wrote %s: %zu rows (seed %llu), %zu labelled fraud (%.2f%%), label column '%s'\n",
          options.out_path.c_str(), options.rows, static_cast<unsigned long long>(options.seed), frauds,
          100.0 * static_cast<double>(frauds) / static_cast<double>(options.rows),
          options.label_column.c_str());
  return 0;
}

Command AddDatasetCommand(CLI::App& app) {
  auto options = std::make_shared<DatasetOptions>();
  CLI::App* dataset = app.add_subcommand(
      "dataset",
      "write a labelled file of synthetic transactions (CSV or JSON lines) for evaluate and training");
  dataset->add_option("-n,--rows", options->rows, "how many transactions")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000000}));
  AddStreamOptions(dataset, options->seed, options->first_id);
  dataset->add_option("-o,--out", options->out_path, "the file to write: .csv, .jsonl or .ndjson")
      ->required();
  dataset->add_option("--label-column", options->label_column, "the label's column (CSV) or key (JSON)")
      ->capture_default_str();
  dataset->footer(
      "Rows are the upstream transaction format plus the label (1 fraud, 0 not), drawn by the\n"
      "same deterministic generator as `push` and train-demo. A long run prints a line per\n"
      "million rows on stderr. Exit code: 0 written, 1 failed, 2 bad usage.");

  return {dataset, [options] { return RunDataset(*options); }};
}

}  // namespace scorepipe
