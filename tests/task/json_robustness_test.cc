// Every JSON parser on a trust boundary of the task contract (the task file
// the operator writes, the Task the coordinator sends) turns malformed input
// into an error status, never an exception or a crash: random mutations of a
// valid task with huge numbers, deep nesting, wrong types, truncation and
// flipped bytes.

#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "common/json_parse.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "task/task_config.h"
#include "task/task_proto.h"

namespace tacit {
namespace {

using ::testing::HasSubstr;

const std::string& ExampleText() {
  static const std::string* text = [] {
    auto read = ReadFileToString(std::string(TACIT_SOURCE_DIR) +
                                 "/coordinator/examples/next_event_task.json");
    return new std::string(read.ok() ? *read : "");
  }();
  return *text;
}

// Numbers beyond what a double or an int64 holds, and spellings JSON lacks.
const std::vector<std::string>& HugeNumbers() {
  static const std::vector<std::string> numbers = {"1e400",
                                                   "-1e400",
                                                   "1e309",
                                                   "18446744073709551616",
                                                   "-9223372036854775809",
                                                   "123456789012345678901234567890",
                                                   "1e-400",
                                                   "NaN",
                                                   "Infinity",
                                                   "-0"};
  return numbers;
}

const std::vector<std::string>& WrongTypes() {
  static const std::vector<std::string> values = {"\"text\"", "[]",   "{}",
                                                  "null",     "true", "[1e400]"};
  return values;
}

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Positions of JSON values in `text` that follow a ':' (object members).
std::vector<size_t> ValueStarts(const std::string& text) {
  std::vector<size_t> starts;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == ':') starts.push_back(i + 1);
  }
  return starts;
}

// Replaces the scalar value at `start` (up to the next ',' or '}') with `with`.
std::string ReplaceValueAt(const std::string& text, size_t start, const std::string& with) {
  size_t end = text.find_first_of(",}\n", start);
  if (end == std::string::npos) end = text.size();
  return text.substr(0, start) + " " + with + text.substr(end);
}

std::string Mutate(const std::string& text, std::mt19937_64& rng) {
  std::vector<size_t> starts = ValueStarts(text);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  switch (pick(5)) {
    case 0:
      return ReplaceValueAt(text, starts[pick(starts.size())],
                            HugeNumbers()[pick(HugeNumbers().size())]);
    case 1:
      return ReplaceValueAt(text, starts[pick(starts.size())],
                            WrongTypes()[pick(WrongTypes().size())]);
    case 2:  // from just inside the limit to far past any stack
      return ReplaceValueAt(text, starts[pick(starts.size())], Nested(60 + pick(200000)));
    case 3:
      return text.substr(0, pick(text.size()));
    default: {
      std::string out = text;
      out[pick(out.size())] = static_cast<char>(rng());
      return out;
    }
  }
}

bool IsInputError(const absl::Status& status) {
  return absl::IsInvalidArgument(status) || absl::IsOutOfRange(status);
}

TEST(JsonRobustnessTest, ParseJsonRefusesOverflowAndDepthWithoutThrowing) {
  for (const std::string& number : {std::string("1e400"), std::string("-1e400")}) {
    absl::StatusOr<nlohmann::json> parsed = ParseJson("{\"a\": " + number + "}", "f.json");
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
    EXPECT_THAT(parsed.status().message(), HasSubstr("f.json is not valid JSON"));
  }
  JsonParseOptions options;
  options.max_depth = 8;
  EXPECT_TRUE(ParseJson(Nested(8), "x", options).ok());
  absl::StatusOr<nlohmann::json> deep = ParseJson(Nested(9), "x", options);
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(), HasSubstr("nested deeper than 8 levels"));
  EXPECT_FALSE(ParseJson(Nested(1'000'000), "x").ok());
}

// State files read with StringOr / IntOr / BoolOr: a key of any other type
// falls back instead of throwing type_error as nlohmann's value() does.
TEST(JsonRobustnessTest, TypedReadersFallBackOnEveryWrongType) {
  const std::vector<nlohmann::json> values = {"text",
                                              7,
                                              -7,
                                              18446744073709551615ull,
                                              2.5,
                                              true,
                                              nullptr,
                                              nlohmann::json::array(),
                                              nlohmann::json::object()};
  for (const nlohmann::json& value : values) {
    const nlohmann::json object = {{"k", value}};
    std::string s;
    int64_t i = 0;
    bool b = false;
    ASSERT_NO_THROW(s = StringOr(object, "k", "fallback"));
    ASSERT_NO_THROW(i = IntOr(object, "k", -99));
    ASSERT_NO_THROW(b = BoolOr(object, "k", false));
    EXPECT_EQ(s, value.is_string() ? value.get<std::string>() : "fallback");
    const bool fits = value.is_number_integer() &&
                      !(value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX);
    EXPECT_EQ(i, fits ? value.get<int64_t>() : -99);
    EXPECT_EQ(b, value.is_boolean() && value.get<bool>());
    EXPECT_EQ(StringOr(value, "k", "x"), "x");  // not an object: no member
  }
}

// The reported abort: `check-config` on a task file holding 1e400.
TEST(JsonRobustnessTest, TaskFileWithAHugeNumberIsAnErrorNamingTheFile) {
  const std::string path = ::testing::TempDir() + "/task_huge.json";
  ASSERT_TRUE(WriteFileAtomically(path, R"({"name": "x", "rounds": 1e400})").ok());
  absl::StatusOr<TaskConfig> config;
  ASSERT_NO_THROW(config = LoadTaskConfigFile(path));
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
  EXPECT_THAT(config.status().message(), HasSubstr("task_huge.json is not valid JSON"));
}

TEST(JsonRobustnessTest, RandomMalformedTaskFilesAreErrorsNeverExceptions) {
  ASSERT_FALSE(ExampleText().empty());
  const std::string path = ::testing::TempDir() + "/task_fuzz.json";
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  for (int i = 0; i < 300; ++i) {
    const std::string text = Mutate(ExampleText(), rng);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    absl::StatusOr<TaskConfig> config;
    ASSERT_NO_THROW(config = LoadTaskConfigFile(path)) << text.substr(0, 300);
    if (!config.ok()) {
      EXPECT_TRUE(IsInputError(config.status())) << config.status();
      EXPECT_THAT(config.status().message(), HasSubstr("task_fuzz.json"));
    }
  }
}

// A lying coordinator controls Task.model.hyperparameters_json verbatim.
TEST(JsonRobustnessTest, RandomHyperparametersFromTheCoordinatorAreErrorsNeverExceptions) {
  JsonParseOptions comments;
  comments.ignore_comments = true;
  absl::StatusOr<nlohmann::json> example = ParseJson(ExampleText(), "example", comments);
  ASSERT_TRUE(example.ok()) << example.status();
  absl::StatusOr<TaskConfig> task = ParseTaskConfig(*example);
  ASSERT_TRUE(task.ok()) << task.status();
  const v1::Task honest = TaskToProto(*task);
  const std::string hyper = honest.model().hyperparameters_json();
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed() + 1);
  for (int i = 0; i < 300; ++i) {
    v1::Task lying = honest;
    lying.mutable_model()->set_hyperparameters_json(
        i % 3 == 0 ? Nested(1 + rng() % 300000) : Mutate("{\"h\": 1, " + hyper.substr(1), rng));
    absl::StatusOr<TaskConfig> parsed;
    ASSERT_NO_THROW(parsed = TaskFromProto(lying));
    if (!parsed.ok()) {
      EXPECT_TRUE(IsInputError(parsed.status())) << parsed.status();
    }
  }
}

}  // namespace
}  // namespace tacit
