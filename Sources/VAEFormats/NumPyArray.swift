import Foundation

/// An array in NumPy's `.npy` format (version 1, 2 or 3): the header's dtype and shape, and the data bytes, read
/// as integers or floats on request. `.npz` files are zip archives of `.npy` files (``ZipArchive``).
///
/// ```swift
/// let classes = try NumPyArray(bytes: try archive.extract("latents_classes.npy"), source: "dsprites.npz")
/// let values = try classes.integers()   // row-major, classes.shape == [737280, 6]
/// ```
public struct NumPyArray {
    /// The element types read here: unsigned bytes and booleans, signed and unsigned integers, floats.
    public enum ElementType: String, Sendable {
        case uint8 = "u1", bool = "b1", int8 = "i1", int16 = "i2", int32 = "i4", int64 = "i8"
        case uint16 = "u2", uint32 = "u4", uint64 = "u8", float32 = "f4", float64 = "f8"

        var width: Int { Int(rawValue.dropFirst())! }
        var isFloat: Bool { rawValue.hasPrefix("f") }
    }

    public let shape: [Int]
    public let elementType: ElementType
    /// The data bytes, C order, little-endian.
    public let data: ArraySlice<UInt8>
    let source: String

    public var count: Int { shape.reduce(1, *) }

    public init(bytes: [UInt8], source: String) throws {
        self.source = source
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw FormatError(source: source, "not a NumPy .npy array (no \\x93NUMPY magic)")
        }
        let reader = ByteReader(bytes: bytes, source: source)
        let major = bytes[6]
        guard (1...3).contains(major) else { throw FormatError(source: source, ".npy format version \(major) is not supported (1–3)") }
        let headerLength = major == 1 ? try reader.u16(at: 8) : try reader.u32(at: 8)
        let headerStart = major == 1 ? 10 : 12
        let header = String(decoding: try reader.slice(at: headerStart, count: headerLength), as: UTF8.self)
        func value(_ key: String) throws -> Substring {
            guard let range = header.range(of: "'\(key)':") else {
                throw FormatError(source: source, ".npy header has no '\(key)' (header: \(header.trimmingCharacters(in: .whitespacesAndNewlines)))")
            }
            return header[range.upperBound...].drop { $0 == " " }
        }
        let descrField = try value("descr")
        guard descrField.first == "'", let close = descrField.dropFirst().firstIndex(of: "'") else {
            throw FormatError(source: source, ".npy header: 'descr' is not a quoted type string")
        }
        let descr = descrField[descrField.index(after: descrField.startIndex)..<close]
        guard let order = descr.first, "<|=".contains(order), let type = ElementType(rawValue: String(descr.dropFirst())) else {
            throw FormatError(source: source, ".npy dtype '\(descr)' is not supported (little-endian or byte-sized integers, booleans, float32, float64)")
        }
        if try value("fortran_order").hasPrefix("True") {
            throw FormatError(source: source, ".npy array is in Fortran order; save it in C order (numpy.ascontiguousarray)")
        }
        let shapeField = try value("shape")
        guard shapeField.first == "(", let shapeEnd = shapeField.firstIndex(of: ")") else {
            throw FormatError(source: source, ".npy header: 'shape' is not a tuple")
        }
        let dimensions = shapeField[shapeField.index(after: shapeField.startIndex)..<shapeEnd]
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dimensions.map { text -> Int in
            guard let size = Int(text), size >= 0 else { throw FormatError(source: source, ".npy header: shape entry '\(text)' is not a size") }
            return size
        }
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: type.width)
        guard !overflow else { throw FormatError(source: source, ".npy shape \(shape) is too large") }
        self.shape = shape
        self.elementType = type
        self.data = try reader.slice(at: headerStart + headerLength, count: byteCount)
    }

    /// The elements as integers (integer and boolean arrays), row-major.
    public func integers() throws -> [Int] {
        guard !elementType.isFloat else { throw FormatError(source: source, "expected integers, the array holds \(elementType)") }
        let width = elementType.width
        let signed = elementType.rawValue.hasPrefix("i")
        let base = data.startIndex
        return (0..<count).map { index in
            var value: UInt64 = 0
            for byte in 0..<width { value |= UInt64(data[base + index * width + byte]) << (8 * UInt64(byte)) }
            if signed && width < 8 && value & (1 << (UInt64(width) * 8 - 1)) != 0 { value |= ~0 << (UInt64(width) * 8) }
            return Int(truncatingIfNeeded: value)
        }
    }
}
