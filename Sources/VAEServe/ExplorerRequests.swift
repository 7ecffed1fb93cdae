import Foundation

/// An answer of the explorer's API: a status, a content type and the body's bytes.
public struct APIResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    static func png(_ bytes: [UInt8]) -> APIResponse { APIResponse(status: 200, contentType: "image/png", body: bytes) }

    static func json(_ value: some Encodable) throws -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return APIResponse(status: 200, contentType: "application/json", body: Array(try encoder.encode(value)))
    }
}

/// A request the API refuses: a 4xx status and a message naming the field and what was expected.
public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var message: String
    public init(_ status: Int = 400, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { message }

    var response: APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let text = String(decoding: (try? encoder.encode(["error": message])) ?? Data(), as: UTF8.self)
        return APIResponse(status: status, contentType: "application/json", body: Array(text.utf8))
    }
}

/// `POST /api/decode`: a code (`z`, the model's latent width) or, for a VQ-VAE, a map of codebook indices
/// (`codes`, side × side); `label` picks the class of a conditional model.
struct DecodeRequest: Decodable {
    var run: String
    var z: [Double]?
    var codes: [Int]?
    var label: Int?
}

/// An image the explorer encodes: a test image by `index`, an uploaded PNG/JPEG as base64 (`image`), or a code.
struct Endpoint: Decodable {
    var index: Int?
    var image: String?
    var z: [Double]?
}

/// `POST /api/encode` with a JSON body (`{run, index}` or `{run, image}`); an image body names its run in the
/// query (`?run=NAME`).
struct EncodeRequest: Decodable {
    var run: String
    var index: Int?
    var image: String?
    var label: Int?
}

/// `POST /api/interpolate`: decodings along the line (or great circle, `spherical`) between two endpoints' codes.
struct InterpolateRequest: Decodable {
    var run: String
    var from: Endpoint
    var to: Endpoint
    var steps: Int?
    var spherical: Bool?
    var label: Int?
}

/// `POST /api/sample`: a grid of `count` draws from `sampler` with `seed`.
struct SampleRequest: Decodable {
    var run: String
    var seed: Int?
    var count: Int?
    var sampler: String?
    var label: Int?
}

/// What `POST /api/encode` answers: the code (the posterior mean), a VQ-VAE's code map, the image as the model
/// sees it and its reconstruction (PNG, base64).
struct EncodeResponse: Encodable {
    var z: [Double]
    var codes: [Int]?
    var label: Int?
    var input: String
    var reconstruction: String
}

enum RequestChecks {
    /// The largest magnitude a code coordinate may have.
    static let codeLimit = 1_000.0

    static func decode<Request: Decodable>(_ type: Request.Type, from body: [UInt8]) throws -> Request {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw APIError(400, "malformed request: \(describe(error))")
        } catch {
            throw APIError(400, "malformed request: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "" : "field \(keys.hasPrefix(".") ? String(keys.dropFirst()) : keys): "
        }
        switch error {
        case .dataCorrupted(let context): return path(context) + "not valid JSON (\(context.debugDescription))"
        case .keyNotFound(let key, let context): return path(context) + "missing field '\(key.stringValue)'"
        case .typeMismatch(let type, let context): return path(context) + "expected \(type)"
        case .valueNotFound(let type, let context): return path(context) + "expected \(type), got null"
        @unknown default: return "\(error)"
        }
    }

    /// `z` has `width` finite numbers within ±``codeLimit``.
    static func code(_ z: [Double], width: Int, field: String = "z") throws -> [Double] {
        guard z.count == width else { throw APIError(400, "\(field): expected \(width) numbers (the run's latent size), got \(z.count)") }
        if let bad = z.firstIndex(where: { !$0.isFinite || abs($0) > codeLimit }) {
            throw APIError(400, "\(field)[\(bad)]: expected a finite number within ±\(Int(codeLimit)), got \(z[bad])")
        }
        return z
    }

    static func integer(_ value: Int?, _ field: String, in range: ClosedRange<Int>, default fallback: Int) throws -> Int {
        guard let value else { return fallback }
        guard range.contains(value) else {
            throw APIError(400, "\(field): expected an integer from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    static func base64(_ text: String, field: String) throws -> [UInt8] {
        let payload = text.hasPrefix("data:") ? String(text.drop { $0 != "," }.dropFirst()) : text
        guard let data = Data(base64Encoded: payload, options: .ignoreUnknownCharacters) else {
            throw APIError(400, "\(field): expected a PNG or JPEG file as base64")
        }
        return Array(data)
    }

    static func query(_ query: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if let key = parts.first { values[key] = parts.count > 1 ? parts[1] : "" }
        }
        return values
    }
}
