import NIOCore
import NIOHTTP1
import NIOPosix

/// An OpenAI-compatible endpoint that answers every chat completion at once, in process: the
/// stand-in for a hosted API whose latency is zero, so that what a hosted run's benchmark
/// measures is cje-prep itself (client, stages, journals, cache, export, validate). Every answer
/// is "7" (a judge's score, and a policy's response), with its top log probs when asked.
final class InstantServer: Sendable {
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup

    var port: Int { channel.localAddress?.port ?? 0 }

    init() throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Answer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }

    func stop() throws {
        try channel.close().wait()
        try group.syncShutdownGracefully()
    }

    static let plain = Array(
        #"{"id":"x","object":"chat.completion","model":"instant","choices":[{"index":0,"message":{"role":"assistant","content":"7"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":1}}"#
            .utf8)
    static let withLogprobs = Array(
        #"{"id":"x","object":"chat.completion","model":"instant","choices":[{"index":0,"message":{"role":"assistant","content":"7"},"finish_reason":"stop","logprobs":{"content":[{"token":"7","logprob":-0.2,"top_logprobs":[{"token":"7","logprob":-0.2},{"token":"8","logprob":-2.1},{"token":"6","logprob":-2.6},{"token":"5","logprob":-4.0}]}]}}],"usage":{"prompt_tokens":160,"completion_tokens":1}}"#
            .utf8)

    /// Collects a request's body, then answers it.
    final class Answer: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        // One channel's handler, used on its event loop only.
        private var body: [UInt8] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                _ = head
                body.removeAll(keepingCapacity: true)
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                let wantsLogprobs = String(decoding: body, as: UTF8.self).contains(#""logprobs":true"#)
                let answer = wantsLogprobs ? InstantServer.withLogprobs : InstantServer.plain
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: "\(answer.count)")
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                context.write(
                    wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer)))), promise: nil)
                // Kept alive: the client closes the connection when it is done with it.
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
