import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort, configErrors, metric, runCheck, selfSignedCert } from '../testing/index.js';
import { startHl7Listener, type Hl7Listener } from '../../../../test/peers/hl7.js';
import { startMllpFaultPeer, type MllpFault, type MllpFaultPeer } from '../../../../test/peers/mllp-faults.js';
import { makeTempDir } from '../../../../test/peers/process.js';
import { hl7MllpPlugin } from './hl7-mllp.plugin.js';

const controlIdOf = (summary: string) => / (R[0-9A-F]{16}) in /.exec(summary)?.[1];

describe('hl7-mllp against python-hl7 MLLP server', () => {
  let listener: Hl7Listener;
  let base: { host: string; port: number };

  before(async () => {
    listener = await startHl7Listener();
    base = { host: '127.0.0.1', port: listener.port };
  });

  after(async () => {
    await listener?.stop();
  });

  it('run() returns OK when the receiver answers AA for the message just sent, with the round trip', async () => {
    const report = await runCheck(hl7MllpPlugin, base);
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.equal(report.outcome.reason, 'ok');
    assert.match(report.outcome.summary, /^MLLP 127\.0\.0\.1:\d+ answered AA \(application accept\) to NMD\^N02 R[0-9A-F]{16} in \d+ ms \(connect \d+ ms\)$/);
    assert.ok(metric(report, 'ack_seconds') >= 0);
    assert.ok(metric(report, 'connect_seconds') >= 0);
  });

  it('run() sends a fresh control ID (MSH-10) on every run', async () => {
    const first = await runCheck(hl7MllpPlugin, base);
    const second = await runCheck(hl7MllpPlugin, base);
    const ids = [controlIdOf(first.outcome.summary), controlIdOf(second.outcome.summary)];
    assert.ok(ids[0] && ids[1], `${first.outcome.summary} / ${second.outcome.summary}`);
    assert.notEqual(ids[0], ids[1]);
  });

  it('run() sends a configured message with its lines as segments and its MSH-10 filled in', async () => {
    const message = 'MSH|^~\\&|ROUNDS|ICU|ADT||20000101000000||ADT^A01^ADT_A01|WILL-BE-REPLACED|T|2.5.1\nEVN|A01|20000101000000\nPID|1||RT-1||TEST^PATIENT\n';
    const report = await runCheck(hl7MllpPlugin, { ...base, message });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /answered AA \(application accept\) to the configured message R[0-9A-F]{16} in/);
  });

  it('run() returns WARNING with MSA-3 and the ERR text when the receiver answers AE', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, receivingApplication: 'ACK_AE' });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /^MLLP 127\.0\.0\.1:\d+ answered AE \(application error\) to NMD\^N02: Patient not found; No patient with this PID in ADT — it took the message but could not process it$/,
    );
    assert.ok(metric(report, 'ack_seconds') >= 0);
  });

  it('run() returns CRITICAL for an AE when errorAckStatus says so', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, receivingApplication: 'ACK_AE', errorAckStatus: 'CRITICAL' });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
  });

  it('run() returns CRITICAL with the HL7 error code in words when the receiver answers AR', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, receivingApplication: 'ACK_AR' });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /answered AR \(application reject\) to NMD\^N02: unsupported message type \(HL7 error code 200\) — it refused the message/,
    );
  });

  it('run() returns CRITICAL unexpected_response when the ACK is for another control ID', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, receivingApplication: 'WRONG_ID' });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'unexpected_response');
    assert.match(
      report.outcome.summary,
      /answered AA \(application accept\) for control ID "NOT-(R[0-9A-F]{16})", not the \1 just sent — the receiver acknowledged another message/,
    );
  });

  it('run() returns CRITICAL timeout at the deadline when the receiver never answers', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, receivingApplication: 'SILENT' }, { timeoutMs: 500 });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /^timed out after \d+ ms waiting for the ACK from MLLP 127\.0\.0\.1:\d+ \(got nothing\)$/);
    assert.equal(report.cutOff, false, 'the plugin returned by itself when its signal fired');
  });

  it('run() returns WARNING threshold when the round trip is outside the warning range', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, warning: '~:0' });
    assert.equal(report.outcome.status, 'WARNING', report.outcome.summary);
    assert.equal(report.outcome.reason, 'threshold');
    assert.match(report.outcome.summary, /: round trip \d+ ms is above the warning limit 0 s$/);
  });

  it('run() returns CRITICAL refused when nothing listens on the port', async () => {
    const report = await runCheck(hl7MllpPlugin, { ...base, port: await closedPort() });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'refused');
  });
});

describe('hl7-mllp over TLS', () => {
  let listener: Hl7Listener;
  let dir: string;
  let caFile: string;

  before(async () => {
    const cert = await selfSignedCert(30, 'localhost');
    listener = await startHl7Listener({ tls: { keyPem: cert.key, certPem: cert.cert } });
    dir = makeTempDir('hl7-tls');
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, cert.cert);
  });

  after(async () => {
    await listener?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('run() returns OK over TLS when the receiver certificate is trusted through caFile', async () => {
    const report = await runCheck(hl7MllpPlugin, { host: '127.0.0.1', port: listener.port, tls: { caFile } });
    assert.equal(report.outcome.status, 'OK', report.outcome.summary);
    assert.match(report.outcome.summary, /^MLLP\/TLS 127\.0\.0\.1:\d+ answered AA .* \(connect \d+ ms, TLS \d+ ms\)$/);
    assert.ok(metric(report, 'tls_seconds') >= 0);
  });

  it('run() returns CRITICAL tls when the receiver certificate is not trusted', async () => {
    const report = await runCheck(hl7MllpPlugin, { host: '127.0.0.1', port: listener.port, tls: {} });
    assert.equal(report.outcome.status, 'CRITICAL');
    assert.equal(report.outcome.reason, 'tls', report.outcome.summary);
    assert.match(report.outcome.summary, /self-signed/);
  });

  it('run() returns UNKNOWN config_error naming the field when a TLS file cannot be read', async () => {
    const report = await runCheck(hl7MllpPlugin, { host: '127.0.0.1', port: listener.port, tls: { caFile: join(dir, 'missing.pem') } });
    assert.equal(report.outcome.status, 'UNKNOWN');
    assert.equal(report.outcome.reason, 'config_error');
    assert.match(
      report.outcome.summary,
      /^MLLP\/TLS 127\.0\.0\.1:\d+: cannot read caFile .*missing\.pem: ENOENT.* — check the path and that the agent's user may read it$/,
    );
  });
});

describe('hl7-mllp against peers that answer wrongly', () => {
  let faults: MllpFaultPeer;

  before(async () => {
    faults = await startMllpFaultPeer();
  });

  after(async () => {
    await faults?.close();
  });

  const cases: Array<[string, MllpFault, RegExp]> = [
    [
      'an HTTP answer',
      'http',
      /sent a reply that is not an MLLP frame: no MLLP start block: the reply begins with "HTTP\/1\.1 400 Bad Request<CR><LF>.*" instead of <VT> \(0x0B\) — it answered in HTTP: is this a web port\?$/,
    ],
    [
      'an ACK without MLLP framing',
      'unframed',
      /no MLLP start block: the reply begins with "MSH\|.*" instead of <VT> \(0x0B\) — an HL7 message without MLLP framing: does the receiver expect MLLP\?$/,
    ],
    [
      'a frame that the peer closes before its end block',
      'no-end-block',
      /closed the connection after \d+ bytes without the MLLP end block \(<FS><CR>\): "<0x0B>MSH\|/,
    ],
    [
      'a frame around something that is not HL7',
      'not-hl7',
      /sent the reply is not an HL7 message \(it does not begin with MSH\): "220 mail\.example\.org ESMTP ready<CR>"$/,
    ],
    [
      'an HL7 message that is not an acknowledgement',
      'not-an-ack',
      /sent the reply is an HL7 message without an MSA segment \(message type ADT\^A01\^ADT_A01\), not an acknowledgement$/,
    ],
    ['an end block without its carriage return', 'fs-without-cr', /MLLP end block <FS> followed by "X" instead of <CR>$/],
  ];
  it('run() returns CRITICAL protocol_error at maxAckBytes, long before its deadline, when the peer streams a frame that never ends', async () => {
    const report = await runCheck(
      hl7MllpPlugin,
      { host: '127.0.0.1', port: faults.port, receivingApplication: 'endless', maxAckBytes: 8192 },
      { timeoutMs: 10_000 },
    );
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'protocol_error');
    assert.match(report.outcome.summary, /no MLLP end block \(<FS><CR>\) within 8192 bytes \(maxAckBytes\)/);
    assert.ok(report.durationMs < 5000, `took ${report.durationMs} ms`);
  });

  it('run() returns CRITICAL timeout at the deadline, saying how much of the frame came, when the peer sends half an ACK and falls silent', async () => {
    const report = await runCheck(hl7MllpPlugin, { host: '127.0.0.1', port: faults.port, receivingApplication: 'half-then-silent' }, { timeoutMs: 600 });
    assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
    assert.equal(report.outcome.reason, 'timeout');
    assert.match(report.outcome.summary, /waiting for the ACK from MLLP 127\.0\.0\.1:\d+ \(got 31 bytes without the end of the frame\)$/);
    assert.equal(report.cutOff, false, 'the plugin returned by itself when its signal fired');
  });

  for (const [what, fault, summary] of cases) {
    it(`run() returns CRITICAL protocol_error with the framing fault in words for ${what}`, async () => {
      const report = await runCheck(hl7MllpPlugin, { host: '127.0.0.1', port: faults.port, receivingApplication: fault });
      assert.equal(report.outcome.status, 'CRITICAL', report.outcome.summary);
      assert.equal(report.outcome.reason, 'protocol_error');
      assert.match(report.outcome.summary, summary);
    });
  }
});

describe('hl7-mllp config', () => {
  const base = { host: 'engine.example.org' };
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a host with a scheme', { host: 'mllp://engine' }, 'host: must be a host name or IP address, without scheme or port'],
    [
      'a sending application with a separator',
      { sendingApplication: 'ROUNDS|X' },
      'sendingApplication: must not contain the HL7 separators | ^ ~ \\ & (write the components in messageType)',
    ],
    ['a receiving facility with a line break', { receivingFacility: 'ICU\r' }, 'receivingFacility: must use plain printable ASCII (HL7 MSH field)'],
    ['a message type that is not one', { messageType: 'ping' }, 'messageType: must be an HL7 message type such as NMD^N02^NMD_N02, ADT^A01 or QRY^A19'],
    ['an unknown processing ID', { processingId: 'X' }, 'processingId: must be P (production), D (debugging) or T (training)'],
    ['a version that is not HL7 v2', { version: '3.0' }, 'version: must be an HL7 v2 version such as 2.3, 2.5 or 2.5.1'],
    [
      'a message that does not begin with MSH',
      { message: 'PID|1||X' },
      'message: must be an HL7 v2 message whose first segment is MSH, e.g. "MSH|^~\\&|ROUNDS||RIS||||ADT^A01|1|P|2.5"',
    ],
    [
      'a message whose MSH ends before MSH-12',
      { message: 'MSH|^~\\&|ROUNDS||RIS||||ADT^A01|1' },
      'message: the MSH segment needs at least 12 fields (up to MSH-12, the version): MSH-10 and MSH-12 are what a receiver checks',
    ],
    [
      'MSH fields beside a message of its own',
      { message: 'MSH|^~\\&|A||B||||ADT^A01|1|P|2.5', messageType: 'ADT^A04' },
      'messageType: messageType is for the built-in message: write it into the MSH of message instead',
    ],
    ['an AE status that is not WARNING or CRITICAL', { errorAckStatus: 'OK' }, 'errorAckStatus: must be WARNING or CRITICAL'],
    [
      'a client certificate without its key',
      { tls: { certFile: '/etc/rounds/cert.pem' } },
      'tls.keyFile: certFile and keyFile go together: give both or neither',
    ],
    ['an unknown TLS field', { tls: { insecure: true } }, 'tls.insecure: unknown field'],
    ['a malformed threshold', { warning: 'slow' }, 'warning: "slow" is not a Nagios range: "slow" is not a number (examples: 10, 10:, ~:10, 10:20, @10:20)'],
    ['an unknown field', { ackTimeout: 5 }, 'ackTimeout: unknown field'],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what} with a field-named message`, () => {
      assert.equal(configErrors(hl7MllpPlugin, { ...base, ...change }), message);
    });
  }

  it('fills the documented defaults', () => {
    const parsed = hl7MllpPlugin.configSchema.parse(base);
    assert.equal(parsed.port, 2575);
    assert.equal(parsed.sendingApplication, 'ROUNDS');
    assert.equal(parsed.messageType, 'NMD^N02^NMD_N02');
    assert.equal(parsed.processingId, 'P');
    assert.equal(parsed.version, '2.5');
    assert.equal(parsed.errorAckStatus, 'WARNING');
    assert.equal(parsed.maxAckBytes, 65536);
  });
});
