import Foundation

/// One named tensor in a safetensors file: row-major values and their shape.
public struct SafeTensorEntry: Equatable {
    /// The tensor's name, e.g. `encoder.layers.0.weight`.
    public var name: String
    /// The size of each dimension; `[]` is a scalar.
    public var shape: [Int]
    /// `shape.reduce(1, *)` values in row-major order.
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Reads and writes the Hugging Face safetensors format.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the data buffer. The header
/// maps each tensor name to `{"dtype":"F32","shape":[2,3],"data_offsets":[begin,end]}` (offsets relative to the
/// data buffer) and may hold string metadata under `"__metadata__"`.
///
/// ```swift
/// let bytes = try SafeTensors.encode([SafeTensorEntry(name: "bias", shape: [2], values: [0.5, -1])],
///                                    metadata: [("format", "pt")])
/// let (tensors, metadata) = try SafeTensors.decode(bytes, source: "model.safetensors")
/// ```
public enum SafeTensors {
    /// Largest header the reader accepts, as in the reference implementation: 100 MB.
    public static let maximumHeaderBytes = 100_000_000

    /// Encodes tensors as F32 and string metadata as a safetensors file.
    ///
    /// The bytes depend only on the contents, never on the order of `tensors`: like the reference implementation
    /// (which orders by dtype, then name; we write F32 only), tensors are sorted by the bytes of their UTF-8 names,
    /// both in the header and in the data buffer. `"__metadata__"` comes first with its pairs in the order given.
    /// The header is compact JSON padded with spaces to a multiple of 8 bytes, so the data buffer stays aligned.
    /// - Throws: `FormatError` for duplicate or reserved names, negative dimensions, or a value count that does not
    ///   match the shape.
    public static func encode(_ tensors: [SafeTensorEntry], metadata: [(String, String)] = []) throws -> [UInt8] {
        let source = "safetensors encoder"
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.name == later.name {
            throw FormatError(source: source, "tensor name \"\(later.name)\" appears twice")
        }
        var seenKeys = Set<String>()
        for (key, _) in metadata where !seenKeys.insert(key).inserted {
            throw FormatError(source: source, "metadata key \"\(key)\" appears twice")
        }

        var header = "{"
        if !metadata.isEmpty {
            let pairs = metadata.map { "\(QuotedString.json($0.0)):\(QuotedString.json($0.1))" }
            header += "\"__metadata__\":{" + pairs.joined(separator: ",") + "}"
        }
        var offset = 0
        for (index, tensor) in sorted.enumerated() {
            if tensor.name == "__metadata__" {
                throw FormatError(source: source, "\"__metadata__\" is reserved and cannot name a tensor")
            }
            guard let count = elementCount(tensor.shape), count == tensor.values.count else {
                throw FormatError(source: source,
                    "tensor \"\(tensor.name)\" has shape \(tensor.shape) but \(tensor.values.count) values")
            }
            let end = offset + count * 4
            if index > 0 || !metadata.isEmpty { header += "," }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            header += "\(QuotedString.json(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes += repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)

        var file = [UInt8]()
        file.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { file += $0 }
        file += headerBytes
        for tensor in sorted {
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { file += $0 }
            }
        }
        return file
    }

    /// Decodes a safetensors file, converting F32, F64, F16 and BF16 tensors to `Float`.
    ///
    /// Every number in the header is checked against the actual file size before anything is allocated, and the
    /// tensors must cover the data buffer exactly, without gaps or overlaps.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - source: the name used in error messages, usually the file path.
    /// - Returns: the tensors sorted by name, and the metadata.
    /// - Throws: `FormatError` naming `source` (and the tensor, where one is at fault).
    public static func decode(
        _ bytes: [UInt8], source: String
    ) throws -> (tensors: [SafeTensorEntry], metadata: [String: String]) {
        func fail(_ problem: String) -> FormatError { FormatError(source: source, problem) }

        guard bytes.count >= 8 else {
            throw fail("file of \(bytes.count) bytes is too short for a safetensors header length (8 bytes)")
        }
        let declaredLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard declaredLength <= UInt64(maximumHeaderBytes) else {
            throw fail("header length \(declaredLength) exceeds the limit of \(maximumHeaderBytes) bytes")
        }
        guard declaredLength <= UInt64(bytes.count - 8) else {
            throw fail("header length \(declaredLength) exceeds the \(bytes.count - 8) bytes after the length field")
        }
        let headerEnd = 8 + Int(declaredLength)
        let bufferSize = bytes.count - headerEnd

        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw fail("header is not a JSON object")
        }

        var metadata = [String: String]()
        if let rawMetadata = object["__metadata__"] {
            guard let dictionary = rawMetadata as? [String: Any] else {
                throw fail("\"__metadata__\" is not a JSON object")
            }
            for (key, value) in dictionary {
                guard let text = value as? String else {
                    throw fail("metadata value for \"\(key)\" is not a string")
                }
                metadata[key] = text
            }
        }

        var layouts = [TensorLayout]()
        for (name, description) in object where name != "__metadata__" {
            layouts.append(try TensorLayout(name: name, json: description, bufferSize: bufferSize, source: source))
        }
        try checkCoverage(layouts, bufferSize: bufferSize, source: source)

        layouts.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let tensors = bytes.withUnsafeBufferPointer { file in
            layouts.map { layout in
                SafeTensorEntry(name: layout.name, shape: layout.shape,
                                values: layout.dtype.convert(UnsafeBufferPointer(rebasing:
                                    file[(headerEnd + layout.begin)..<(headerEnd + layout.end)])))
            }
        }
        return (tensors, metadata)
    }

    /// Tensors sorted by offset must tile the data buffer: each starts where the previous ended.
    private static func checkCoverage(_ layouts: [TensorLayout], bufferSize: Int, source: String) throws {
        let byOffset = layouts.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous: String?
        for layout in byOffset {
            if layout.begin < position {
                throw FormatError(source: source,
                    "tensor \"\(layout.name)\" bytes \(layout.begin)..<\(layout.end) overlap tensor \"\(previous!)\"")
            }
            if layout.begin > position {
                throw FormatError(source: source,
                    "data buffer bytes \(position)..<\(layout.begin) before tensor \"\(layout.name)\" "
                    + "belong to no tensor")
            }
            position = layout.end
            previous = layout.name
        }
        if position != bufferSize {
            throw FormatError(source: source,
                "data buffer bytes \(position)..<\(bufferSize) at the end belong to no tensor")
        }
    }

    /// The number of elements of `shape`, or nil when a dimension is negative or the product overflows.
    static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}

/// The element types the reader understands; all are converted to `Float`.
enum SafeTensorDType: String {
    case float32 = "F32"
    case float64 = "F64"
    case float16 = "F16"
    case bfloat16 = "BF16"

    var byteSize: Int {
        switch self {
        case .float32: 4
        case .float64: 8
        case .float16, .bfloat16: 2
        }
    }

    /// Converts little-endian elements to `Float`; `bytes.count` is a multiple of `byteSize` (checked earlier).
    func convert(_ bytes: UnsafeBufferPointer<UInt8>) -> [Float] {
        let count = bytes.count / byteSize
        let raw = UnsafeRawBufferPointer(bytes)
        return [Float](unsafeUninitializedCapacity: count) { values, initialized in
            func load<Element: FixedWidthInteger>(_ index: Int, as type: Element.Type) -> Element {
                Element(littleEndian: raw.loadUnaligned(fromByteOffset: index * byteSize, as: type))
            }
            for index in 0..<count {
                switch self {
                case .float32: values[index] = Float(bitPattern: load(index, as: UInt32.self))
                case .float64: values[index] = Float(Double(bitPattern: load(index, as: UInt64.self)))
                case .float16: values[index] = Self.halfToFloat(load(index, as: UInt16.self))
                // bfloat16 is the top half of a float32.
                case .bfloat16: values[index] = Float(bitPattern: UInt32(load(index, as: UInt16.self)) << 16)
                }
            }
            initialized = count
        }
    }

    /// IEEE 754 binary16 to binary32, by hand because `Float16` is unavailable on Intel Macs.
    static func halfToFloat(_ half: UInt16) -> Float {
        let sign: Float = half & 0x8000 == 0 ? 1 : -1
        let exponent = Int((half >> 10) & 0x1f)
        let fraction = Float(half & 0x3ff)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24                              // zero or subnormal
        case 0x1f: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// Where one tensor lives in the data buffer, validated against the buffer's actual size.
struct TensorLayout {
    let name: String
    let dtype: SafeTensorDType
    let shape: [Int]
    let begin: Int
    let end: Int

    init(name: String, json: Any, bufferSize: Int, source: String) throws {
        func fail(_ problem: String) -> FormatError { FormatError(source: source, "tensor \"\(name)\" \(problem)") }

        guard let description = json as? [String: Any] else { throw fail("is not described by a JSON object") }
        guard let dtypeName = description["dtype"] as? String else { throw fail("has no \"dtype\" string") }
        guard let dtype = SafeTensorDType(rawValue: dtypeName) else {
            throw fail("has unsupported dtype \(dtypeName) (expected F32, F64, F16 or BF16)")
        }
        guard let shapeList = description["shape"] as? [Any] else { throw fail("has no \"shape\" array") }
        let shape = shapeList.compactMap { $0 as? Int }
        guard shape.count == shapeList.count else { throw fail("has a shape with non-integer entries") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("has a shape with negative entries \(shape)") }
        guard let count = SafeTensors.elementCount(shape) else { throw fail("has shape \(shape) whose size overflows") }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail("has shape \(shape) whose byte size overflows") }

        guard let offsetList = description["data_offsets"] as? [Any], offsetList.count == 2,
              let begin = offsetList[0] as? Int, let end = offsetList[1] as? Int else {
            throw fail("has no \"data_offsets\" pair [begin, end] of integers")
        }
        guard 0 <= begin, begin <= end, end <= bufferSize else {
            throw fail("has data_offsets [\(begin), \(end)] outside the data buffer of \(bufferSize) bytes")
        }
        guard end - begin == byteCount else {
            throw fail("has shape \(shape) of \(dtypeName) needing \(byteCount) bytes, "
                + "but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.begin = begin
        self.end = end
    }
}
