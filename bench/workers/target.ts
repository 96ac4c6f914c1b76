import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { serveWorker } from '../lib/processes.js';

/**
 * The local target both sides probe: a tiny HTTP server (200, 3-byte body) and a TCP
 * listener that accepts and waits for the client to hang up. It runs in its own
 * process, so its CPU is charged to neither side.
 */
const http = createHttpServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
  res.end('ok\n');
});
http.keepAliveTimeout = 1000;
const tcp = createTcpServer((socket) => {
  socket.on('error', () => {});
  socket.on('end', () => socket.end());
  socket.resume();
});

serveWorker({
  async listen() {
    await new Promise<void>((resolve) => http.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
    await new Promise<void>((resolve) => tcp.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
    return { httpPort: (http.address() as AddressInfo).port, tcpPort: (tcp.address() as AddressInfo).port };
  },
});
