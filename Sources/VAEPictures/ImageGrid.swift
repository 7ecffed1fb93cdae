import VAEFormats
import VAETensor

/// Tiles images into one PNG: `rows` of `columns`, a white gap of `gap` pixels (2 by default), grey or RGB.
public enum ImageGrid {
    /// `images`: `[count, channels·height·width]` with values in [0, 1] (clamped).
    public static func png(_ images: Tensor, imageShape: [Int], columns: Int, gap: Int = 2) throws -> [UInt8] {
        let (channels, height, width) = (imageShape[0], imageShape[1], imageShape[2])
        precondition(channels == 1 || channels == 3, "ImageGrid: 1 or 3 channels, got \(channels)")
        let count = images.shape[0]
        let columns = max(1, min(columns, count))
        let rows = (count + columns - 1) / columns
        let gridWidth = columns * (width + gap) + gap
        let gridHeight = rows * (height + gap) + gap
        var pixels = [UInt8](repeating: 255, count: gridWidth * gridHeight * channels)
        let size = height * width
        let all = images.scalars   // once: on a device, each read of `scalars` (and `row`) is a copy
        for index in 0..<count {
            let values = all[index * channels * size ..< (index + 1) * channels * size]
            let base = values.startIndex
            let (top, left) = (gap + (index / columns) * (height + gap), gap + (index % columns) * (width + gap))
            for y in 0..<height {
                for x in 0..<width {
                    for channel in 0..<channels {
                        let value = values[base + channel * size + y * width + x]
                        let byte = UInt8(max(0, min(255, (value * 255).rounded())))
                        pixels[((top + y) * gridWidth + left + x) * channels + channel] = byte
                    }
                }
            }
        }
        return try PNGEncoder.encode(width: gridWidth, height: gridHeight, channels: channels, pixels: pixels)
    }
}
