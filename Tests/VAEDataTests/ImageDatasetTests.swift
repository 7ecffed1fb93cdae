import Foundation
import Testing
import VAETensor
@testable import VAEData

private let fashionMNIST = "/usr/share/datasets/fashion-mnist"

@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"),
                "needs Fashion-MNIST in /usr/share/datasets/fashion-mnist"))
struct ImageDatasetTests {
    @Test func realFashionMNISTLoadsWithItsKnownShape() throws {
        let train = try ImageDataset.idx(directory: fashionMNIST, split: .train)
        let test = try ImageDataset.idx(directory: fashionMNIST, split: .test)
        #expect(train.count == 60000)
        #expect(test.count == 10000)
        for dataset in [train, test] {
            #expect(dataset.imageShape == [1, 28, 28])
            #expect(dataset.featureCount == 784)
            #expect(dataset.images.shape == [dataset.count, 784])
            #expect(dataset.labels.count == dataset.count)
            #expect(dataset.labels.allSatisfy { (0..<10).contains($0) })
            #expect(dataset.classCount == 10)
            let pixels = dataset.images.scalars
            #expect(pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            // Bytes 0 and 255 both occur, so scaling by 1/255 reaches both ends of [0, 1].
            #expect(pixels.min() == 0 && pixels.max() == 1)
        }
        #expect(train.source == fashionMNIST + "/train-images-idx3-ubyte.gz")
        // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
        for label in 0..<10 {
            #expect(train.labels.filter { $0 == label }.count == 6000)
            #expect(test.labels.filter { $0 == label }.count == 1000)
        }

        // Each pixel is its IDX byte divided by 255, in file order.
        let raw = try IDXReader.read(path: fashionMNIST + "/t10k-images-idx3-ubyte.gz")
        #expect(raw.dimensions == [10000, 28, 28])
        for index in stride(from: 0, to: raw.bytes.count, by: 9973) {
            #expect(test.images.scalars[index] == Float(raw.bytes[index]) / 255)
        }
        let rawLabels = try IDXReader.read(path: fashionMNIST + "/t10k-labels-idx1-ubyte.gz")
        #expect(test.labels == rawLabels.bytes.map(Int.init))
    }

    @Test func limitKeepsTheFirstImages() throws {
        let full = try ImageDataset.idx(directory: fashionMNIST, split: .test)
        let limited = try ImageDataset.idx(directory: fashionMNIST, split: .test, limit: 100)
        #expect(limited.count == 100)
        #expect(limited.labels == Array(full.labels.prefix(100)))
        #expect(limited.images.scalars == Array(full.images.scalars.prefix(100 * 784)))
        #expect(try ImageDataset.idx(directory: fashionMNIST, split: .test, limit: 20000).count == 10000)
        #expect(try ImageDataset.idx(directory: fashionMNIST, split: .test, limit: 0).count == 10000)

        let prefix = full.prefix(7)
        #expect(prefix.count == 7)
        #expect(prefix.labels == Array(full.labels.prefix(7)))
        #expect(prefix.images.scalars == Array(full.images.scalars.prefix(7 * 784)))
        #expect(full.prefix(0).count == 10000)
    }

    @Test func batchReturnsTheRequestedRows() throws {
        let test = try ImageDataset.idx(directory: fashionMNIST, split: .test)
        let indices = [9999, 0, 1234, 0]
        var noBinarization: RandomStream? = nil
        let batch = test.batch(indices, binarizing: &noBinarization)
        #expect(batch.shape == [4, 784])
        let all = test.images.scalars
        for (row, index) in indices.enumerated() {
            #expect(Array(batch.scalars[(row * 784)..<((row + 1) * 784)]) == Array(all[(index * 784)..<((index + 1) * 784)]),
                    "row \(row) is not image \(index)")
        }
        #expect(noBinarization == nil)
        #expect(test.batch(0..<0, binarizing: &noBinarization).shape == [0, 784])
    }

    @Test func binarizationDrawsBernoulliPixels() throws {
        let test = try ImageDataset.idx(directory: fashionMNIST, split: .test, limit: 1000)
        let grey = test.images.scalars
        var stream: RandomStream? = RandomStream(seed: 1, name: "binarization")
        let start = stream
        let binary = test.batch(0..<1000, binarizing: &stream).scalars
        #expect(binary.allSatisfy { $0 == 0 || $0 == 1 })
        // Black pixels can never turn on and white ones never off: the draw is 1 with probability = grey level.
        for (value, level) in zip(binary, grey) where level == 0 || level == 1 {
            #expect(value == level)
        }
        // 784,000 independent Bernoulli draws: the standard error of their mean is at most
        // sqrt(0.25 / 784000) ≈ 0.00057, so 0.003 is more than 5 standard errors.
        let greyMean = grey.reduce(0.0) { $0 + Double($1) } / Double(grey.count)
        let binaryMean = binary.reduce(0.0) { $0 + Double($1) } / Double(binary.count)
        #expect(abs(binaryMean - greyMean) < 0.003, "binary mean \(binaryMean) vs grey mean \(greyMean)")
        #expect(greyMean > 0.2 && greyMean < 0.4, "Fashion-MNIST's mean grey level is about 0.29, got \(greyMean)")

        // The stream is handed back advanced: the same stream gives the same draws, the advanced one new draws.
        #expect(stream != start)
        var replay = start
        #expect(test.batch(0..<1000, binarizing: &replay).scalars == binary)
        #expect(replay == stream)
        #expect(test.batch(0..<1000, binarizing: &stream).scalars != binary)
    }
}
