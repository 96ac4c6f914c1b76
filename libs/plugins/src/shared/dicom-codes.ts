/**
 * DICOM upper-layer and DIMSE codes in words (PS3.8 9.3.4, 9.3.8; PS3.7 annex C), so a
 * person on call reads "called AE title not recognized" instead of "1/1/7".
 */

const REJECT_RESULT: Record<number, string> = { 1: 'rejected permanently', 2: 'rejected transiently' };

const REJECT_SOURCE: Record<number, string> = {
  1: 'the service user',
  2: 'the service provider (ACSE)',
  3: 'the service provider (presentation layer)',
};

const REJECT_REASON: Record<number, Record<number, string>> = {
  1: {
    1: 'no reason given',
    2: 'application context name not supported',
    3: 'calling AE title not recognized',
    7: 'called AE title not recognized',
  },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};

export interface AssociateReject {
  result: number;
  source: number;
  reason: number;
}

/** "rejected permanently by the service user: called AE title not recognized". */
export function describeReject(reject: AssociateReject): string {
  const result = REJECT_RESULT[reject.result] ?? `rejected (result ${reject.result})`;
  const source = REJECT_SOURCE[reject.source] ?? `source ${reject.source}`;
  const reason = REJECT_REASON[reject.source]?.[reject.reason] ?? `reason ${reject.reason}`;
  return `${result} by ${source}: ${reason}`;
}

const ABORT_REASON: Record<number, string> = {
  0: 'reason not specified',
  1: 'unrecognized PDU',
  2: 'unexpected PDU',
  4: 'unrecognized PDU parameter',
  5: 'unexpected PDU parameter',
  6: 'invalid PDU parameter value',
};

/** "aborted by the service provider: unexpected PDU". */
export function describeAbort(abort: { source: number; reason: number }): string {
  if (abort.source === 0) return 'aborted by the service user (the node itself)';
  if (abort.source === 2) return `aborted by the service provider: ${ABORT_REASON[abort.reason] ?? `reason ${abort.reason}`}`;
  return `aborted (source ${abort.source}, reason ${abort.reason})`;
}

export const STATUS_SUCCESS = 0x0000;
export const STATUS_CANCEL = 0xfe00;
export const STATUS_PENDING = [0xff00, 0xff01];

const STATUS_WORDS: Record<number, string> = {
  0x0000: 'success',
  0xfe00: 'cancelled',
  0xff00: 'pending',
  0xff01: 'pending, optional keys not supported',
  0x0110: 'processing failure',
  0x0112: 'no such SOP instance',
  0x0122: 'SOP class not supported',
  0x0124: 'refused: not authorized',
  0x0211: 'unrecognized operation',
  0x0212: 'mistyped argument',
  0xa700: 'refused: out of resources',
  0xa900: 'identifier does not match SOP class',
};

/** "0xA700 (refused: out of resources)". */
export function describeStatus(status: number): string {
  const hex = `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
  const words = STATUS_WORDS[status] ?? (status >= 0xc000 && status <= 0xcfff ? 'unable to process' : undefined);
  return words ? `${hex} (${words})` : hex;
}
