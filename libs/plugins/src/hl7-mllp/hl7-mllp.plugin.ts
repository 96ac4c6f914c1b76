import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { definePlugin, outcome, type CheckContext, type CheckOutcome, type Metric } from '../plugin.js';
import {
  connectPhaseText,
  describeNetworkError,
  formatSeconds,
  hostPort,
  latencyVerdict,
  secondsMetrics,
  secondsSince,
  timeoutText,
  type ConnectPhase,
} from '../shared/net-common.js';
import { readTlsFiles, TlsFileError, type TlsMaterial } from '../shared/tls-files.js';
import {
  buildMessage,
  CARRIAGE_RETURN,
  closedEarly,
  describeAckCode,
  END_BLOCK,
  hl7Timestamp,
  parseAck,
  readFrame,
  START_BLOCK,
  type Ack,
} from './hl7-message.js';
import { hl7MllpSchema, type Hl7MllpConfig } from './hl7-mllp.schema.js';

type Phase = ConnectPhase | 'ack';

interface Timings {
  connect?: number;
  tls?: number;
  ack?: number;
}

/** MSH-10: unique per run, so an ACK for an earlier message cannot pass for this one. */
function newControlId(): string {
  return `R${randomBytes(8).toString('hex').toUpperCase()}`;
}

function timingMetrics(t: Timings): Metric[] {
  return secondsMetrics([
    ['connect', t.connect],
    ['tls', t.tls],
    ['ack', t.ack],
  ]);
}

/** The outcome an ACK stands for: its code, that it answers our message, and the round trip. */
function judgeAck(ack: Ack, config: Hl7MllpConfig, where: string, sent: { controlId: string; type: string }, t: Timings): CheckOutcome {
  const metrics = timingMetrics(t);
  const said = ack.text ? `: ${ack.text}` : '';
  const head = `${where} answered ${describeAckCode(ack.code)}`;
  if (ack.controlId !== sent.controlId) {
    return outcome(
      'CRITICAL',
      'unexpected_response',
      `${head} for control ID ${JSON.stringify(ack.controlId)}, not the ${sent.controlId} just sent — the receiver acknowledged another message (a stale ACK on a shared connection, or a broken engine)`,
      metrics,
    );
  }
  switch (ack.code) {
    case 'AA':
    case 'CA':
      break;
    case 'AE':
    case 'CE':
      return outcome(
        config.errorAckStatus,
        'unexpected_response',
        `${head} to ${sent.type}${said || ' without saying why'} — it took the message but could not process it`,
        metrics,
      );
    case 'AR':
    case 'CR':
      return outcome(
        'CRITICAL',
        'unexpected_response',
        `${head} to ${sent.type}${said || ' without saying why'} — it refused the message (message type, version, processing ID or receiving application?)`,
        metrics,
      );
    default:
      return outcome(
        'CRITICAL',
        'protocol_error',
        `${where} answered with acknowledgment code ${describeAckCode(ack.code)}, which HL7 does not define (AA, AE, AR, CA, CE, CR)`,
        metrics,
      );
  }
  const seconds = t.ack ?? 0;
  const summary = `${head} to ${sent.type} ${sent.controlId} in ${formatSeconds(seconds)} (connect ${formatSeconds(t.connect ?? 0)}${t.tls !== undefined ? `, TLS ${formatSeconds(t.tls)}` : ''})${said}`;
  const latency = latencyVerdict(seconds, config.warning, config.critical);
  if (latency) return outcome(latency.status, latency.reason, `${summary}: round trip ${latency.text}`, metrics);
  return outcome('OK', 'ok', summary, metrics);
}

function exchange(config: Hl7MllpConfig, files: TlsMaterial | undefined, ctx: CheckContext): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    const { host, port } = config;
    const where = `${config.tls ? 'MLLP/TLS' : 'MLLP'} ${hostPort(host, port)}`;
    const controlId = newControlId();
    const message = buildMessage(config, config.message, controlId, hl7Timestamp(ctx.now()));
    const sentType = config.message === undefined ? config.messageType.split('^').slice(0, 2).join('^') : 'the configured message';
    const frame = Buffer.concat([Buffer.from([START_BLOCK]), Buffer.from(message, 'utf8'), Buffer.from([END_BLOCK, CARRIAGE_RETURN])]);
    const timings: Timings = {};
    let phase: Phase = 'connect';
    let lastMark = performance.now();
    let received = Buffer.alloc(0);
    let settled = false;
    // eslint-disable-next-line prefer-const -- assigned once, but read by finish() when the deadline came first
    let raw: net.Socket | undefined;
    let secure: tls.TLSSocket | undefined;

    const mark = (): number => {
      const now = performance.now();
      const seconds = secondsSince(lastMark, now);
      lastMark = now;
      return seconds;
    };
    const finish = (result: CheckOutcome, graceful = false): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      const stream = secure ?? raw;
      if (graceful && stream) stream.end();
      else {
        secure?.destroy();
        raw?.destroy();
      }
      resolve(result);
    };
    const phaseText = (): string =>
      phase === 'ack'
        ? `waiting for the ACK from ${where} (${received.length === 0 ? 'got nothing' : `got ${received.length} bytes without the end of the frame`})`
        : connectPhaseText(phase, host, port);
    const fail = (err: unknown): void => {
      if (ctx.signal.aborted) {
        finish(outcome('CRITICAL', 'timeout', timeoutText(secondsSince(startedAt), phaseText()), timingMetrics(timings)));
        return;
      }
      const { reason, text } = describeNetworkError(err, phase === 'ack' ? 'response' : phase, host, port);
      finish(outcome('CRITICAL', reason, text, timingMetrics(timings)));
    };
    const onAbort = (): void => fail(ctx.signal.reason);
    const broken = (text: string): void => finish(outcome('CRITICAL', 'protocol_error', `${where} ${text}`, timingMetrics(timings)));

    const ready = (stream: net.Socket): void => {
      phase = 'ack';
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        received = Buffer.concat([received, chunk]);
        const read = readFrame(received, config.maxAckBytes);
        if (read.kind === 'incomplete') return;
        timings.ack = mark();
        if (read.kind === 'error') return broken(`sent a reply that is not an MLLP frame: ${read.text}`);
        const parsed = parseAck(read.payload.toString('utf8'));
        if ('error' in parsed) return broken(`sent ${parsed.error}`);
        finish(judgeAck(parsed.ack, config, where, { controlId, type: sentType }, timings), true);
      });
      stream.on('end', () => broken(closedEarly(received)));
      mark();
      stream.write(frame);
    };

    const startedAt = performance.now();
    if (ctx.signal.aborted) {
      onAbort();
      return;
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const socket = net.connect({ host, port, signal: ctx.signal });
    raw = socket;
    socket.on('error', fail);
    socket.once('connect', () => {
      timings.connect = mark();
      if (!config.tls || !files) return ready(socket);
      phase = 'tls';
      const servername = config.tls.servername ?? (net.isIP(host) ? undefined : host);
      const wrapped = tls.connect({ socket, host, servername, rejectUnauthorized: config.tls.verify, ...files });
      secure = wrapped;
      wrapped.on('error', fail);
      wrapped.once('secureConnect', () => {
        timings.tls = mark();
        ready(wrapped);
      });
    });
  });
}

/** Sends an HL7 v2 message over MLLP and checks the ACK that comes back. */
export const hl7MllpPlugin = definePlugin({
  name: 'hl7-mllp',
  version: '1.0.0',
  description: 'Sends an HL7 v2 message over MLLP (optionally TLS) and checks the ACK: its code, that it answers this message, and the round trip.',
  configSchema: hl7MllpSchema,
  metrics: [
    { name: 'connect_seconds', unit: 'seconds', help: 'TCP connect (DNS included).' },
    { name: 'tls_seconds', unit: 'seconds', help: 'TLS handshake (with tls).' },
    { name: 'ack_seconds', unit: 'seconds', help: 'From the message sent to its whole ACK read: the round trip thresholds use.' },
  ],
  async run(config, ctx) {
    let files: TlsMaterial | undefined;
    if (config.tls) {
      try {
        files = await readTlsFiles(config.tls);
      } catch (e) {
        if (e instanceof TlsFileError) return outcome('UNKNOWN', 'config_error', `MLLP/TLS ${hostPort(config.host, config.port)}: ${e.message}`);
        throw e;
      }
    }
    return exchange(config, files, ctx);
  },
});
