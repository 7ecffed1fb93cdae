import Foundation
import TestSupport
import Testing
import VAEFormats
import VAETensor
@testable import VAEData

/// The message of the `FormatError` that `body` throws; fails the test when it throws nothing or something else.
private func formatErrorMessage(_ body: () throws -> Any) -> String {
    do {
        _ = try body()
        Issue.record("expected a FormatError, got none")
    } catch let error as FormatError {
        return error.message
    } catch {
        Issue.record("expected a FormatError, got \(error)")
    }
    return ""
}

/// A `height`×`width` constant grey PNG whose single value identifies it.
private func constantPNG(_ value: UInt8, width: Int = 4, height: Int = 4) throws -> [UInt8] {
    try PNGEncoder.encode(width: width, height: height, channels: 1,
                          pixels: [UInt8](repeating: value, count: width * height))
}

@Suite struct ImageDecoderTests {
    @Test func greyAndRGBPNGsDecodeToTheEncodedBytes() throws {
        var random = TestBytes(seed: 3)
        for channels in [1, 3] {
            let pixels = random.bytes(7 * 5 * channels)
            let png = try PNGEncoder.encode(width: 7, height: 5, channels: channels, pixels: pixels)
            let image = try ImageDecoder.decode(png, source: "fixture.png")
            #expect(image == DecodedImage(width: 7, height: 5, channels: channels, pixels: pixels))
        }
    }

    @Test func sixteenBitSamplesAreRescaledNotGammaConverted() throws {
        // 257·k in 16 bits is k in 8 bits; a gamma conversion would move the middle values.
        let levels: [UInt16] = [0, 257 * 64, 257 * 128, 257 * 200, 65535]
        let grey = HandMadePNG.file(width: 5, height: 1, bitDepth: 16, colourType: 0,
                                    scanlines: [levels.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }])
        #expect(try ImageDecoder.decode(grey, source: "grey16.png").pixels == [0, 64, 128, 200, 255])

        let rgb = HandMadePNG.file(width: 2, height: 1, bitDepth: 16, colourType: 2,
                                   scanlines: [[0x40, 0x40, 0x80, 0x80, 0xff, 0xff, 0x00, 0x00, 0x0a, 0x0a, 0xc8, 0xc8]])
        let decoded = try ImageDecoder.decode(rgb, source: "rgb16.png")
        #expect(decoded.channels == 3)
        #expect(decoded.pixels == [0x40, 0x80, 0xff, 0x00, 0x0a, 0xc8])
    }

    @Test func paletteAndLowBitDepthsExpand() throws {
        let palette: [UInt8] = [10, 20, 30, 200, 100, 0, 7, 8, 9, 255, 255, 255]
        let indexed = HandMadePNG.file(width: 4, height: 2, bitDepth: 8, colourType: 3,
                                       scanlines: [[0, 1, 2, 3], [3, 2, 1, 0]], extraChunks: [("PLTE", palette)])
        let image = try ImageDecoder.decode(indexed, source: "palette.png")
        #expect(image.channels == 3 && image.width == 4 && image.height == 2)
        let expected = [0, 1, 2, 3, 3, 2, 1, 0].flatMap { Array(palette[(3 * $0)..<(3 * $0 + 3)]) }
        #expect(image.pixels == expected)

        // 2-bit palette: four indices packed in one byte, most significant first.
        let packed = HandMadePNG.file(width: 4, height: 1, bitDepth: 2, colourType: 3,
                                      scanlines: [[0b00_01_10_11]], extraChunks: [("PLTE", palette)])
        #expect(try ImageDecoder.decode(packed, source: "palette2.png").pixels == Array(palette))

        // 1-bit and 4-bit grey scale to the full 8-bit range (1 → 255, 4-bit k → 17 k).
        let oneBit = HandMadePNG.file(width: 8, height: 1, bitDepth: 1, colourType: 0, scanlines: [[0b1010_0011]])
        #expect(try ImageDecoder.decode(oneBit, source: "bits.png").pixels == [255, 0, 255, 0, 0, 0, 255, 255])
        let fourBit = HandMadePNG.file(width: 2, height: 1, bitDepth: 4, colourType: 0, scanlines: [[0x3f]])
        #expect(try ImageDecoder.decode(fourBit, source: "nibbles.png").pixels == [51, 255])
    }

    @Test func alphaIsCompositedOnBlack() throws {
        // Opaque pixels keep their value; fully transparent ones become black.
        let greyAlpha = HandMadePNG.file(width: 3, height: 1, bitDepth: 8, colourType: 4,
                                         scanlines: [[90, 255, 200, 0, 255, 255]])
        let grey = try ImageDecoder.decode(greyAlpha, source: "ga.png")
        #expect(grey.channels == 1 && grey.pixels == [90, 0, 255])

        let rgba = HandMadePNG.file(width: 2, height: 1, bitDepth: 8, colourType: 6,
                                    scanlines: [[10, 150, 250, 255, 99, 99, 99, 0]])
        let colour = try ImageDecoder.decode(rgba, source: "rgba.png")
        #expect(colour.channels == 3 && colour.pixels == [10, 150, 250, 0, 0, 0])

        // tRNS on a palette: entry 1 is transparent.
        let palette: [UInt8] = [40, 50, 60, 200, 210, 220]
        let transparent = HandMadePNG.file(width: 2, height: 1, bitDepth: 8, colourType: 3, scanlines: [[0, 1]],
                                           extraChunks: [("PLTE", palette), ("tRNS", [255, 0])])
        #expect(try ImageDecoder.decode(transparent, source: "trns.png").pixels == [40, 50, 60, 0, 0, 0])
    }

    @Test func jpegDecodesThroughLibjpeg() throws {
        let grey = try ImageDecoder.decode(HandMadeJPEG.file(raised: [true]), source: "grey.jpg")
        #expect(grey == DecodedImage(width: 8, height: 8, channels: 1, pixels: [UInt8](repeating: 144, count: 64)))
        let flat = try ImageDecoder.decode(HandMadeJPEG.file(raised: [false]), source: "flat.jpg")
        #expect(flat.pixels == [UInt8](repeating: 128, count: 64))

        // Y = 144, Cb = 128, Cr = 144 → R = Y + 1.402 (Cr − 128) ≈ 166, G = Y − 0.714136 (Cr − 128) ≈ 133, B = 144.
        let colour = try ImageDecoder.decode(HandMadeJPEG.file(raised: [true, false, true]), source: "colour.jpg")
        #expect(colour.width == 8 && colour.height == 8 && colour.channels == 3)
        for pixel in 0..<64 {
            let rgb = colour.pixels[(3 * pixel)..<(3 * pixel + 3)].map(Int.init)
            #expect(abs(rgb[0] - 166) <= 1 && abs(rgb[1] - 133) <= 1 && rgb[2] == 144, "pixel \(pixel): \(rgb)")
        }
    }

    @Test func corruptFilesAreErrorsNamingTheFile() throws {
        var random = TestBytes(seed: 1)
        let png = try PNGEncoder.encode(width: 16, height: 16, channels: 1, pixels: random.bytes(256))
        for cut in [10, 40, png.count - 30] {  // in the signature, in IHDR-then-IDAT, in the last row
            let message = formatErrorMessage { try ImageDecoder.decode(Array(png.prefix(cut)), source: "cut.png") }
            #expect(message.hasPrefix("cut.png: corrupt PNG (libpng: "), "\(cut) bytes: \(message)")
        }
        var badCRC = png
        badCRC[30] ^= 0xff  // in IHDR's CRC
        #expect(formatErrorMessage { try ImageDecoder.decode(badCRC, source: "crc.png") }
                    .hasPrefix("crc.png: corrupt PNG (libpng: "))

        let text = Array("width,height\n3,4\n".utf8)
        #expect(formatErrorMessage { try ImageDecoder.decode(text, source: "notes.png") }
                    .hasPrefix("notes.png: not a PNG or JPEG image"))
        #expect(formatErrorMessage { try ImageDecoder.decode([], source: "empty.png") }
                    .hasPrefix("empty.png: not a PNG or JPEG image"))

        let jpeg = HandMadeJPEG.file(raised: [true, false, true])
        for cut in [3, 20, jpeg.count - 3] {
            let message = formatErrorMessage { try ImageDecoder.decode(Array(jpeg.prefix(cut)), source: "cut.jpg") }
            #expect(message.hasPrefix("cut.jpg: corrupt JPEG (libjpeg: "), "\(cut) bytes: \(message)")
        }
    }
}

@Suite struct ImageFolderTests {
    @Test func pixelsAreTheEncodedBytesOverTwoFiftyFiveInCHWOrder() throws {
        let folder = try makeTemporaryDirectory("values")
        defer { removeDirectory(folder) }
        var random = TestBytes(seed: 11)
        var encoded: [[UInt8]] = []
        for index in 0..<10 {
            let pixels = random.bytes(3 * 2 * 3)  // 3 wide, 2 high, RGB
            encoded.append(pixels)
            try writePNG("img\(index).png", in: folder, width: 3, height: 2, channels: 3, pixels: pixels)
        }
        let train = try ImageDataset.folder(directory: folder, split: .train)
        #expect(train.imageShape == [3, 2, 3])
        #expect(train.count == 9)
        #expect(train.labels.isEmpty && train.classNames.isEmpty)
        #expect(train.source == folder)
        // Interleaved RGBRGB… bytes become three planes, one image after another.
        let expected = encoded.prefix(9).flatMap { pixels in
            (0..<3).flatMap { channel in (0..<6).map { Float(pixels[3 * $0 + channel]) / 255 } }
        }
        #expect(train.images.scalars == expected)
    }

    @Test func labelsComeFromSortedSubFolderNames() throws {
        let folder = try makeTemporaryDirectory("labels")
        defer { removeDirectory(folder) }
        // Class folders deliberately not created in sorted order; "cat" has a nested folder (still class "cat").
        let layout: [(String, UInt8)] = [("dog/a.png", 1), ("cat/b.png", 2), ("ant/c.png", 3), ("cat/deep/d.png", 4),
                                         ("dog/e.png", 5), ("ant/f.png", 6), ("cat/g.png", 7), ("dog/h.png", 8),
                                         ("ant/i.png", 9), ("cat/j.png", 10), ("dog/k.png", 11)]
        for (path, value) in layout { try writeFile(try constantPNG(value), to: path, in: folder) }
        try writeFile(Array("not an image".utf8), to: "cat/readme.txt", in: folder)
        try writeFile(Array("not an image".utf8), to: "cat/.hidden.png", in: folder)

        let train = try ImageDataset.folder(directory: folder, split: .train)
        let test = try ImageDataset.folder(directory: folder, split: .test)
        #expect(train.classNames == ["ant", "cat", "dog"])
        #expect(test.classNames == ["ant", "cat", "dog"])
        #expect(train.classCount == 3)
        // Sorted paths: ant/c ant/f ant/i cat/b cat/deep/d cat/g cat/j dog/a dog/e dog/h | dog/k; position 9 is test.
        let sortedValues: [UInt8] = [3, 6, 9, 2, 4, 7, 10, 1, 5, 8, 11]
        let sortedLabels = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
        #expect(train.labels == Array(sortedLabels[0..<9]) + [sortedLabels[10]])
        #expect(test.labels == [sortedLabels[9]])
        let firstPixels = (0..<train.count).map { train.images.scalars[$0 * 16] }
        #expect(firstPixels == (Array(sortedValues[0..<9]) + [sortedValues[10]]).map { Float($0) / 255 })
        #expect(test.images.scalars[0] == Float(sortedValues[9]) / 255)
    }

    @Test func holdOutPutsEveryTenthSortedImageInTest() throws {
        let folder = try makeTemporaryDirectory("holdout")
        defer { removeDirectory(folder) }
        // Names sort as img00 … img24; the value of each image is its position + 1.
        for index in (0..<25).reversed() {
            try writeFile(try constantPNG(UInt8(index + 1), width: 2, height: 2),
                          to: "img" + (index < 10 ? "0" : "") + "\(index).png", in: folder)
        }
        let train = try ImageDataset.folder(directory: folder, split: .train)
        let test = try ImageDataset.folder(directory: folder, split: .test)
        func positions(_ dataset: ImageDataset) -> [Int] {
            (0..<dataset.count).map { Int((dataset.images.scalars[$0 * 4] * 255).rounded()) - 1 }
        }
        #expect(positions(test) == [9, 19])
        #expect(positions(train) == (0..<25).filter { $0 % 10 != 9 })
        let limited = try ImageDataset.folder(directory: folder, split: .train, limit: 12)
        #expect(positions(limited) == Array(positions(train).prefix(12)))
    }

    @Test func trainAndTestFoldersAreTheSplitsWhenBothExist() throws {
        let folder = try makeTemporaryDirectory("presplit")
        defer { removeDirectory(folder) }
        try writeFile(try constantPNG(10), to: "train/shoe/1.png", in: folder)
        try writeFile(try constantPNG(20), to: "train/bag/2.png", in: folder)
        try writeFile(try constantPNG(30), to: "test/shoe/3.png", in: folder)
        try writeFile(try constantPNG(40), to: "test/hat/4.png", in: folder)
        let train = try ImageDataset.folder(directory: folder, split: .train)
        let test = try ImageDataset.folder(directory: folder, split: .test)
        // Class indices over both splits, so a class only in test still has its own index.
        #expect(train.classNames == ["bag", "hat", "shoe"] && test.classNames == ["bag", "hat", "shoe"])
        #expect(train.labels == [0, 2] && test.labels == [1, 2])
        #expect(train.images.scalars[0] == Float(20) / 255 && train.images.scalars[16] == Float(10) / 255)
        #expect(test.images.scalars[0] == Float(40) / 255 && test.images.scalars[16] == Float(30) / 255)
        #expect(train.source == folder + "/train" && test.source == folder + "/test")
        #expect(test.classCount == 3)
    }

    @Test func resamplingWeightsAverageAreasAndInterpolateWhenEnlarging() {
        // 3 → 2: each output covers 1.5 inputs.
        let shrink = ImageDataset.resamplingWeights(from: 3, to: 2)
        #expect(shrink.map { $0.map(\.index) } == [[0, 1], [1, 2]])
        let (third, twoThirds): (Float, Float) = (1.0 / 3, 2.0 / 3)
        #expect(shrink[0].count == 2 && abs(shrink[0][0].weight - twoThirds) < 1e-6 && abs(shrink[0][1].weight - third) < 1e-6)
        #expect(shrink[1].count == 2 && abs(shrink[1][0].weight - third) < 1e-6 && abs(shrink[1][1].weight - twoThirds) < 1e-6)
        // 2 → 4: output centres at input positions −0.25, 0.25, 0.75, 1.25, clamped to the edges.
        let enlarge = ImageDataset.resamplingWeights(from: 2, to: 4)
        let plane: [Float] = [0, 1]
        let values = enlarge.map { $0.reduce(Float(0)) { $0 + $1.weight * plane[$1.index] } }
        #expect(values == [0, 0.25, 0.75, 1])
        for (input, output) in [(5, 3), (7, 2), (3, 8), (64, 28), (28, 64)] {
            for weights in ImageDataset.resamplingWeights(from: input, to: output) {
                #expect(abs(weights.reduce(0) { $0 + $1.weight } - 1) < 1e-6)
                #expect(weights.allSatisfy { (0..<input).contains($0.index) && $0.weight > 0 })
            }
        }
    }

    @Test func centreCropAndResizeOnKnownPatterns() {
        // A constant image stays constant through crop and every resize.
        let constant = [Float](repeating: 0.375, count: 2 * 5 * 7)
        for size in [1, 3, 5, 9] {
            let resized = ImageDataset.centreCropAndResize(constant, channels: 2, height: 5, width: 7, size: size)
            #expect(resized.count == 2 * size * size)
            #expect(resized.allSatisfy { abs($0 - 0.375) < 1e-6 })
        }
        // A 4×4 checkerboard halves to 0.5 everywhere; distinct 2×2 blocks halve to their means.
        let checkerboard = (0..<16).map { Float(($0 / 4 + $0 % 4) % 2) }
        #expect(ImageDataset.centreCropAndResize(checkerboard, channels: 1, height: 4, width: 4, size: 2)
                    == [0.5, 0.5, 0.5, 0.5])
        let blocks: [Float] = [1, 2, 3, 4,
                               5, 6, 7, 8,
                               9, 10, 11, 12,
                               13, 14, 15, 16]
        #expect(ImageDataset.centreCropAndResize(blocks, channels: 1, height: 4, width: 4, size: 2)
                    == [3.5, 5.5, 11.5, 13.5])
        // A 4-high, 6-wide image crops to its middle four columns; 3 high and 4 wide drops the odd column on the right.
        let wide = (0..<24).map(Float.init)
        #expect(ImageDataset.centreCropAndResize(wide, channels: 1, height: 4, width: 6, size: 4)
                    == [1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 15, 16, 19, 20, 21, 22])
        let odd = (0..<12).map(Float.init)  // 3 high, 4 wide
        #expect(ImageDataset.centreCropAndResize(odd, channels: 1, height: 3, width: 4, size: 3)
                    == [0, 1, 2, 4, 5, 6, 8, 9, 10])
    }

    @Test func folderResizesMixedSizesWhenAskedTo() throws {
        let folder = try makeTemporaryDirectory("resize")
        defer { removeDirectory(folder) }
        for index in 0..<10 {
            let (width, height) = index % 2 == 0 ? (8, 6) : (5, 9)
            try writeFile(try constantPNG(UInt8(20 * index), width: width, height: height),
                          to: "\(index).png", in: folder)
        }
        let train = try ImageDataset.folder(directory: folder, split: .train, imageSize: 4)
        #expect(train.imageShape == [1, 4, 4] && train.count == 9)
        for row in 0..<9 {
            let image = train.images.scalars[(row * 16)..<((row + 1) * 16)]
            #expect(image.allSatisfy { abs($0 - Float(20 * row) / 255) < 1e-6 })
        }
    }

    @Test func channelsConvertBetweenGreyAndColour() throws {
        let rgb = DecodedImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        #expect(ImageDataset.planes(of: rgb, channels: 3) == [1, Float(10) / 255, 0, Float(200) / 255, 0, Float(30) / 255])
        let luma = ImageDataset.planes(of: rgb, channels: 1)
        #expect(abs(luma[0] - 0.299) < 1e-6)
        #expect(abs(luma[1] - (0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255) < 1e-6)
        let grey = DecodedImage(width: 3, height: 1, channels: 1, pixels: [0, 51, 255])
        #expect(ImageDataset.planes(of: grey, channels: 3) == [0, 0.2, 1, 0, 0.2, 1, 0, 0.2, 1])

        let folder = try makeTemporaryDirectory("channels")
        defer { removeDirectory(folder) }
        for index in 0..<10 {
            try writePNG("\(index).png", in: folder, width: 2, height: 1, channels: 3, pixels: rgb.pixels)
        }
        #expect(try ImageDataset.folder(directory: folder, split: .train).imageShape == [3, 1, 2])
        let asGrey = try ImageDataset.folder(directory: folder, split: .train, channels: 1)
        #expect(asGrey.imageShape == [1, 1, 2])
        #expect(Array(asGrey.images.scalars.prefix(2)) == luma)
    }

    @Test func flipMirrorsEachImageExactlyAndOnlyHalfTheTime() throws {
        // 40 images of 2 channels × 2 rows × 3 columns, all different values.
        let count = 40
        let values = (0..<(count * 12)).map(Float.init)
        let dataset = ImageDataset(images: Tensor(shape: [count, 12], scalars: values), labels: [],
                                   imageShape: [2, 2, 3], source: "test")
        var flipping = BatchAugmentation(flipping: RandomStream(seed: 5, name: "flip"))
        let flipped = dataset.batch(0..<count, augmentation: &flipping).scalars
        #expect(flipping.flipping != RandomStream(seed: 5, name: "flip"))  // the stream advanced
        var mirroredCount = 0
        for image in 0..<count {
            let original = Array(values[(image * 12)..<((image + 1) * 12)])
            let mirror = stride(from: 0, to: 12, by: 3).flatMap { original[$0..<($0 + 3)].reversed() }
            let result = Array(flipped[(image * 12)..<((image + 1) * 12)])
            #expect(result == original || result == mirror)
            if result == mirror { mirroredCount += 1 }
        }
        #expect((8...32).contains(mirroredCount))  // ½ each: 20 expected, this range is ±4σ
        // The same stream gives the same flips; no stream gives the plain batch.
        var again = BatchAugmentation(flipping: RandomStream(seed: 5, name: "flip"))
        #expect(dataset.batch(0..<count, augmentation: &again).scalars == flipped)
        #expect(dataset.batch(0..<count).scalars == values)
        // An odd width keeps its middle column.
        let single = ImageDataset(images: Tensor(shape: [1, 3], scalars: [1, 2, 3]), labels: [], imageShape: [1, 1, 3],
                                  source: "test")
        var stream = RandomStream(seed: 1, name: "flip")
        var seen: Set<[Float]> = []
        for _ in 0..<20 { seen.insert(single.flippedHorizontally(single.images, random: &stream).scalars) }
        #expect(seen == [[1, 2, 3], [3, 2, 1]])
    }

    @Test func badFoldersAreErrorsNamingTheFolderOrFile() throws {
        let folder = try makeTemporaryDirectory("errors")
        defer { removeDirectory(folder) }
        try writeFile(Array("hello".utf8), to: "notes.txt", in: folder)
        let empty = formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train) }
        #expect(empty.hasPrefix(folder + ": no images found"), "\(empty)")
        #expect(empty.contains("*.png") && empty.contains("*.jpg"))

        let missing = formatErrorMessage { try ImageDataset.folder(directory: folder + "/nope", split: .train) }
        #expect(missing.hasPrefix(folder + "/nope: no such directory"))

        for index in 0..<12 { try writeFile(try constantPNG(UInt8(index)), to: "\(index).png", in: folder) }
        #expect(try ImageDataset.folder(directory: folder, split: .test).count == 1)

        // Mixed sizes without image_size: names the odd file, both sizes and the setting.
        try writeFile(try constantPNG(7, width: 5, height: 4), to: "10.png", in: folder)
        let mixed = formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train) }
        #expect(mixed.hasPrefix(folder + "/10.png: image is 5×4 but " + folder + "/0.png is 4×4"), "\(mixed)")
        #expect(mixed.contains("image_size"))
        try writeFile(try constantPNG(10), to: "10.png", in: folder)

        let png = try constantPNG(3)
        try writeFile(Array(png.prefix(png.count / 2)), to: "11.png", in: folder)
        let truncated = formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train) }
        #expect(truncated.hasPrefix(folder + "/11.png: corrupt PNG (libpng: "), "\(truncated)")

        try writeFile(Array("<html></html>".utf8), to: "11.png", in: folder)
        let notImage = formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train) }
        #expect(notImage == folder + "/11.png: not a PNG or JPEG image (13 bytes, no PNG or JPEG signature)")
        try writeFile(png, to: "11.png", in: folder)

        // An image outside the class folders while others are inside them.
        try writeFile(try constantPNG(3), to: "zebra/1.png", in: folder)
        let loose = formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train) }
        #expect(loose.hasPrefix(folder + "/0.png: image outside any class sub-folder"), "\(loose)")
        try FileManager.default.removeItem(atPath: folder + "/zebra")

        #expect(formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train, channels: 2) }
                    .contains("channels must be 1 (grey) or 3 (RGB), got 2"))
        #expect(formatErrorMessage { try ImageDataset.folder(directory: folder, split: .train, imageSize: 0) }
                    .contains("image size must be 1 or more"))

        let few = try makeTemporaryDirectory("few")
        defer { removeDirectory(few) }
        for index in 0..<3 { try writeFile(try constantPNG(UInt8(index)), to: "\(index).png", in: few) }
        #expect(formatErrorMessage { try ImageDataset.folder(directory: few, split: .test) }
                    .hasPrefix(few + ": only 3 images"))
    }

    @Test func jpegFilesAreReadFromFolders() throws {
        let folder = try makeTemporaryDirectory("jpeg")
        defer { removeDirectory(folder) }
        for index in 0..<10 {
            try writeFile(HandMadeJPEG.file(raised: [index % 2 == 0]), to: "\(index).JPG", in: folder)
        }
        let train = try ImageDataset.folder(directory: folder, split: .train)
        #expect(train.imageShape == [1, 8, 8] && train.count == 9)
        for row in 0..<9 {
            #expect(train.images.scalars[row * 64] == Float(row % 2 == 0 ? 144 : 128) / 255)
        }
    }
}

private let fashionMNISTImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

@Suite(.enabled(if: FileManager.default.fileExists(atPath: fashionMNISTImages), "needs Debian's dataset-fashion-mnist"))
struct MakeImageFolderScriptTests {
    @Test func scriptWritesAFolderTheLoaderReads() throws {
        let output = try makeTemporaryDirectory("script")
        defer { removeDirectory(output) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/make_image_folder.py").standardized.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, output, "--per-class", "3", "--test-per-class", "2"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let train = try ImageDataset.folder(directory: output, split: .train)
        let test = try ImageDataset.folder(directory: output, split: .test, imageSize: 32, channels: 1)
        #expect(train.imageShape == [3, 64, 64] && train.count == 30)
        #expect(test.imageShape == [1, 32, 32] && test.count == 20)
        #expect(train.classNames.count == 10 && train.classNames[0] == "0-t-shirt-top")
        #expect(train.labels == (0..<10).flatMap { [$0, $0, $0] })
        #expect(test.labels == (0..<10).flatMap { [$0, $0] })
        #expect(train.images.scalars.allSatisfy { (0...1).contains($0) })

        // The first training image of class 0 is Fashion-MNIST's first T-shirt, upsampled: its grey mean should be
        // close to the original's (bilinear upsampling preserves the mean up to edge effects).
        let raw = try IDXReader.read(path: fashionMNISTImages)
        let labels = try IDXReader.read(path: "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz").bytes
        let first = labels.firstIndex(of: 0)!
        let originalMean = raw.bytes[(first * 784)..<((first + 1) * 784)].reduce(0) { $0 + Float($1) } / 784 / 255
        let red = train.images.scalars[0..<4096].reduce(0, +) / 4096  // class 0's tint keeps red at full strength
        #expect(abs(red - originalMean) < 0.02, "upsampled mean \(red), original \(originalMean)")
    }
}
