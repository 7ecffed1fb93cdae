import Foundation
import VAEDistributions
import VAENN
import VAETensor

/// An autoregressive prior over a square map of discrete codes (VQ-VAE's latent), in raster order:
///
///     p(c) = Π_p p(c_p | c_<p)
///
/// Each conditional sees (1) the four neighbours that come before position p in raster order (a code outside
/// the map is the extra index K), (2) a learned embedding of p, and (3) a summary of every earlier code: a
/// masked linear map (MADE-style, Germain et al. 2015) from the embeddings of all positions to a context vector
/// per position, whose weights from positions q ≥ p are held at zero by a constant mask. An MLP turns the three
/// into K logits. Every factor conditions on earlier positions only, so the prior is normalised and −log p(c) is
/// a KL term of the VQ-VAE bound; drawing position by position gives code maps that ``VQVAE`` decodes into
/// samples. Training all positions of a batch is one pass (the targets are known), sampling is `positions` passes.
public final class CodePrior: Module {
    /// Embeddings `[K + 1, width]` of the left, up, up-left and up-right neighbours' codes (row K: off the map).
    public let neighbours: [Parameter]
    /// Embeddings `[positions, width]` of the position.
    public let position: Parameter
    /// Code embeddings `[K, width]` read by the masked context map.
    public let embedding: Parameter
    /// `[positions·contextSize, positions·width]`: position p's context from the embeddings of positions q < p.
    public let context: Parameter
    public let network: MLP          // (5·width + contextSize) → hidden → K logits
    public let side: Int
    public let codes: Int
    public let width: Int
    public let contextSize: Int
    /// 1 where a context row (p, ·) may read an embedding column (q, ·), i.e. q < p; 0 elsewhere.
    let mask: Tensor

    /// The four neighbours before (row, column) in raster order, as (Δrow, Δcolumn).
    static let offsets = [(0, -1), (-1, 0), (-1, -1), (-1, 1)]

    public init(codes: Int, side: Int, width: Int = 32, contextSize: Int = 32, hiddenSize: Int = 256,
                random: inout RandomStream) {
        self.codes = codes
        self.side = side
        self.width = width
        self.contextSize = contextSize
        let positions = side * side
        neighbours = Self.offsets.map { _ in Parameter(random.normal(shape: [codes + 1, width]) * 0.1) }
        position = Parameter(random.normal(shape: [positions, width]) * 0.1)
        embedding = Parameter(random.normal(shape: [codes, width]) * 0.1)
        // Scaled for the largest fan-in, (positions − 1)·width, as a Linear layer of that width would be.
        let bound = 1 / Float(Foundation.sqrt(Double(max(1, (positions - 1) * width))))
        context = Parameter(random.uniform(shape: [positions * contextSize, positions * width], in: -bound...bound))
        var allowed = [Float](repeating: 0, count: positions * contextSize * positions * width)
        for p in 0..<positions {
            for row in (p * contextSize)..<((p + 1) * contextSize) {
                for column in 0..<(p * width) { allowed[row * positions * width + column] = 1 }
            }
        }
        mask = Tensor(shape: [positions * contextSize, positions * width], scalars: allowed)
        network = MLP(sizes: [5 * width + contextSize, hiddenSize, codes], activation: .relu, random: &random)
        super.init()
    }

    public var positions: Int { side * side }

    /// Logits `[rows, K]` for the positions `positionsOfRows` of the maps in `maps` (row-major code maps, one
    /// `[positions]` run per map), one row per (map, position) pair listed.
    func logits(maps: [Int], rows: [(map: Int, position: Int)]) -> Tensor {
        var indices = [[Int]](repeating: [], count: Self.offsets.count)
        for (map, position) in rows {
            let (row, column) = (position / side, position % side)
            for (which, offset) in Self.offsets.enumerated() {
                let (r, c) = (row + offset.0, column + offset.1)
                indices[which].append((0..<side).contains(r) && (0..<side).contains(c) ? maps[map * positions + r * side + c] : codes)
            }
        }
        let mapCount = maps.count / positions
        let embedded = embedding.tensor.gathering(maps).reshaped([mapCount, positions * width])
        let contexts = embedded.matmul(context.tensor * mask, transposingOther: true).relu()
            .reshaped([mapCount * positions, contextSize])
        let contextRows = rows.count == mapCount * positions && rows.enumerated().allSatisfy { $0.offset == $0.element.map * positions + $0.element.position }
            ? contexts : contexts.gathering(rows.map { $0.map * positions + $0.position })
        let features = zip(neighbours, indices).map { $0.tensor.gathering($1) }
            + [position.tensor.gathering(rows.map(\.position)), contextRows]
        return network(Tensor.concatenate(features, alongAxis: 1))
    }

    /// −log p(c) per map, `[maps]`, for `maps.count / positions` code maps; differentiable in the parameters.
    public func negativeLogProbability(_ maps: [Int]) -> Tensor {
        let count = maps.count / positions
        let rows = (0..<count).flatMap { map in (0..<positions).map { (map: map, position: $0) } }
        let logits = logits(maps: maps, rows: rows)
        let target = logits.reshaped([rows.count * codes]).gathering(rows.indices.map { $0 * codes + maps[$0] })
        return (logits.logSumExp(alongAxis: 1) - target).reshaped([count, positions]).sum(alongAxis: 1)
    }

    /// `count` code maps drawn position by position, `count · positions` codes.
    public func sample(count: Int, random: inout RandomStream) -> [Int] {
        var maps = [Int](repeating: 0, count: count * positions)
        withoutGradients {
            for position in 0..<positions {
                let logits = logits(maps: maps, rows: (0..<count).map { (map: $0, position: position) })
                let draws = Categorical(logits: logits, categories: codes).sample(using: &random)
                for map in 0..<count {
                    maps[map * positions + position] = draws.row(map).firstIndex(of: 1)! - map * codes
                }
            }
        }
        return maps
    }
}
