import Dispatch
import Foundation
import Hummingbird
import Logging

/// The explorer over HTTP/1.1 (Hummingbird): every request goes to ``Explorer/handle(method:path:query:contentType:body:)``,
/// bodies are collected up to ``Explorer/bodyLimit`` (413 beyond), and an error never takes the server down.
public enum ExplorerServer {
    /// Serves until SIGINT or SIGTERM; `ready` is called with the bound port (the one the system chose for port 0).
    public static func run(_ explorer: Explorer, host: String, port: Int, ready: @escaping @Sendable (Int) -> Void) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let answer: APIResponse
            do {
                var request = request
                let body = try await request.collectBody(upTo: Explorer.bodyLimit)
                answer = await explorer.handle(method: request.method.rawValue, path: request.uri.path,
                                               query: request.uri.query ?? "",
                                               contentType: request.headers[.contentType], body: Array(buffer: body))
            } catch let error as HTTPResponseError where error.status == .contentTooLarge {
                answer = APIError(413, "request body over the limit of \(Explorer.bodyLimit) bytes (4 MiB)").response
            } catch {
                answer = APIError(400, "could not read the request: \(error)").response
            }
            var headers: HTTPFields = [.contentType: answer.contentType, .cacheControl: "no-store"]
            headers[.init("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .init(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        var logger = Logger(label: "vae-serve")
        logger.logLevel = .warning
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: "vae-serve"),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService()
    }

    /// ``run(_:host:port:ready:)`` from synchronous code: blocks until the server stops.
    public static func runBlocking(_ explorer: Explorer, host: String, port: Int, ready: @escaping @Sendable (Int) -> Void) throws {
        let finished = DispatchSemaphore(value: 0)
        let failure = LockedError()
        Task {
            do { try await run(explorer, host: host, port: port, ready: ready) } catch { failure.set(error) }
            finished.signal()
        }
        finished.wait()
        if let error = failure.get() { throw error }
    }
}

private final class LockedError: @unchecked Sendable {
    private var error: Error?
    private let lock = NSLock()
    func set(_ error: Error) { lock.lock(); self.error = error; lock.unlock() }
    func get() -> Error? { lock.lock(); defer { lock.unlock() }; return error }
}
