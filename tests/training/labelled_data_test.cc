// Tests of training/labelled_data.h's reader: the format from the
// extension, the options, files read whole, and LabelledFileReader streaming
// any file in chunks exactly as it reads whole.
#include "training/labelled_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "tests/scoring/model_test_util.h"
#include "tests/training/labelled_test_util.h"
#include "training/labelled_writer.h"
#include "training/synthetic.h"

namespace scorepipe {
namespace {

using testing::ErrorOf;
using ::testing::HasSubstr;
using testing::kHeader;

TEST(LabelledDataTest, FormatComesFromTheExtension) {
  EXPECT_EQ(*LabelledFileFormatOf("a/b.csv"), LabelledFileFormat::kCsv);
  EXPECT_EQ(*LabelledFileFormatOf("b.jsonl"), LabelledFileFormat::kJsonLines);
  EXPECT_EQ(*LabelledFileFormatOf("b.ndjson"), LabelledFileFormat::kJsonLines);
  EXPECT_THAT(LabelledFileFormatOf("b.json").status().message(), HasSubstr(".csv, .jsonl or .ndjson"));
}

TEST(LabelledDataTest, OtherLabelColumn) {
  LabelledFileOptions options;
  options.label_column = "y";
  const std::string text =
      "id,customer_id,vendor_id,timestamp,status,amount,y\n1,1,1,2023-01-01T12:00:00Z,accepted,1,TRUE\n";
  Result<LabelledData> data = ParseLabelledText(text, LabelledFileFormat::kCsv, "a.csv", options);
  ASSERT_TRUE(data.ok()) << data.status().message();
  EXPECT_EQ(data->labels, (std::vector<float>{1}));
  EXPECT_THAT(ErrorOf("a.csv", std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,1,1\n", options),
              HasSubstr("a.csv:1: the header has no column 'y'"));
  options.label_column = "amount";
  EXPECT_THAT(ErrorOf("a.csv", kHeader, options), HasSubstr("'amount' is an upstream transaction field"));
}

TEST(LabelledDataTest, EmptyFilesAndOneClassReadFine) {
  for (const char* name : {"a.csv", "a.jsonl"}) {
    Result<LabelledData> data = ParseLabelledText("", *LabelledFileFormatOf(name), name, {});
    ASSERT_TRUE(data.ok()) << data.status().message();
    EXPECT_TRUE(data->transactions.empty());
  }
  Result<LabelledData> header_only = ParseLabelledText(kHeader, LabelledFileFormat::kCsv, "a.csv", {});
  ASSERT_TRUE(header_only.ok());
  EXPECT_TRUE(header_only->labels.empty());
  Result<LabelledData> one_class =
      ParseLabelledText(std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,1,0\n",
                        LabelledFileFormat::kCsv, "a.csv", {});
  ASSERT_TRUE(one_class.ok());
  EXPECT_EQ(one_class->labels, (std::vector<float>{0}));
}

TEST(LabelledDataTest, NoInputCrashesTheReader) {
  // Every prefix of good files, and a few odd bytes: an error or data, never a crash.
  const std::string csv = std::string(kHeader) + "1,1,1,\"2023-01-01T12:00:00Z\",accepted,1,0\r\n";
  const std::string jsonl =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1,"is_fraudulent":1})"
      "\n";
  for (size_t n = 0; n <= csv.size(); ++n)
    (void)ParseLabelledText(csv.substr(0, n), LabelledFileFormat::kCsv, "a.csv", {});
  for (size_t n = 0; n <= jsonl.size(); ++n) {
    (void)ParseLabelledText(jsonl.substr(0, n), LabelledFileFormat::kJsonLines, "a.jsonl", {});
  }
  for (const std::string& odd :
       {std::string("\0\xff\"", 3), std::string("\"\n\"\"\r"), std::string(",,,\n,,,")}) {
    (void)ParseLabelledText(odd, LabelledFileFormat::kCsv, "a.csv", {});
    (void)ParseLabelledText(odd, LabelledFileFormat::kJsonLines, "a.jsonl", {});
  }
  testing::ScratchDir dir;
  EXPECT_THAT(ReadLabelledFile(dir.File("missing.csv"), {}).status().message(), HasSubstr("cannot open"));
}

// ---------------------------------------------------------------------------
// LabelledFileReader

constexpr size_t kAll = std::numeric_limits<size_t>::max();

// Everything a reader of `path` gives, `chunk` rows a call, reading `block`
// bytes at a time: the rows, or the error that ends them.
Result<LabelledData> ReadInChunks(const std::string& path, size_t chunk, size_t block,
                                  const LabelledFileOptions& options = {}) {
  Result<LabelledFileReader> reader = LabelledFileReader::Open(path, options, block);
  if (!reader.ok()) return reader.status();
  LabelledData all;
  LabelledData part;
  while (true) {
    Result<size_t> rows = reader->Next(chunk, &part);
    if (!rows.ok()) {
      EXPECT_TRUE(part.labels.empty() && part.transactions.empty());
      return rows.status();
    }
    if (*rows == 0) break;
    EXPECT_LE(*rows, chunk);
    EXPECT_EQ(part.labels.size(), *rows);
    EXPECT_EQ(part.transactions.size(), *rows);
    all.transactions.insert(all.transactions.end(), part.transactions.begin(), part.transactions.end());
    all.labels.insert(all.labels.end(), part.labels.begin(), part.labels.end());
  }
  EXPECT_EQ(reader->rows_read(), all.labels.size());
  return all;
}

// `text` as file `name` read in chunks of every size through blocks of every
// size (smaller and larger than a row and than the file) gives exactly what
// the whole text parsed at once gives: the same rows or the same error.
void ExpectStreamingMatchesWholeText(const std::string& name, const std::string& text,
                                     const LabelledFileOptions& options = {}) {
  testing::ScratchDir dir;
  const std::string path = dir.Write(name, text);
  const Result<LabelledData> whole = ParseLabelledText(text, *LabelledFileFormatOf(name), path, options);
  for (size_t block :
       {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, size_t{1000}, size_t{1} << 20}) {
    for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, size_t{1000}, kAll}) {
      SCOPED_TRACE(name + " block " + std::to_string(block) + " chunk " + std::to_string(chunk));
      const Result<LabelledData> streamed = ReadInChunks(path, chunk, block, options);
      ASSERT_EQ(streamed.ok(), whole.ok()) << (whole.ok() ? streamed : whole).status().message();
      if (whole.ok()) {
        EXPECT_EQ(streamed->transactions, whole->transactions);
        EXPECT_EQ(streamed->labels, whole->labels);
      } else {
        EXPECT_EQ(streamed.status().message(), whole.status().message());
      }
    }
  }
}

// `n` synthetic labelled rows.
LabelledData SyntheticData(int n) {
  LabelledData data;
  SyntheticTransactions generator(11);
  for (int i = 0; i < n; ++i) {
    LabelledTransaction t = generator.Next();
    data.transactions.push_back(t.parsed);
    data.labels.push_back(static_cast<float>(t.label));
  }
  return data;
}

// The lines of what WriteLabelledFile makes of `data` as `name`.
std::vector<std::string> WrittenLines(const std::string& name, const LabelledData& data) {
  testing::ScratchDir dir;
  EXPECT_TRUE(WriteLabelledFile(dir.File(name), data).ok());
  std::ifstream in(dir.File(name));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(LabelledFileReaderTest, AwkwardCsvStreamsExactlyAsItParsesWhole) {
  const LabelledData data = SyntheticData(60);
  const std::vector<std::string> lines = WrittenLines("a.csv", data);
  // An extra column whose quoted values hold commas, "" and line breaks, so
  // that records span blocks and lines; CRLF on odd rows; blank lines.
  const std::string notes[] = {"plain", "\"a, \"\"b\"\"\nc\"", "\"\"\"\"", "", "\"\n\r\n\"\"\n\""};
  std::string text = "\xEF\xBB\xBF\n" + lines[0] + ",note\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    text += lines[i] + "," + notes[i % 5] + (i % 2 == 1 ? "\r\n" : "\n");
    if (i % 7 == 0) text += i % 2 == 0 ? "\n" : "\r\n";
  }
  ExpectStreamingMatchesWholeText("a.csv", text);
  Result<LabelledData> back = ParseLabelledText(text, LabelledFileFormat::kCsv, "a.csv", {});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->transactions, data.transactions);
  EXPECT_EQ(back->labels, data.labels);
  text.pop_back();  // the last row without its line break
  ExpectStreamingMatchesWholeText("a.csv", text);
}

TEST(LabelledFileReaderTest, AwkwardJsonLinesStreamExactlyAsTheyParseWhole) {
  const LabelledData data = SyntheticData(60);
  const std::vector<std::string> lines = WrittenLines("a.jsonl", data);
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    text += lines[i] + (i % 2 == 1 ? "\r\n" : "\n");
    if (i % 7 == 0) text += i % 2 == 0 ? " \t\n" : "\r\n";
  }
  ExpectStreamingMatchesWholeText("a.jsonl", text);
  Result<LabelledData> back = ParseLabelledText(text, LabelledFileFormat::kJsonLines, "a.jsonl", {});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->transactions, data.transactions);
  text.pop_back();
  ExpectStreamingMatchesWholeText("a.jsonl", text);
}

TEST(LabelledFileReaderTest, EdgeFilesStreamAsTheyParseWhole) {
  const std::string h = kHeader;
  const std::string row = "1,1,1,2023-01-01T12:00:00Z,accepted,1,0\n";
  const std::string json =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1,"is_fraudulent":1})";
  for (const std::string& text :
       {std::string(), std::string("\n\r\n\n"), h, "\n\n" + h, "\xEF\xBB\xBF" + h + row, h + row + row,
        h + row + "1,1,1,2023-01-01T12:00:00Z,accepted,1,0", h + row + "\"\"\n\n" + row,
        // errors: header, field count, quoting, an unclosed quote at the end
        std::string("id,amount\n"), h + row + "1,1\n", h + row + "1,1,1,2023\"01,accepted,1,0\n",
        h + row + "1,1,1,\"2023-01-01T12:00:00Z\"x,accepted,1,0\n", h + row + "1,1,1,\"2023\n\n"}) {
    ExpectStreamingMatchesWholeText("a.csv", text);
  }
  for (const std::string& text :
       {std::string(), std::string("\n \n\t\r\n"), json, json + "\n" + json + "\r\n", "\n\n" + json + "\n",
        json + "\n{\"id\":1}\n" + json + "\n", json + "\n[1]", std::string("\xEF\xBB\xBF") + json}) {
    ExpectStreamingMatchesWholeText("a.jsonl", text);
  }
}

TEST(LabelledFileReaderTest, RowsOverTheLimitFailAsWholeEvenWhenLongerThanABlock) {
  LabelledFileOptions small;
  small.max_row_bytes = 64;
  const std::string h = kHeader;
  const std::string row = "1,1,1,2023-01-01T12:00:00Z,accepted,1,0\n";
  const std::string long_note = std::string(300, 'x');
  for (const std::string& text :
       {h + row + "1,1,1,2023-01-01T12:00:00Z,accepted,1," + std::string(100, '0') + "\n" + row,
        h + row + "1,1,1,2023-01-01T12:00:00Z,accepted,1,0,\"" + long_note + "\n" + long_note + "\"\r\n",
        h + row + "1,1,1,\"" + long_note,  // unclosed to the end: too long comes first
        // a header longer than the limit is fine: the limit is for rows
        "note" + std::string(100, 'e') + "," + h + "x," + row}) {
    ExpectStreamingMatchesWholeText("a.csv", text, small);
  }
  // Exactly at the limit with its line break: fine; one byte more: too long.
  const std::string at_limit = "1,1,1,2023-01-01T12:00:00Z,accepted,1," + std::string(64 - 39, '0') + "\n";
  ASSERT_EQ(at_limit.size(), 64u);
  ExpectStreamingMatchesWholeText("a.csv", h + at_limit + at_limit, small);
  EXPECT_EQ(ErrorOf("a.csv", h + "0" + at_limit, small),
            "a.csv:2: the row is 65 bytes, over the limit of 64");

  const std::string json =
      R"({"id":1,"customer_id":1,"vendor_id":1,"timestamp":"2023-01-01T12:00:00Z","status":"accepted","amount":1,"is_fraudulent":1})";
  LabelledFileOptions medium;
  medium.max_row_bytes = 200;
  const std::string padded = json.substr(0, json.size() - 1) + ",\"pad\":\"" + std::string(200, 'p') + "\"}";
  for (const std::string& text :
       {json + "\n" + padded + "\n" + json + "\n", json + "\n" + padded + "\r\n", json + "\n" + padded,
        // blank lines are skipped however long
        json + "\n" + std::string(500, ' ') + "\r\n" + json + "\n" + std::string(300, '\t')}) {
    ExpectStreamingMatchesWholeText("a.jsonl", text, medium);
  }
  // The limit counts a line without its CR and line break, as the bridge would.
  const std::string exact =
      json.substr(0, json.size() - 1) + ",\"pad\":\"" + std::string(200 - json.size() - 9, 'p') + "\"}";
  ASSERT_EQ(exact.size(), 200u);
  ExpectStreamingMatchesWholeText("a.jsonl", exact + "\r\n" + exact + "\r\n", medium);
  EXPECT_EQ(ErrorOf("a.jsonl", exact + "\n" + padded + "\n", medium),
            "a.jsonl:2: message is " + std::to_string(padded.size()) + " bytes; limit 200");
}

TEST(LabelledFileReaderTest, RowsBeforeABadRowFarInComeFirstThenTheErrorStays) {
  testing::ScratchDir dir;
  std::string text = "id,customer_id,vendor_id,timestamp,status,amount,is_fraudulent,note\n";
  for (int i = 1; i <= 1000; ++i) {
    text += std::to_string(i) + ",1,1,2023-01-01T12:00:00Z,accepted,1,0,\"two\nlines\"\n";
  }
  text += "1001,1,1,2023-01-01T12:00:00Z,accepted,1,7,\"\"\n";
  Result<LabelledFileReader> reader = LabelledFileReader::Open(dir.Write("a.csv", text), {}, 256);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  LabelledData part;
  for (int call = 0; call < 10; ++call) {
    Result<size_t> rows = reader->Next(100, &part);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    ASSERT_EQ(*rows, 100u);
    EXPECT_EQ(part.transactions.front().id, call * 100 + 1);
  }
  EXPECT_EQ(reader->rows_read(), 1000u);
  for (int again = 0; again < 2; ++again) {
    Result<size_t> rows = reader->Next(100, &part);
    ASSERT_FALSE(rows.ok());
    EXPECT_THAT(rows.status().message(), AllOf(HasSubstr("a.csv:2002: label"), HasSubstr("got \"7\"")));
    EXPECT_TRUE(part.labels.empty());
  }
  EXPECT_EQ(reader->rows_read(), 1000u);
}

TEST(LabelledFileReaderTest, RewindReadsFromTheStartAgainAndClearsAnError) {
  testing::ScratchDir dir;
  const LabelledData data = SyntheticData(30);
  ASSERT_TRUE(WriteLabelledFile(dir.File("a.jsonl"), data).ok());
  Result<LabelledFileReader> reader = LabelledFileReader::Open(dir.File("a.jsonl"), {}, 100);
  ASSERT_TRUE(reader.ok());
  LabelledData part;
  ASSERT_EQ(*reader->Next(7, &part), 7u);
  ASSERT_TRUE(reader->Rewind().ok());
  EXPECT_EQ(reader->rows_read(), 0u);
  ASSERT_EQ(*reader->Next(kAll, &part), 30u);
  EXPECT_EQ(part.transactions, data.transactions);
  EXPECT_EQ(*reader->Next(5, &part), 0u);  // the end stays the end
  EXPECT_EQ(reader->rows_read(), 30u);

  std::ofstream(dir.File("a.jsonl"), std::ios::app) << "{}\n";
  ASSERT_TRUE(reader->Rewind().ok());
  EXPECT_THAT(reader->Next(kAll, &part).status().message(), HasSubstr("a.jsonl:31: missing field"));
  ASSERT_TRUE(reader->Rewind().ok());
  ASSERT_EQ(*reader->Next(30, &part), 30u);
  EXPECT_EQ(part.labels, data.labels);
}

TEST(LabelledFileReaderTest, MovesAndRefusesBadArguments) {
  testing::ScratchDir dir;
  const std::string path =
      dir.Write("a.csv", std::string(kHeader) + "1,1,1,2023-01-01T12:00:00Z,accepted,1,1\n");
  Result<LabelledFileReader> opened = LabelledFileReader::Open(path, {});
  ASSERT_TRUE(opened.ok());
  LabelledFileReader reader = std::move(opened).value();
  LabelledData part;
  EXPECT_THAT(reader.Next(0, &part).status().message(), HasSubstr("at least 1"));
  ASSERT_EQ(*reader.Next(1, &part), 1u);  // asking for 0 rows spoilt nothing
  EXPECT_EQ(part.labels, (std::vector<float>{1}));

  EXPECT_THAT(LabelledFileReader::Open(dir.File("missing.csv"), {}).status().message(),
              AllOf(HasSubstr("missing.csv: cannot open"), HasSubstr("No such file")));
  EXPECT_THAT(LabelledFileReader::Open(path + ".txt", {}).status().message(),
              HasSubstr("unknown labelled file format"));
  EXPECT_THAT(LabelledFileReader::Open(path, {}, 0).status().message(), HasSubstr("block_bytes: 0"));
  LabelledFileOptions bad;
  bad.max_row_bytes = 10;
  EXPECT_THAT(LabelledFileReader::Open(path, bad).status().message(), HasSubstr("max_row_bytes: 10"));
}

// A manual measurement: streams the file named by $SCOREPIPE_LABELLED_FILE
// 10,000 rows at a time, for the peak memory to compare with the whole read.
TEST(LabelledFileReaderTest, DISABLED_StreamsALargeFile) {
  const char* path = std::getenv("SCOREPIPE_LABELLED_FILE");
  ASSERT_NE(path, nullptr);
  Result<LabelledFileReader> reader = LabelledFileReader::Open(path, {});
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  LabelledData part;
  while (true) {
    Result<size_t> rows = reader->Next(10000, &part);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    if (*rows == 0) break;
  }
  std::cout << reader->rows_read() << " rows\n";
}

// A manual measurement, not part of the suite: reads the file named by
// $SCOREPIPE_LABELLED_FILE whole (run under `time` or `/usr/bin/time -f %M`
// with --gtest_also_run_disabled_tests --gtest_filter='*LargeFile*').
TEST(LabelledDataTest, DISABLED_ReadsALargeFileWhole) {
  const char* path = std::getenv("SCOREPIPE_LABELLED_FILE");
  ASSERT_NE(path, nullptr);
  Result<LabelledData> data = ReadLabelledFile(path, {});
  ASSERT_TRUE(data.ok()) << data.status().message();
  std::cout << data->labels.size() << " rows\n";
}

}  // namespace
}  // namespace scorepipe
