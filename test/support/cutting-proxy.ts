// A loopback TCP proxy in front of a database server that cuts a connection (both sockets
// destroyed, the cutting statement never forwarded) when its client sends its N-th statement:
// a server lost in the middle of a conversation, at a chosen point, every time.
import net from 'node:net';

/** Counts the statements a client sends, from its bytes. */
type StatementCounter = (chunk: Buffer) => number;

export interface CuttingProxy extends AsyncDisposable {
  port: number;
  /** Cut each new connection at its n-th statement (1-based); undefined: forward all. */
  cutAt: number | undefined;
  /** Connections cut so far. */
  cuts: number;
}

export async function cuttingProxy(target: { host: string; port: number }, protocol: 'postgres' | 'mysql'): Promise<CuttingProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: CuttingProxy = {
    port: 0,
    cutAt: undefined,
    cuts: 0,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const cutAt = proxy.cutAt;
    const count = protocol === 'postgres' ? postgresStatements() : mysqlCommands();
    let seen = 0;
    client.on('data', (chunk) => {
      seen += count(chunk);
      if (cutAt !== undefined && seen >= cutAt) {
        proxy.cuts += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        sockets.delete(a);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}

/** PostgreSQL frontend messages after the (untyped) startup message: 'Q' simple query, 'P' parse. */
function postgresStatements(): StatementCounter {
  let buffer = Buffer.alloc(0);
  let started = false;
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    let statements = 0;
    for (;;) {
      if (!started) {
        if (buffer.length < 4) break;
        const length = buffer.readUInt32BE(0);
        if (buffer.length < length) break;
        buffer = buffer.subarray(length);
        started = true;
        continue;
      }
      if (buffer.length < 5) break;
      const length = buffer.readUInt32BE(1);
      if (buffer.length < 1 + length) break;
      const type = String.fromCharCode(buffer[0]!);
      if (type === 'Q' || type === 'P') statements += 1;
      buffer = buffer.subarray(1 + length);
    }
    return statements;
  };
}

/** MySQL client packets (3-byte length, sequence id): a command is a packet with sequence 0. */
function mysqlCommands(): StatementCounter {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    let commands = 0;
    while (buffer.length >= 4) {
      const length = buffer.readUIntLE(0, 3);
      if (buffer.length < 4 + length) break;
      if (buffer[3] === 0) commands += 1;
      buffer = buffer.subarray(4 + length);
    }
    return commands;
  };
}
