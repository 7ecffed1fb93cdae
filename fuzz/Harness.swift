// libFuzzer entry points for VAEKit's loaders. Built by fuzz/run.sh with one of -D FUZZ_IDX, -D FUZZ_SAFETENSORS,
// -D FUZZ_CONFIG; the loader sources are compiled into the same module, so no `import` of VAEKit targets is needed.
// A loader may reject any input with an error; what the fuzzer hunts for is a crash, a sanitizer report, a hang or
// a runaway allocation.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    #if FUZZ_IDX
    if let array = try? IDXReader.decode(bytes, source: "fuzz") {
        precondition(array.bytes.count == array.dimensions.reduce(1, *), "IDX data does not match its dimensions")
    }
    #elseif FUZZ_SAFETENSORS
    if let (tensors, _) = try? SafeTensors.decode(bytes, source: "fuzz") {
        for tensor in tensors {
            precondition(tensor.values.count == tensor.shape.reduce(1, *), "safetensors values do not match the shape")
        }
        // Whatever decodes must encode and decode to the same tensors.
        if let again = try? SafeTensors.encode(tensors, metadata: []),
           let (decoded, _) = try? SafeTensors.decode(again, source: "re-encoded") {
            precondition(decoded.map(\.name) == tensors.map(\.name) && decoded.map(\.shape) == tensors.map(\.shape),
                         "re-encoded safetensors differ")
        }
    }
    #elseif FUZZ_CONFIG
    let text = String(decoding: bytes, as: UTF8.self)
    do {
        let config = try ConfigLoader.parse(text, source: "fuzz.yaml")
        // A config that parses must survive its own YAML round trip unchanged.
        let again = try ConfigLoader.parse(config.yaml(), source: "round-trip")
        precondition(again == config, "config YAML round trip changed the config")
    } catch let error as ConfigError {
        precondition(!error.message.contains("\n"), "multi-line config error: \(error.message)")
    } catch {
        preconditionFailure("config parser threw a non-ConfigError: \(error)")
    }
    #endif
    return 0
}
