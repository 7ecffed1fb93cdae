import CJPEG
import CPNG
import VAEFormats

/// Pixels decoded from an image file: 8 bits per channel, interleaved, rows top to bottom.
public struct DecodedImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `height · width · channels` bytes, interleaved (`RGBRGB…` for colour).
    public let pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels == 1 || channels == 3)
        precondition(pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// Decodes PNG (through libpng) and JPEG (through libjpeg) files to 8-bit grey or RGB.
///
/// Every PNG colour type and bit depth is accepted: palette and low-bit grey are expanded, 16-bit samples are
/// reduced to 8 bits, and an alpha channel (or `tRNS` transparency) is removed by compositing on black. Grey files
/// stay grey and colour files (palette included) come out RGB; converting between the two is the caller's choice.
/// A 16-bit file without colour-space chunks is taken as sRGB-encoded, like an 8-bit one, so its samples are
/// rescaled rather than gamma-converted.
///
/// ```swift
/// let image = try ImageDecoder.decode(try AtomicFile.read("cat.png"), source: "cat.png")
/// // image.width, image.height, image.channels (1 or 3), image.pixels
/// ```
public enum ImageDecoder {
    /// Lower-case file extensions the decoder reads.
    public static let fileExtensions = ["png", "jpg", "jpeg"]

    /// Larger images are refused before their pixels are allocated (a corrupt header can claim any size).
    public static let maximumPixels = 1 << 26

    /// Decodes the PNG or JPEG file held in `bytes`, recognised by its signature, not its name.
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - source: the file name used in error messages.
    /// - Throws: `FormatError`, e.g. `"x.png: not a PNG or JPEG image"` or `"x.png: corrupt PNG (libpng: …)"`.
    public static func decode(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        if bytes.starts(with: PNGEncoder.signature) { return try decodePNG(bytes, source: source) }
        if bytes.starts(with: [0xff, 0xd8, 0xff]) { return try decodeJPEG(bytes, source: source) }
        throw FormatError(source: source, "not a PNG or JPEG image (\(bytes.count) bytes, no PNG or JPEG signature)")
    }

    /// Reads and decodes the file at `path`.
    public static func decodeFile(_ path: String) throws -> DecodedImage {
        try decode(try AtomicFile.read(path), source: path)
    }

    /// libpng's simplified API: it reports errors in `png_image.message` and never longjmps through Swift frames.
    static func decodePNG(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }  // a no-op when libpng has already freed it after an error

        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw FormatError(source: source, "corrupt PNG (libpng: \(message(of: image)))") }

        let (width, height) = (Int(image.width), Int(image.height))
        let colour = image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let channels = colour ? 3 : 1
        try checkSize(width: width, height: height, channels: channels, source: source)
        image.format = colour ? UInt32(PNG_FORMAT_RGB) : UInt32(PNG_FORMAT_GRAY)
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)

        var black = png_color(red: 0, green: 0, blue: 0)
        var finished: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * channels) { buffer, initialized in
            buffer.initialize(repeating: 0)
            finished = png_image_finish_read(&image, &black, buffer.baseAddress, Int32(width * channels), nil)
            initialized = buffer.count
        }
        guard finished != 0 else { throw FormatError(source: source, "corrupt PNG (libpng: \(message(of: image)))") }
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// libjpeg through the CJPEG shim, whose error manager returns a message instead of exiting.
    static func decodeJPEG(_ bytes: [UInt8], source: String) throws -> DecodedImage {
        var image = vaekit_jpeg_image()
        var message = [CChar](repeating: 0, count: 256)
        let capacity = message.count
        let status = bytes.withUnsafeBufferPointer { data in
            vaekit_jpeg_decode(data.baseAddress, data.count, maximumPixels, &image, &message, capacity)
        }
        defer { vaekit_jpeg_free(&image) }
        guard status == 0, let start = image.pixels else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw FormatError(source: source, "corrupt JPEG (libjpeg: \(text.isEmpty ? "unknown error" : text))")
        }
        let (width, height, channels) = (Int(image.width), Int(image.height), Int(image.channels))
        guard channels == 1 || channels == 3 else {
            throw FormatError(source: source, "JPEG decoded to \(channels) channels, expected 1 (grey) or 3 (RGB)")
        }
        let pixels = Array(UnsafeBufferPointer(start: start, count: width * height * channels))
        return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    private static func checkSize(width: Int, height: Int, channels: Int, source: String) throws {
        guard width > 0, height > 0, width * height <= maximumPixels, width * channels <= Int(Int32.max) else {
            throw FormatError(source: source,
                "image of \(width)×\(height) pixels exceeds the limit of \(maximumPixels) pixels")
        }
    }

    /// The NUL-terminated text in `png_image.message` (a fixed-size C array imported as a tuple).
    private static func message(of image: png_image) -> String {
        var copy = image.message
        let text = withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "unknown error" : text
    }
}
