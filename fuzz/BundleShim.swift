import Foundation

// SwiftPM generates `Bundle.module` for targets with resources; the standalone fuzzer build has no resource bundle
// (the config fuzzer only calls `ConfigLoader.parse`, which never looks built-ins up).
extension Bundle {
    static var module: Bundle { Bundle.main }
}
