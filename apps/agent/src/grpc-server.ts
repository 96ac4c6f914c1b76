import grpcJs, { Server, ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import { ServerGrpc } from '@nestjs/microservices';
import { AGENT_PROTO_PACKAGE, agentServiceDefinition } from '#rounds/common';

/**
 * The modules Nest's ServerGrpc would load with `createRequire`, which a bundler cannot follow:
 * handed over from these imports, they are in the single-file agent (scripts/build-agent.mjs) too.
 * Nest loads proto-loader in its constructor but calls it only to read a `protoPath`; the agent
 * hands it a definition made from the generated code (agentServiceDefinition), so it gets a
 * stand-in and protobufjs stays out of the agent's heap.
 */
const GRPC_PACKAGES: Record<string, unknown> = {
  '@grpc/grpc-js': grpcJs,
  '@grpc/proto-loader': {
    loadSync(): never {
      throw new Error('the agent serves agentServiceDefinition(), not a .proto file: pass packageDefinition, not protoPath');
    },
  },
};

/**
 * Nest's gRPC transport, extended to keep the port the OS actually bound (so
 * `listen: 127.0.0.1:0` works and the log shows the real address) and to turn a
 * bind failure into a sentence that names the setting to change. `interceptors` run on each
 * call's metadata before its body is read (the token check).
 */
export class AgentGrpcServer extends ServerGrpc {
  boundPort = 0;

  constructor(
    private readonly listenAddress: string,
    private readonly credentials: ServerCredentials,
    private readonly configPath: string,
    private readonly interceptors: ServerInterceptor[] = [],
  ) {
    super({
      url: listenAddress,
      package: AGENT_PROTO_PACKAGE,
      packageDefinition: agentServiceDefinition(),
      credentials,
    });
  }

  /** Called by ServerGrpc's constructor for grpc-js and proto-loader. */
  protected override loadPackageSynchronously<T>(name: string, ctx: string, loader?: () => T): T {
    return (GRPC_PACKAGES[name] as T | undefined) ?? super.loadPackageSynchronously(name, ctx, loader);
  }

  /** Called by ServerGrpc.listen(); replaces its bind so the bound port is kept. */
  override async createClient(): Promise<Server> {
    const server = new Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024, interceptors: this.interceptors });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.listenAddress, this.credentials, (error, port) => {
        if (error) {
          reject(
            new Error(
              `cannot listen on ${this.listenAddress}: ${error.message} — is another process using the port? ` +
                `Change \`listen\` in ${this.configPath} or set ROUNDS_AGENT_LISTEN`,
            ),
          );
        } else resolve(port);
      }),
    );
    return server;
  }
}
