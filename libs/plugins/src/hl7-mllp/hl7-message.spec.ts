import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessage, hl7Timestamp, parseAck, readFrame } from './hl7-message.js';

const msh = {
  sendingApplication: 'ROUNDS',
  sendingFacility: '',
  receivingApplication: 'RIS',
  receivingFacility: '',
  messageType: 'NMD^N02^NMD_N02',
  processingId: 'P',
  version: '2.5',
};

describe('HL7 messages and MLLP frames', () => {
  it('builds the MSH-only message with the time and control ID of this run', () => {
    assert.equal(
      buildMessage(msh, undefined, 'R1', hl7Timestamp(Date.UTC(2026, 2, 10, 9, 5, 7))),
      'MSH|^~\\&|ROUNDS||RIS||20260310090507+0000||NMD^N02^NMD_N02|R1|P|2.5',
    );
  });

  it("sets MSH-7 and MSH-10 of a configured message in that message's own field separator", () => {
    const built = buildMessage(msh, 'MSH#^~\\&#A##B####ADT^A01#OLD#P#2.3\r\nPID#1##X\n', 'R2', 'TS');
    assert.equal(built, 'MSH#^~\\&#A##B##TS##ADT^A01#R2#P#2.3\rPID#1##X');
  });

  it('waits for the rest of a frame that has not ended, and reads one that has', () => {
    assert.deepEqual(readFrame(Buffer.from('\x0bMSH|'), 100), { kind: 'incomplete' });
    assert.deepEqual(readFrame(Buffer.from('\x0bMSH|\x1c'), 100), { kind: 'incomplete' }, 'the <CR> after <FS> may come in the next packet');
    const read = readFrame(Buffer.from('\x0bMSH|x\x1c\rtrailing'), 100);
    assert.equal(read.kind === 'frame' && read.payload.toString(), 'MSH|x');
  });

  it('gives up on a frame that runs past the byte limit instead of waiting for the deadline', () => {
    assert.deepEqual(readFrame(Buffer.from(`\x0b${'x'.repeat(200)}`), 100), {
      kind: 'error',
      text: 'no MLLP end block (<FS><CR>) within 100 bytes (maxAckBytes)',
    });
  });

  it('reads MSA and the ERR text of a pre-2.5 ACK (ERR-1) with HL7 escapes undone', () => {
    const parsed = parseAck('MSH|^~\\&|RIS||ROUNDS||20260101||ACK|9|P|2.3\rMSA|AE|R1|Value \\F\\ too long\rERR|PID^1^5^103&Table value not found');
    assert.deepEqual(parsed, {
      ack: { code: 'AE', controlId: 'R1', text: 'Value | too long; Table value not found (HL7 error code 103)', messageType: 'ACK' },
    });
  });

  it('names an ERR condition code by HL7 table 0357 when the receiver gives no text', () => {
    const parsed = parseAck('MSH|^~\\&|RIS||ROUNDS||20260101||ACK^N02^ACK|9|P|2.5\rMSA|AR|R1\rERR|||207');
    assert.ok('ack' in parsed);
    assert.equal(parsed.ack.text, 'application internal error (HL7 error code 207)');
  });
});
