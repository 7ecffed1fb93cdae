/// A Float32 tensor: a contiguous row-major value with a shape.
///
/// Tensors are values (`[Float]` is copy-on-write). When a ``GradientTape`` is recording and an input is
/// watched, every op records its pullback so that ``GradientTape/gradients(of:withRespectTo:)`` can run
/// reverse mode over it.
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let y = (x * x).sum(alongAxis: 1)   // [14, 77]
/// ```
public struct Tensor: CustomStringConvertible {
    /// Dimensions, outermost first. A scalar has shape `[]`.
    public internal(set) var shape: [Int]
    /// Elements in row-major order, on the host: for a tensor on a device (``backend``) a copy back from it, so
    /// never read inside a step there.
    public internal(set) var scalars: [Float] {
        get {
            guard let deviceStorage else { return hostScalars }
            return deviceStorage.backend.download(deviceStorage)
        }
        set {
            hostScalars = newValue
            deviceStorage = nil
        }
    }
    /// The elements when they live on the host; empty when `deviceStorage` holds them.
    var hostScalars: [Float]
    /// The elements when they live on a device.
    public internal(set) var deviceStorage: (any DeviceStorage)?
    /// Position of this value on the recording tape, or -1 when it is not tracked.
    public internal(set) var node: Int = -1
    /// Serial of the tape that `node` refers to; a value from an older tape counts as a constant.
    var tapeSerial: Int = 0

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.hostScalars = scalars
    }

    /// A rank-0 tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    public var rank: Int { shape.count }
    public var count: Int { deviceStorage == nil ? hostScalars.count : shape.reduce(1, *) }
    /// True when this value is recorded on the current tape.
    public var isTracked: Bool { node >= 0 && tapeSerial == GradientTape.current?.serial }

    /// The value of a single-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return scalars[0]
    }

    /// This value with its tape history cut: gradients do not flow through the result.
    public var detached: Tensor { var copy = self; copy.node = -1; copy.tapeSerial = 0; return copy }

    /// True when every element is finite (no NaN, no ±∞).
    public var isFinite: Bool {
        // A sum is non-finite exactly when some element is (or when finite values overflow Float, which a
        // healthy model never reaches); the vectorised sum is far cheaper than a branch per element.
        if let deviceStorage { return deviceStorage.backend.allFinite([deviceStorage]) }
        return hostScalars.withUnsafeBufferPointer { Kernels.sum($0).isFinite }
    }

    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        let place = backend.map { ", on \($0.name)" } ?? ""
        return "Tensor(shape: \(shape)\(place), [\(shown)\(count > 8 ? ", …" : "")])"
    }

    /// Row `index` of a tensor viewed as `[shape[0], rest]`, as a plain array (no gradient).
    public func row(_ index: Int) -> ArraySlice<Float> {
        let width = shape.dropFirst().reduce(1, *)
        return scalars[index * width ..< (index + 1) * width]
    }
}

// String(format:) lives in Foundation.
import Foundation
