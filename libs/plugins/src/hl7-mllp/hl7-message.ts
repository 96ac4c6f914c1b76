// HL7 v2 over MLLP, as much as a check needs: build the message it sends, take the ACK out of
// its MLLP frame, read MSA and ERR, and say in words what went wrong when any of that fails.

/** MLLP framing (HL7 v2 Appendix C): <VT> message <FS><CR>. */
export const START_BLOCK = 0x0b;
export const END_BLOCK = 0x1c;
export const CARRIAGE_RETURN = 0x0d;

/** What the frame reader found in the bytes so far. */
export type FrameResult = { kind: 'incomplete' } | { kind: 'frame'; payload: Buffer } | { kind: 'error'; text: string };

/** A short, printable preview of bytes that are not what they should be: control bytes as <0x..>. */
export function previewBytes(bytes: Buffer, max = 40): string {
  const shown = [...bytes.subarray(0, max)]
    .map((b) =>
      b === 0x0d ? '<CR>' : b === 0x0a ? '<LF>' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `<0x${b.toString(16).padStart(2, '0').toUpperCase()}>`,
    )
    .join('');
  return JSON.stringify(bytes.length > max ? `${shown}…` : shown);
}

/** Why bytes that do not start with <VT> are not MLLP, with a guess at what they are. */
function whatInstead(bytes: Buffer): string {
  const text = bytes.subarray(0, 8).toString('latin1');
  if (text.startsWith('HTTP/')) return ' — it answered in HTTP: is this a web port?';
  if (text.startsWith('MSH')) return ' — an HL7 message without MLLP framing: does the receiver expect MLLP?';
  if (bytes[0] === 0x15 && bytes[1] === 0x03) return ' — a TLS alert: the port speaks TLS, set tls';
  if (bytes[0] === 0x16 && bytes[1] === 0x03) return ' — a TLS handshake: the port speaks TLS, set tls';
  return '';
}

/**
 * Reads one MLLP frame from the start of `bytes`. Bytes after the frame are ignored; a frame
 * still open past `maxBytes` is an error rather than a wait for the deadline.
 */
export function readFrame(bytes: Buffer, maxBytes: number): FrameResult {
  if (bytes.length === 0) return { kind: 'incomplete' };
  if (bytes[0] !== START_BLOCK) {
    return { kind: 'error', text: `no MLLP start block: the reply begins with ${previewBytes(bytes)} instead of <VT> (0x0B)${whatInstead(bytes)}` };
  }
  const end = bytes.indexOf(END_BLOCK, 1);
  if (end === -1) {
    if (bytes.length > maxBytes) return { kind: 'error', text: `no MLLP end block (<FS><CR>) within ${maxBytes} bytes (maxAckBytes)` };
    return { kind: 'incomplete' };
  }
  if (end + 1 >= bytes.length) return { kind: 'incomplete' };
  if (bytes[end + 1] !== CARRIAGE_RETURN) {
    return { kind: 'error', text: `MLLP end block <FS> followed by ${previewBytes(bytes.subarray(end + 1, end + 2))} instead of <CR>` };
  }
  return { kind: 'frame', payload: bytes.subarray(1, end) };
}

/** Why the connection closed before a whole frame was read. */
export function closedEarly(bytes: Buffer): string {
  if (bytes.length === 0) return 'closed the connection without answering';
  return `closed the connection after ${bytes.length} bytes without the MLLP end block (<FS><CR>): ${previewBytes(bytes)}`;
}

/** MSH-7: now in UTC, with its offset said. */
export function hl7Timestamp(atMs: number): string {
  return `${new Date(atMs).toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

export interface MshValues {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  messageType: string;
  processingId: string;
  version: string;
}

/**
 * The message to send, segments joined by <CR>: the built-in MSH-only message, or `custom`
 * with its line ends made <CR> and its MSH-7 and MSH-10 set to `timestamp` and `controlId`.
 */
export function buildMessage(msh: MshValues, custom: string | undefined, controlId: string, timestamp: string): string {
  if (custom === undefined) {
    const f = msh;
    return `MSH|^~\\&|${f.sendingApplication}|${f.sendingFacility}|${f.receivingApplication}|${f.receivingFacility}|${timestamp}||${f.messageType}|${controlId}|${f.processingId}|${f.version}`;
  }
  const segments = custom.split(/\r\n|\r|\n/).filter((s) => s !== '');
  const separator = segments[0]![3]!;
  const fields = segments[0]!.split(separator);
  // fields[n - 1] is MSH-n: MSH-1 is the separator itself.
  fields[6] = timestamp;
  fields[9] = controlId;
  segments[0] = fields.join(separator);
  return segments.join('\r');
}

const ACK_CODES: Record<string, string> = {
  AA: 'application accept',
  AE: 'application error',
  AR: 'application reject',
  CA: 'commit accept',
  CE: 'commit error',
  CR: 'commit reject',
};

/** "AE (application error)". */
export function describeAckCode(code: string): string {
  const words = ACK_CODES[code];
  return words ? `${code} (${words})` : JSON.stringify(code);
}

// HL7 table 0357, message error condition codes (ERR-3 from v2.5 on).
const ERROR_CONDITIONS: Record<string, string> = {
  '0': 'message accepted',
  '100': 'segment sequence error',
  '101': 'required field missing',
  '102': 'data type error',
  '103': 'table value not found',
  '104': 'value too long',
  '200': 'unsupported message type',
  '201': 'unsupported event code',
  '202': 'unsupported processing ID',
  '203': 'unsupported version ID',
  '204': 'unknown key identifier',
  '205': 'duplicate key identifier',
  '206': 'application record locked',
  '207': 'application internal error',
};

interface Encoding {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

/** Text with HL7 escapes (\F\, \S\, \T\, \R\, \E\, \.br\) read back; other escapes dropped. */
function unescapeText(text: string, enc: Encoding): string {
  if (enc.escape === '') return text;
  const e = enc.escape.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${e}([^${e}]*)${e}`, 'g'), (_, code: string) => {
    switch (code) {
      case 'F':
        return enc.field;
      case 'S':
        return enc.component;
      case 'T':
        return enc.subcomponent;
      case 'R':
        return enc.repetition;
      case 'E':
        return enc.escape;
      case '.br':
        return ' ';
      default:
        return '';
    }
  });
}

/** What one ERR segment says, in words: the user message, else the condition code and its text. */
function errText(fields: string[], enc: Encoding): string | undefined {
  const text = (value: string | undefined) => (value === undefined ? '' : unescapeText(value, enc).trim());
  const userMessage = text(fields[8]);
  if (userMessage) return userMessage;
  // v2.5+: ERR-3 is code^text^system; before v2.5, ERR-1 is segment^sequence^field^code&text.
  const [code = '', words = ''] = (fields[3] ?? '').split(enc.component);
  const legacy = (fields[1] ?? '').split(enc.component)[3]?.split(enc.subcomponent) ?? [];
  const conditionCode = text(code) || text(legacy[0]);
  const conditionText = text(words) || text(legacy[1]) || ERROR_CONDITIONS[conditionCode] || '';
  if (!conditionCode && !conditionText) return undefined;
  return conditionCode ? `${conditionText || 'error'} (HL7 error code ${conditionCode})` : conditionText;
}

export interface Ack {
  /** MSA-1. */
  code: string;
  /** MSA-2: the control ID of the message acknowledged. */
  controlId: string;
  /** MSA-3 and the ERR segments' text, joined; '' when there is none. */
  text: string;
  /** MSH-9 of the ACK. */
  messageType: string;
}

/** The ACK in a frame's payload, or the reason it is not one. */
export function parseAck(payload: string): { ack: Ack } | { error: string } {
  const segments = payload.split(/\r\n|\r|\n/).filter((s) => s !== '');
  const msh = segments[0] ?? '';
  if (!msh.startsWith('MSH') || msh.length < 8) {
    return { error: `the reply is not an HL7 message (it does not begin with MSH): ${previewBytes(Buffer.from(payload, 'latin1'))}` };
  }
  const mshFields = msh.split(msh[3]!);
  const chars = mshFields[1] ?? '';
  const enc: Encoding = { field: msh[3]!, component: chars[0] ?? '^', repetition: chars[1] ?? '~', escape: chars[2] ?? '\\', subcomponent: chars[3] ?? '&' };
  const messageType = (mshFields[8] ?? '').split(enc.component).filter(Boolean).join('^');
  const fieldsOf = (name: string) => segments.filter((s) => s.startsWith(`${name}${enc.field}`) || s === name).map((s) => s.split(enc.field));
  const msa = fieldsOf('MSA')[0];
  if (!msa) return { error: `the reply is an HL7 message without an MSA segment (message type ${messageType || 'not given'}), not an acknowledgement` };
  const texts = [unescapeText(msa[3] ?? '', enc).trim(), ...fieldsOf('ERR').map((f) => errText(f, enc) ?? '')].filter((t) => t !== '');
  return { ack: { code: (msa[1] ?? '').trim(), controlId: (msa[2] ?? '').trim(), text: [...new Set(texts)].join('; '), messageType } };
}
