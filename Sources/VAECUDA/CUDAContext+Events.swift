/// The driver's event functions: ``CUDAContext``'s clock (``DeviceClock``) for ``ProfilingDevice``.
struct CUDAEvents {
    typealias Status = CUDAContext.Status
    typealias Create = @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> Status
    typealias Record = @convention(c) (OpaquePointer?, OpaquePointer?) -> Status
    typealias OneEvent = @convention(c) (OpaquePointer?) -> Status
    typealias Elapsed = @convention(c) (UnsafeMutablePointer<Float>, OpaquePointer?, OpaquePointer?) -> Status
    let create: Create
    let record: Record
    let synchronize: OneEvent
    let elapsed: Elapsed
    let destroy: OneEvent

    init(_ driver: SharedLibrary) throws {
        create = try driver.function("cuEventCreate", as: Create.self)
        record = try driver.function("cuEventRecord", as: Record.self)
        synchronize = try driver.function("cuEventSynchronize", as: OneEvent.self)
        // CUDA 12.8 added the _v2 name (the same arguments); older drivers have only the first.
        elapsed = try (try? driver.function("cuEventElapsedTime_v2", as: Elapsed.self)) ?? driver.function("cuEventElapsedTime", as: Elapsed.self)
        destroy = try (try? driver.function("cuEventDestroy_v2", as: OneEvent.self)) ?? driver.function("cuEventDestroy", as: OneEvent.self)
    }
}

extension CUDAContext: DeviceClock {
    /// An event (CU_EVENT_DEFAULT: timed) recorded on the default stream, after the work launched so far.
    public func recordMark() throws -> DeviceMark {
        try makeCurrent()
        if events == nil { events = try CUDAEvents(driver) }
        let events = events!
        var event = spareEvents.popLast()
        if event == nil { try check(events.create(&event, 0), "cuEventCreate") }
        do { try check(events.record(event, nil), "cuEventRecord") } catch { spareEvents.append(event!); throw error }
        return DeviceMark(UInt64(UInt(bitPattern: event)))
    }

    public func seconds(from start: DeviceMark, to end: DeviceMark) throws -> Double {
        guard let events else { throw CUDAError("CUDA on \(name): no mark was recorded") }
        try makeCurrent()
        let (first, last) = (OpaquePointer(bitPattern: UInt(start.rawValue)), OpaquePointer(bitPattern: UInt(end.rawValue)))
        try check(events.synchronize(last), "cuEventSynchronize")
        var milliseconds: Float = 0
        try check(events.elapsed(&milliseconds, first, last), "cuEventElapsedTime")
        return Double(milliseconds) / 1000
    }

    public func releaseMark(_ mark: DeviceMark) {
        if let event = OpaquePointer(bitPattern: UInt(mark.rawValue)) { spareEvents.append(event) }
    }
}
