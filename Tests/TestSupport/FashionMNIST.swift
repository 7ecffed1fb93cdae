import Foundation

/// The real Fashion-MNIST files, when this machine has them (Debian's `dataset-fashion-mnist`).
public let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
public let hasFashionMNIST = FileManager.default.fileExists(atPath: fashionMNISTDirectory + "/train-images-idx3-ubyte.gz")
