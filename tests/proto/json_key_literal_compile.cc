// Compiled, not run, by the json_key_literal_* tests (tests/proto/CMakeLists.txt):
// a key literal that would need escaping, or a char array filled at run
// time, does not compile as a JsonWriter key; the same keys as run-time keys
// (KEYS_OK) do.
#include <string>
#include <string_view>

#include "proto/json_writer.h"

int main() {
  std::string out;
  scorepipe::JsonWriter json(&out);
  json.BeginObject();
#if defined(KEY_WITH_QUOTE)
  json.Key("a\"b");
#elif defined(KEY_WITH_BACKSLASH)
  json.Field("a\\b", 1);
#elif defined(KEY_WITH_CONTROL_CHARACTER)
  json.Key("line\n");
#elif defined(KEY_NOT_ASCII)
  json.Field("caf\xc3\xa9", 1.5, "%.1f");
#elif defined(KEY_FILLED_AT_RUN_TIME)
  char key[8] = "abc";
  json.Key(key);
#else
  char key[8] = "abc";
  json.Key(std::string_view("a\"b")).Int(1).Field(std::string("a\\b"), 1).Key("line\n" + out).Null();
  json.Field(std::string_view("caf\xc3\xa9"), 1.5, "%.1f").Key(std::string_view(key)).Null();
#endif
  json.EndObject();
  return 0;
}
