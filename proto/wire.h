// The msgpack layer under proto/'s codecs (internal to proto/): what
// codec.cc (the messages of the hot path) and evaluation_codec.cc (the
// evaluation run's messages) both build on, written once. Packing into a
// string, the envelope [magic, version, kind, body] written and read,
// decoding a frame's body with limits and every msgpack exception turned into
// an error value, and FieldReader, which reads an array's elements as named
// fields.
//
// The small pieces are inline: they run per field of every batch.
// Stateless functions and per-call objects; any thread.
#ifndef SCOREPIPE_PROTO_WIRE_H_
#define SCOREPIPE_PROTO_WIRE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <msgpack.hpp>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "proto/codec.h"
#include "proto/status.h"

namespace scorepipe::wire {

// Decoding limits handed to msgpack::unpack, checked before it allocates. The
// body sits at depth 1, a vector at 2, a vector item at 3; one more level lets
// an array in a scalar's place fail with a field-named type error.
inline constexpr size_t kMaxStringBytes = 1u << 20;
inline constexpr size_t kMaxMapEntries = 16;
inline constexpr size_t kMaxDepth = 4;

// ---------------------------------------------------------------------------
// Encoding

// A msgpack::packer stream that appends to a std::string, so Encode returns
// the packed bytes without a copy out of an intermediate buffer.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, size_t size) { out_->append(data, size); }

 private:
  std::string* out_;
};

using Packer = msgpack::packer<StringSink>;

inline void PackString(Packer& packer, std::string_view s) {
  packer.pack_str(static_cast<uint32_t>(s.size()));
  packer.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// Packs a double. msgpack-c packs a whole double as an integer (smaller on
// the wire; AsDouble reads either back), but its range check lets 2^64 itself
// through to a uint64_t conversion, which is undefined behaviour; a double at
// or above 2^64 goes out as float64 here instead. Every double on the wire is
// packed by this function, never by pack_double directly.
inline void PackDouble(Packer& packer, double value) {
  constexpr double kTwoTo64 = 18446744073709551616.0;
  if (!(value >= kTwoTo64)) {  // NaN included: msgpack writes it as float64
    packer.pack_double(value);
    return;
  }
  const auto bits = std::bit_cast<uint64_t>(value);
  char bytes[9];
  bytes[0] = static_cast<char>(0xcb);  // float64, then big-endian bits
  for (int i = 0; i < 8; ++i) bytes[1 + i] = static_cast<char>((bits >> (56 - 8 * i)) & 0xff);
  // packer has no raw write; a body writer appends its bytes as given.
  packer.pack_bin_body(bytes, sizeof bytes);
}

// Packs the envelope, then the body with `pack_body(Packer&)`, into a string
// reserved to `size_hint` bytes (a guess that saves regrowing it).
template <typename PackBody>
std::string EncodeFrame(MessageKind kind, size_t size_hint, PackBody pack_body) {
  std::string out;
  out.reserve(size_hint);
  StringSink sink(&out);
  Packer packer(sink);
  packer.pack_array(4);
  PackString(packer, kWireMagic);
  packer.pack_uint32(kWireVersion);
  packer.pack_uint8(static_cast<uint8_t>(kind));
  pack_body(packer);
  return out;
}

// ---------------------------------------------------------------------------
// The envelope, read straight from the bytes so that PeekKind costs a few
// byte comparisons and a foreign frame is refused before anything is unpacked.

class ByteCursor {
 public:
  explicit ByteCursor(std::string_view bytes) : bytes_(bytes) {}

  size_t offset() const { return offset_; }
  bool AtEnd() const { return offset_ >= bytes_.size(); }
  // Both require !AtEnd().
  uint8_t PeekByte() const { return static_cast<uint8_t>(bytes_[offset_]); }
  void SkipByte() { ++offset_; }

  // Reads a big-endian unsigned integer of `width` bytes; false if truncated.
  bool ReadBigEndian(size_t width, uint64_t* out) {
    if (bytes_.size() - offset_ < width) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = (value << 8) | static_cast<uint8_t>(bytes_[offset_ + i]);
    }
    offset_ += width;
    *out = value;
    return true;
  }

  bool ReadBytes(size_t size, std::string_view* out) {
    if (bytes_.size() - offset_ < size) return false;
    *out = bytes_.substr(offset_, size);
    offset_ += size;
    return true;
  }

 private:
  std::string_view bytes_;
  size_t offset_ = 0;
};

// What a header read found: the value, a header of another msgpack type, or
// the end of the bytes.

// What a header read found: the value, a header of another msgpack type, or
// the end of the bytes.
enum class HeaderRead { kOk, kOtherType, kTruncated };

HeaderRead ReadArrayHeader(ByteCursor& cursor, uint64_t* size);
// Reads a non-negative integer in any msgpack integer format; a negative
// value counts as another type.
HeaderRead ReadUnsigned(ByteCursor& cursor, uint64_t* value);

// "truncated frame".
Status Truncated();
// Turns a header read into a Status; `other_type` says why another type is not ours.
Status CheckRead(HeaderRead read, std::string_view other_type);

struct Envelope {
  MessageKind kind;
  size_t body_offset;  // where the body array starts in the frame
};

// Checks the envelope of `frame` (size, magic, version, a known kind).
Result<Envelope> ReadEnvelope(std::string_view frame, size_t max_frame_bytes = kMaxFrameBytes);

// ---------------------------------------------------------------------------
// The body, unpacked by msgpack into an object tree that borrows the frame's
// bytes, then checked and copied out field by field.

// "an integer", "a string", ...: what a value is, for error messages.
const char* TypeName(const msgpack::object& o);
// What a value that failed a field's check was: integers by value (they fail
// by range), everything else by type.
std::string Describe(const msgpack::object& o);

inline bool AsInt64(const msgpack::object& o, int64_t* out) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) {
    *out = o.via.i64;
    return true;
  }
  if (o.type == msgpack::type::POSITIVE_INTEGER &&
      o.via.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    *out = static_cast<int64_t>(o.via.u64);
    return true;
  }
  return false;
}

inline bool AsUint64(const msgpack::object& o, uint64_t* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) return false;
  *out = o.via.u64;
  return true;
}

inline bool AsInt32(const msgpack::object& o, int32_t* out) {
  int64_t wide = 0;
  if (!AsInt64(o, &wide) || wide < std::numeric_limits<int32_t>::min() ||
      wide > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(wide);
  return true;
}

// msgpack-c packs an integral double as an integer, so integers are numbers too.
inline bool AsDouble(const msgpack::object& o, double* out) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      *out = o.via.f64;
      return true;
    case msgpack::type::POSITIVE_INTEGER:
      *out = static_cast<double>(o.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER:
      *out = static_cast<double>(o.via.i64);
      return true;
    default:
      return false;
  }
}

inline bool AsUint32(const msgpack::object& o, uint32_t* out) {
  if (o.type != msgpack::type::POSITIVE_INTEGER || o.via.u64 > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  *out = static_cast<uint32_t>(o.via.u64);
  return true;
}

inline bool AsBool(const msgpack::object& o, bool* out) {
  if (o.type != msgpack::type::BOOLEAN) return false;
  *out = o.via.boolean;
  return true;
}

inline bool AsString(const msgpack::object& o, std::string* out) {
  if (o.type != msgpack::type::STR) return false;
  out->assign(o.via.str.ptr, o.via.str.size);
  return true;
}

// Reads the elements of one msgpack array as named fields, in order. The first
// failure is kept, later reads do nothing, and status() reports it with the
// field's path ("transactions[3].amount"). Paths are only built on failure.
class FieldReader {
 public:
  // `vector` and `index` name the vector item this array is ("transactions",
  // 3); a null `vector` means the message body itself.
  // `fewest_fields` (when not 0) accepts an older sender's array that ends
  // early; HasMore() then says whether the newer fields are there.
  FieldReader(const msgpack::object& array, uint32_t expected_fields, const char* vector, size_t index,
              uint32_t fewest_fields = 0)
      : vector_(vector), index_(index) {
    const uint32_t fewest = fewest_fields == 0 ? expected_fields : fewest_fields;
    const std::string expected = fewest == expected_fields
                                     ? std::to_string(expected_fields)
                                     : std::to_string(fewest) + " to " + std::to_string(expected_fields);
    if (array.type != msgpack::type::ARRAY) {
      Fail(nullptr, "expected an array of " + expected + " fields, got " + TypeName(array));
    } else if (array.via.array.size < fewest || array.via.array.size > expected_fields) {
      Fail(nullptr,
           "expected an array of " + expected + " fields, got " + std::to_string(array.via.array.size));
    } else {
      next_ = array.via.array.ptr;
      end_ = array.via.array.ptr + array.via.array.size;
    }
  }

  bool HasMore() const { return next_ != nullptr && next_ < end_; }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  void Read(const char* name, int64_t* out) { Take(name, "an int64", AsInt64, out); }
  void Read(const char* name, uint64_t* out) { Take(name, "a uint64", AsUint64, out); }
  void Read(const char* name, int32_t* out) { Take(name, "an int32", AsInt32, out); }
  void Read(const char* name, uint32_t* out) { Take(name, "a uint32", AsUint32, out); }
  void Read(const char* name, bool* out) { Take(name, "a boolean", AsBool, out); }
  void Read(const char* name, double* out) { Take(name, "a number", AsDouble, out); }
  void Read(const char* name, std::string* out) { Take(name, "a string", AsString, out); }
  // A field of a type of one message's own, read by `convert`; `expected`
  // names what it takes in the error ("a worker state (0..3)").
  template <typename T>
  void Read(const char* name, const char* expected, bool (*convert)(const msgpack::object&, T*), T* out) {
    Take(name, expected, convert, out);
  }

  // Returns the items of an array field, or null (with the error kept).
  const msgpack::object_array* ReadArray(const char* name) {
    const msgpack::object* field = Next();
    if (field == nullptr) return nullptr;
    if (field->type != msgpack::type::ARRAY) {
      Fail(name, std::string("expected an array, got ") + TypeName(*field));
      return nullptr;
    }
    return &field->via.array;
  }

 private:
  template <typename T>
  void Take(const char* name, const char* expected, bool (*convert)(const msgpack::object&, T*), T* out) {
    const msgpack::object* field = Next();
    if (field != nullptr && !convert(*field, out)) {
      Fail(name, std::string("expected ") + expected + ", got " + Describe(*field));
    }
  }

  const msgpack::object* Next() { return ok() ? next_++ : nullptr; }

  void Fail(const char* name, const std::string& why) {
    std::string path;
    if (vector_ != nullptr) path = std::string(vector_) + "[" + std::to_string(index_) + "]";
    if (name != nullptr) {
      if (!path.empty()) path += '.';
      path += name;
    }
    status_ = Status::Error(path.empty() ? "message body: " + why : "field '" + path + "': " + why);
  }

  const char* vector_;
  size_t index_;
  const msgpack::object* next_ = nullptr;
  const msgpack::object* end_ = nullptr;
  Status status_;
};

// Strings, bins and exts point into the frame instead of being copied into the zone.
inline bool BorrowFromFrame(msgpack::type::object_type /*type*/, size_t /*length*/, void* /*user*/) {
  return true;
}

// One float of a feature row ("features[i]" in the error): any msgpack
// number, narrowed to float.
Status DecodeFeature(const msgpack::object& o, size_t index, float* value);

// Decodes every item of `items` with `decode_item` into `out`.
template <typename T, typename DecodeItem>
Status DecodeVector(const msgpack::object_array& items, DecodeItem decode_item, std::vector<T>* out) {
  out->resize(items.size);
  for (uint32_t i = 0; i < items.size; ++i) {
    Status status = decode_item(items.ptr[i], i, &(*out)[i]);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

// Checks the envelope and kind, unpacks the body and decodes it into a T with
// `decode_body(const msgpack::object&, T*)`, turning every msgpack exception
// into an error value.
template <typename T, typename DecodeBody>
Result<T> DecodeFrame(std::string_view frame, MessageKind expected, size_t max_frame_bytes,
                      DecodeBody decode_body) {
  Result<Envelope> envelope = ReadEnvelope(frame, max_frame_bytes);
  if (!envelope.ok()) return envelope.status();
  if (envelope->kind != expected) {
    return Status::Error(std::string("expected a ") + MessageKindName(expected) + ", got a " +
                         MessageKindName(envelope->kind));
  }
  const msgpack::unpack_limit limits(/*array=*/kMaxBatchItems, /*map=*/kMaxMapEntries,
                                     /*str=*/kMaxStringBytes, /*bin=*/kMaxStringBytes,
                                     /*ext=*/kMaxStringBytes, /*depth=*/kMaxDepth);
  try {
    size_t offset = envelope->body_offset;
    const msgpack::object_handle body =
        msgpack::unpack(frame.data(), frame.size(), offset, BorrowFromFrame, nullptr, limits);
    if (offset != frame.size()) {
      return Status::Error("frame has " + std::to_string(frame.size() - offset) + " bytes after the message");
    }
    T message;
    Status status = decode_body(body.get(), &message);
    if (!status.ok()) return status;
    return message;
  } catch (const msgpack::insufficient_bytes&) {
    return Truncated();
  } catch (const msgpack::array_size_overflow&) {
    return Status::Error("frame declares an array of more than " + std::to_string(kMaxBatchItems) + " items");
  } catch (const msgpack::str_size_overflow&) {
    return Status::Error("frame declares a string of more than " + std::to_string(kMaxStringBytes) +
                         " bytes");
  } catch (const msgpack::depth_size_overflow&) {
    return Status::Error("frame nests arrays or maps more than " + std::to_string(kMaxDepth) + " deep");
  } catch (const msgpack::size_overflow&) {
    return Status::Error("frame declares a map, bin or ext value larger than the decoder allows");
  } catch (const msgpack::unpack_error& e) {
    return Status::Error(std::string("frame is not valid msgpack: ") + e.what());
  } catch (const msgpack::type_error&) {
    return Status::Error("frame has a value of an unexpected msgpack type");
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory decoding a frame of " + std::to_string(frame.size()) + " bytes");
  } catch (const std::exception& e) {
    return Status::Error(std::string("frame could not be decoded: ") + e.what());
  }
}

}  // namespace scorepipe::wire

#endif  // SCOREPIPE_PROTO_WIRE_H_
