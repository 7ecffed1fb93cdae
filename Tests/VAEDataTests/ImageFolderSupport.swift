import Foundation
import VAEFormats

/// Writes `bytes` to `directory/relativePath`, creating sub-folders.
func writeFile(_ bytes: [UInt8], to relativePath: String, in directory: String) throws {
    let path = directory + "/" + relativePath
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                            withIntermediateDirectories: true)
    try AtomicFile.write(bytes, to: path)
}

/// Writes an 8-bit grey (1 channel) or RGB (3 channels) PNG with the project's own encoder.
func writePNG(_ relativePath: String, in directory: String, width: Int, height: Int, channels: Int = 1,
              pixels: [UInt8]) throws {
    try writeFile(try PNGEncoder.encode(width: width, height: height, channels: channels, pixels: pixels),
                  to: relativePath, in: directory)
}

/// PNG files of any colour type and bit depth, built byte by byte (the project's encoder writes only 8-bit grey
/// and RGB). Image data goes in zlib "stored" blocks, which need no compressor; chunk CRCs come from zlib.
enum HandMadePNG {
    /// - Parameters:
    ///   - colourType: 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA.
    ///   - scanlines: each row's packed sample bytes (big-endian for 16-bit), without the filter byte.
    ///   - extraChunks: chunks placed between IHDR and IDAT, such as `PLTE` and `tRNS`.
    static func file(width: Int, height: Int, bitDepth: UInt8, colourType: UInt8, scanlines: [[UInt8]],
                     extraChunks: [(String, [UInt8])] = []) -> [UInt8] {
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [bitDepth, colourType, 0, 0, 0]
        var raw: [UInt8] = []
        for line in scanlines { raw += [0] + line }  // filter type 0, None
        var file = PNGEncoder.signature
        file += chunk("IHDR", header)
        for (type, data) in extraChunks { file += chunk(type, data) }
        file += chunk("IDAT", zlibStored(raw))
        file += chunk("IEND", [])
        return file
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        bigEndian(UInt32(data.count)) + Array(type.utf8) + data + bigEndian(PNGEncoder.chunkCRC(type: type, data: data))
    }

    /// A zlib stream of uncompressed deflate blocks (RFC 1950/1951) followed by the Adler-32 of the data.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var stream: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let length = min(65535, data.count - offset)
            let final: UInt8 = offset + length == data.count ? 1 : 0
            stream += [final, UInt8(length & 0xff), UInt8(length >> 8),
                       UInt8(~length & 0xff), UInt8((~length >> 8) & 0xff)]
            stream += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in data {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return stream + bigEndian(b << 16 | a)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
}

/// Baseline JPEG files whose every 8×8 block is flat, built byte by byte: one Huffman table pair in which DC
/// category 0 is `00`, DC category 4 is `01`, and the only AC symbol is end-of-block (`0`). Quantiser 16 for DC,
/// so a DC difference of +8 (category 4, bits `1000`) raises a block by 8 · 16 / 8 = 16 levels above 128.
enum HandMadeJPEG {
    /// - Parameter raised: per component (1 for grey, 3 for YCbCr), whether its single 8×8 block is 144
    ///   rather than 128.
    static func file(raised: [Bool]) -> [UInt8] {
        let components = raised.count
        var file: [UInt8] = [0xff, 0xd8]
        file += segment(0xdb, [0x00] + [16] + [UInt8](repeating: 1, count: 63))  // DQT 0, zig-zag order
        var frame: [UInt8] = [8, 0, 8, 0, 8, UInt8(components)]  // precision, height 8, width 8
        for component in 0..<components { frame += [UInt8(component + 1), 0x11, 0] }
        file += segment(0xc0, frame)
        file += segment(0xc4, [0x00, 0, 2] + [UInt8](repeating: 0, count: 14) + [0x00, 0x04])  // DC table 0
        file += segment(0xc4, [0x10, 1] + [UInt8](repeating: 0, count: 15) + [0x00])  // AC table 0: EOB only
        var scan: [UInt8] = [UInt8(components)]
        for component in 0..<components { scan += [UInt8(component + 1), 0x00] }
        file += segment(0xda, scan + [0, 63, 0])
        var bits = ""
        for up in raised { bits += (up ? "01" + "1000" : "00") + "0" }
        while bits.count % 8 != 0 { bits += "1" }  // pad with 1s
        var data: [UInt8] = []
        var index = bits.startIndex
        while index < bits.endIndex {
            let next = bits.index(index, offsetBy: 8)
            let byte = UInt8(bits[index..<next], radix: 2)!
            data += byte == 0xff ? [0xff, 0x00] : [byte]  // byte stuffing
            index = next
        }
        return file + data + [0xff, 0xd9]
    }

    private static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let length = payload.count + 2
        return [0xff, marker, UInt8(length >> 8), UInt8(length & 0xff)] + payload
    }
}
