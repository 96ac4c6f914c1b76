import { createServer, type Server, type Socket } from 'node:net';

/**
 * How the fault injector answers. Each is a way a broken or wrong peer has been seen to
 * answer an MLLP client: a web server, a raw-HL7 receiver without framing, a peer that
 * closes mid-frame, a frame around something that is not HL7, an HL7 message that is no
 * ACK, or an <FS> not followed by <CR>. The last two keep the connection open: a frame
 * that never ends (a stream of bytes after <VT>), and half an ACK followed by silence.
 */
export type MllpFault = 'http' | 'unframed' | 'no-end-block' | 'not-hl7' | 'not-an-ack' | 'fs-without-cr' | 'endless' | 'half-then-silent';

/** The faults that keep the connection open after what they send. */
const KEEPS_OPEN: ReadonlySet<MllpFault> = new Set(['endless', 'half-then-silent']);

export interface MllpFaultPeer {
  port: number;
  close(): Promise<void>;
}

const VT = '\x0b';
const END = '\x1c\r';

/** The answer for `fault` to a message whose MSH-10 is `controlId`. */
function reply(fault: MllpFault, controlId: string): string {
  const ack = `MSH|^~\\&|FAULTS||ROUNDS||20260101000000||ACK^N02^ACK|F1|P|2.5\rMSA|AA|${controlId}\r`;
  switch (fault) {
    case 'http':
      return 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n';
    case 'unframed':
      return ack;
    case 'no-end-block':
      return VT + ack;
    case 'not-hl7':
      return `${VT}220 mail.example.org ESMTP ready\r${END}`;
    case 'not-an-ack':
      return `${VT}MSH|^~\\&|FAULTS||ROUNDS||20260101000000||ADT^A01^ADT_A01|F2|P|2.5\rPID|1||RT1\r${END}`;
    case 'fs-without-cr':
      return `${VT}${ack}\x1cX`;
    case 'endless':
      return VT;
    case 'half-then-silent':
      return VT + ack.slice(0, 30);
  }
}

/**
 * A small socket server that reads one MLLP message and answers it the broken way its
 * receiving application (MSH-5) names — `MSH-5 = not-hl7` gets a frame around an SMTP banner —
 * then closes. Not an HL7 implementation: the real one is python-hl7 (hl7.ts).
 */
export async function startMllpFaultPeer(): Promise<MllpFaultPeer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (!text.includes('\x1c')) return;
      const msh = text.replace(VT, '').split('\r')[0]!.split('|');
      const fault = msh[4] as MllpFault;
      if (!KEEPS_OPEN.has(fault)) {
        socket.end(reply(fault, msh[9] ?? ''), 'latin1');
        return;
      }
      socket.write(reply(fault, msh[9] ?? ''), 'latin1');
      if (fault === 'endless') {
        const garbage = Buffer.alloc(4096, 'x');
        const flood = setInterval(() => socket.write(garbage), 5);
        socket.on('close', () => clearInterval(flood));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
