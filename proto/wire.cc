// The msgpack layer under proto/'s codecs (see wire.h).
#include "proto/wire.h"

#include <string>
#include <string_view>

namespace scorepipe::wire {
namespace {

HeaderRead ReadStringHeader(ByteCursor& cursor, uint64_t* size) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if ((tag & 0xe0u) == 0xa0u) {
    cursor.SkipByte();
    *size = tag & 0x1fu;
    return HeaderRead::kOk;
  }
  if (tag < 0xd9 || tag > 0xdb) return HeaderRead::kOtherType;
  cursor.SkipByte();
  const size_t width = size_t{1} << (tag - 0xd9);  // str8, str16, str32
  return cursor.ReadBigEndian(width, size) ? HeaderRead::kOk : HeaderRead::kTruncated;
}

Status NotOurs(std::string_view why) {
  return Status::Error("frame is not a scorepipe message: " + std::string(why));
}

}  // namespace

HeaderRead ReadArrayHeader(ByteCursor& cursor, uint64_t* size) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if ((tag & 0xf0u) == 0x90u) {
    cursor.SkipByte();
    *size = tag & 0x0fu;
    return HeaderRead::kOk;
  }
  if (tag != 0xdc && tag != 0xdd) return HeaderRead::kOtherType;
  cursor.SkipByte();
  return cursor.ReadBigEndian(tag == 0xdc ? 2 : 4, size) ? HeaderRead::kOk : HeaderRead::kTruncated;
}

HeaderRead ReadUnsigned(ByteCursor& cursor, uint64_t* value) {
  if (cursor.AtEnd()) return HeaderRead::kTruncated;
  const uint8_t tag = cursor.PeekByte();
  if (tag <= 0x7f) {
    cursor.SkipByte();
    *value = tag;
    return HeaderRead::kOk;
  }
  // uint8..uint64 are 0xcc..0xcf, int8..int64 are 0xd0..0xd3.
  if (tag < 0xcc || tag > 0xd3) return HeaderRead::kOtherType;
  const bool is_signed = tag >= 0xd0;
  const size_t width = size_t{1} << (tag - (is_signed ? 0xd0 : 0xcc));
  cursor.SkipByte();
  uint64_t raw = 0;
  if (!cursor.ReadBigEndian(width, &raw)) return HeaderRead::kTruncated;
  // The sign bit of a signed format marks a negative value.
  if (is_signed && (raw >> (width * 8 - 1)) != 0) return HeaderRead::kOtherType;
  *value = raw;
  return HeaderRead::kOk;
}

Status Truncated() { return Status::Error("truncated frame"); }

Status CheckRead(HeaderRead read, std::string_view other_type) {
  switch (read) {
    case HeaderRead::kOk:
      return Status::Ok();
    case HeaderRead::kTruncated:
      return Truncated();
    case HeaderRead::kOtherType:
      break;
  }
  return NotOurs(other_type);
}

Result<Envelope> ReadEnvelope(std::string_view frame, size_t max_frame_bytes) {
  if (frame.empty()) return Status::Error("empty frame");
  if (frame.size() > max_frame_bytes) {
    return Status::Error("frame is " + std::to_string(frame.size()) + " bytes; limit " +
                         std::to_string(max_frame_bytes));
  }
  ByteCursor cursor(frame);
  uint64_t value = 0;

  Status status = CheckRead(ReadArrayHeader(cursor, &value), "not a msgpack array");
  if (!status.ok()) return status;
  if (value != 4) return NotOurs("an array of " + std::to_string(value) + " elements, not 4");

  status = CheckRead(ReadStringHeader(cursor, &value), "bad magic");
  if (!status.ok()) return status;
  if (value != kWireMagic.size()) return NotOurs("bad magic");
  std::string_view magic;
  if (!cursor.ReadBytes(kWireMagic.size(), &magic)) return Truncated();
  if (magic != kWireMagic) return NotOurs("bad magic");

  status = CheckRead(ReadUnsigned(cursor, &value), "version is not an unsigned integer");
  if (!status.ok()) return status;
  if (value != kWireVersion) {
    return Status::Error("wire version " + std::to_string(value) + " not supported (this node speaks " +
                         std::to_string(kWireVersion) + ")");
  }

  status = CheckRead(ReadUnsigned(cursor, &value), "kind is not an unsigned integer");
  if (!status.ok()) return status;
  if (value < static_cast<uint64_t>(MessageKind::kTransactionBatch) ||
      value > static_cast<uint64_t>(MessageKind::kArchiveRecord)) {
    return Status::Error("unknown message kind " + std::to_string(value));
  }
  return Envelope{static_cast<MessageKind>(value), cursor.offset()};
}

const char* TypeName(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "a boolean";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return "an integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return "a float";
    case msgpack::type::STR:
      return "a string";
    case msgpack::type::BIN:
      return "binary data";
    case msgpack::type::ARRAY:
      return "an array";
    case msgpack::type::MAP:
      return "a map";
    case msgpack::type::EXT:
      return "an ext value";
  }
  return "an unknown msgpack type";
}

std::string Describe(const msgpack::object& o) {
  if (o.type == msgpack::type::POSITIVE_INTEGER) return std::to_string(o.via.u64);
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return std::to_string(o.via.i64);
  return TypeName(o);
}

Status DecodeFeature(const msgpack::object& o, size_t index, float* value) {
  double number = 0;
  if (AsDouble(o, &number)) {
    *value = static_cast<float>(number);
    return Status::Ok();
  }
  return Status::Error("field 'features[" + std::to_string(index) + "]': expected a number, got " +
                       Describe(o));
}

}  // namespace scorepipe::wire
