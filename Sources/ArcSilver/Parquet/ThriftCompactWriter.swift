/// Thrift's compact protocol, the writing half and only what Parquet's metadata uses
/// (apache/thrift doc/specs/thrift-compact-protocol.md): fields carry the delta from the
/// previous field id in their header byte, integers are ZigZag varints, a bool field's value
/// is its type nibble, and a struct ends with a 0 byte.
struct ThriftCompactWriter {
    enum FieldType: UInt8 {
        case boolTrue = 1, boolFalse = 2, i8 = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
        case binary = 8, list = 9, set = 10, map = 11, structure = 12
    }

    private(set) var bytes: [UInt8] = []
    /// The last field id written in each open struct, innermost last.
    private var lastFieldIDs: [Int16] = [0]

    init() {}

    // MARK: Fields

    mutating func field(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        varint(zigzag(Int64(value)))
    }

    mutating func field(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        varint(zigzag(value))
    }

    mutating func field(_ id: Int16, i16 value: Int16) {
        fieldHeader(id, .i16)
        varint(zigzag(Int64(value)))
    }

    mutating func field(_ id: Int16, _ value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func field(_ id: Int16, binary value: [UInt8]) {
        fieldHeader(id, .binary)
        binary(value)
    }

    mutating func field(_ id: Int16, _ value: String) {
        field(id, binary: Array(value.utf8))
    }

    /// Opens a struct (or a union, written the same way) as field `id`; close it with `endStruct`.
    mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .structure)
        lastFieldIDs.append(0)
    }

    mutating func endStruct() {
        bytes.append(0)
        lastFieldIDs.removeLast()
    }

    /// A struct with no fields: Parquet's markers (StringType, MicroSeconds, TypeDefinedOrder).
    mutating func emptyStruct(_ id: Int16) {
        beginStruct(id)
        endStruct()
    }

    /// A list header as field `id`; the elements follow, written with the element methods.
    mutating func beginList(_ id: Int16, _ element: FieldType, count: Int) {
        fieldHeader(id, .list)
        listHeader(element, count: count)
    }

    // MARK: List elements

    mutating func element(_ value: Int32) { varint(zigzag(Int64(value))) }

    mutating func element(binary value: [UInt8]) { binary(value) }

    /// A struct inside a list: no field header, its own field ids from 0.
    mutating func beginElementStruct() { lastFieldIDs.append(0) }

    /// Ends the whole message: the outermost struct's stop byte.
    mutating func finish() -> [UInt8] {
        bytes.append(0)
        return bytes
    }

    // MARK: Encoding

    private mutating func fieldHeader(_ id: Int16, _ type: FieldType) {
        let delta = Int(id) - Int(lastFieldIDs[lastFieldIDs.count - 1])
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            varint(zigzag(Int64(id)))
        }
        lastFieldIDs[lastFieldIDs.count - 1] = id
    }

    private mutating func listHeader(_ element: FieldType, count: Int) {
        if count < 15 {
            bytes.append(UInt8(count) << 4 | element.rawValue)
        } else {
            bytes.append(0xF0 | element.rawValue)
            varint(UInt64(count))
        }
    }

    private mutating func binary(_ value: [UInt8]) {
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}
