import Foundation
import VAETensor

/// Structural similarity (SSIM, Wang, Bovik, Sheikh & Simoncelli 2004) and its multi-scale form (MS-SSIM, Wang,
/// Simoncelli & Bovik 2003) between two batches of images `[batch, channels, height, width]` with values in [0, 1],
/// differentiable in both. Local statistics come from an 11×11 Gaussian window (σ = 1.5), over the positions where
/// the whole window fits (as scikit-image's `structural_similarity` with `gaussian_weights=True` computes them), with
/// C₁ = (0.01)², C₂ = (0.03)². MS-SSIM takes the contrast·structure term at each of up to five scales (2×2 average
/// pooling between them) and the luminance term at the last, with the standard weights
/// (0.0448, 0.2856, 0.3001, 0.2363, 0.1333); images too small for five scales use as many as fit, their weights
/// renormalised to sum to 1. Negative contrast·structure values are clamped to 0 before the weighted product.
public struct StructuralSimilarity: Sendable {
    public static let windowSize = 11
    public static let sigma = 1.5
    public static let scaleWeights: [Double] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    static let (c1, c2): (Float, Float) = (0.01 * 0.01, 0.03 * 0.03)

    public init() {}

    /// How many scales fit images of `height × width` (the window must fit at the last), at most five.
    public static func scales(height: Int, width: Int) -> Int {
        var (count, side) = (0, min(height, width))
        while count < scaleWeights.count && side >= windowSize { count += 1; side /= 2 }
        return count
    }

    /// Mean SSIM over each image's window positions (and channels): `[batch]`.
    public func ssim(_ x: Tensor, _ y: Tensor) -> Tensor {
        let (luminance, contrastStructure) = terms(x, y)
        return Self.imageMeans(luminance * contrastStructure, batch: x.shape[0])
    }

    /// MS-SSIM per image `[batch]`.
    public func multiScale(_ x: Tensor, _ y: Tensor) -> Tensor {
        let levels = Self.scales(height: x.shape[2], width: x.shape[3])
        precondition(levels >= 1, "MS-SSIM: images of \(x.shape[2])×\(x.shape[3]) are smaller than the 11×11 window")
        let weights = Self.scaleWeights.prefix(levels)
        let total = weights.reduce(0, +)
        var (x, y) = (x, y)
        var logProduct: Tensor?
        for (level, weight) in weights.enumerated() {
            let (luminance, contrastStructure) = terms(x, y)
            let isLast = level == levels - 1
            let term = Self.imageMeans(isLast ? luminance * contrastStructure : contrastStructure, batch: x.shape[0]).relu() + 1e-6
            let weighted = term.log() * Float(weight / total)
            logProduct = logProduct.map { $0 + weighted } ?? weighted
            if !isLast { (x, y) = (Self.halved(x), Self.halved(y)) }
        }
        return logProduct!.exp()
    }

    /// The luminance and contrast·structure maps over the valid window positions, `[batch·channels, 1, h', w']`.
    func terms(_ x: Tensor, _ y: Tensor) -> (luminance: Tensor, contrastStructure: Tensor) {
        let (x, y) = (Self.planes(x), Self.planes(y))
        let (meanX, meanY) = (Self.filtered(x), Self.filtered(y))
        let (meanXX, meanYY, meanXY) = (meanX * meanX, meanY * meanY, meanX * meanY)
        let varianceX = Self.filtered(x * x) - meanXX
        let varianceY = Self.filtered(y * y) - meanYY
        let covariance = Self.filtered(x * y) - meanXY
        let luminance = (meanXY * 2 + Self.c1) / (meanXX + meanYY + Self.c1)
        let contrastStructure = (covariance * 2 + Self.c2) / (varianceX + varianceY + Self.c2)
        return (luminance, contrastStructure)
    }

    /// Each channel as its own one-channel image: `[batch·channels, 1, h, w]`.
    static func planes(_ images: Tensor) -> Tensor {
        images.reshaped([images.shape[0] * images.shape[1], 1, images.shape[2], images.shape[3]])
    }

    /// Per image of the original batch, the mean over its channels and positions: `[batch]` from `[batch·channels, 1, h, w]`.
    static func imageMeans(_ maps: Tensor, batch: Int) -> Tensor { maps.reshaped([batch, -1]).mean(alongAxis: 1) }

    /// The 11×11 Gaussian window (σ = 1.5), normalised to sum 1: `[1, 1, 11, 11]`.
    static let window: Tensor = {
        let radius = Double(windowSize / 2)
        let line = (0..<windowSize).map { Foundation.exp(-(Double($0) - radius) * (Double($0) - radius) / (2 * sigma * sigma)) }
        let total = line.reduce(0, +)
        let normalised = line.map { $0 / total }
        return Tensor(shape: [1, 1, windowSize, windowSize],
                      scalars: normalised.flatMap { a in normalised.map { b in Float(a * b) } })
    }()

    static func filtered(_ planes: Tensor) -> Tensor {
        planes.conv2d(weight: Tensor.constant("SSIM window", beside: planes) { window }, bias: nil,
                      geometry: ConvolutionGeometry(kernelSize: windowSize))
    }

    /// 2×2 average pooling, stride 2 (an odd last row or column is dropped).
    static func halved(_ images: Tensor) -> Tensor {
        let channels = images.shape[1]
        let planes = planes(images)
        let average = Tensor.constant("2×2 average", beside: planes) { Tensor(shape: [1, 1, 2, 2], scalars: [0.25, 0.25, 0.25, 0.25]) }
        let pooled = planes.conv2d(weight: average, bias: nil,
                                   geometry: ConvolutionGeometry(kernelSize: 2, stride: 2))
        return pooled.reshaped([images.shape[0], channels, pooled.shape[2], pooled.shape[3]])
    }
}
