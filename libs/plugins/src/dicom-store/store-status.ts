// C-STORE response statuses (PS3.4 B.2.3, PS3.7 C) in words a PACS administrator can act on.
import type { CheckStatus, Reason } from '../plugin.js';

export interface StoreVerdict {
  status: CheckStatus;
  reason: Reason;
  /** "0xA700 (refused: out of resources — …)". */
  text: string;
}

const hex = (status: number) => `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;

/** Exact codes first; the ranges below them. */
const EXACT: Record<number, Omit<StoreVerdict, 'text'> & { words: string }> = {
  0x0001: { status: 'WARNING', reason: 'unexpected_response', words: 'warning: stored with a warning the node did not explain' },
  0xb000: {
    status: 'WARNING',
    reason: 'unexpected_response',
    words: 'warning: coercion of data elements — stored, but the node changed some attributes, e.g. by a routing or morphing rule',
  },
  0xb006: { status: 'WARNING', reason: 'unexpected_response', words: 'warning: elements discarded — stored, but the node dropped some attributes' },
  0xb007: {
    status: 'WARNING',
    reason: 'unexpected_response',
    words: 'warning: data set does not match SOP class — stored, but the node found the test image incomplete for Secondary Capture',
  },
  0x0110: { status: 'CRITICAL', reason: 'unexpected_response', words: 'processing failure — the node failed while storing; its log says why' },
  0x0111: { status: 'CRITICAL', reason: 'unexpected_response', words: 'duplicate SOP instance — the node already has an image with this UID' },
  0x0117: { status: 'CRITICAL', reason: 'unexpected_response', words: 'invalid SOP instance — the node refused the test image as malformed' },
  0x0122: { status: 'CRITICAL', reason: 'unexpected_response', words: 'SOP class not supported — the node does not store Secondary Capture images' },
  0x0124: {
    status: 'CRITICAL',
    reason: 'access_denied',
    words: 'refused: not authorized — the node does not let this calling AE title store; allow it on the node',
  },
  0x0210: { status: 'CRITICAL', reason: 'unexpected_response', words: 'duplicate invocation — the node saw this message ID twice' },
  0x0211: { status: 'CRITICAL', reason: 'unexpected_response', words: 'unrecognized operation — the node does not take C-STORE here' },
  0x0212: { status: 'CRITICAL', reason: 'unexpected_response', words: 'mistyped argument — the node could not read the request' },
  0x0213: { status: 'CRITICAL', reason: 'unexpected_response', words: 'resource limitation — the node is short of resources; try later or look at its load' },
};

function range(status: number): { status: CheckStatus; reason: Reason; words: string } | undefined {
  const high = status & 0xff00;
  if (high === 0xa700) {
    return {
      status: 'CRITICAL',
      reason: 'unexpected_response',
      words: 'refused: out of resources — the node could not keep the image: often full storage, sometimes a licence limit',
    };
  }
  if (high === 0xa900) {
    return { status: 'CRITICAL', reason: 'unexpected_response', words: 'error: data set does not match SOP class — the node refused the test image' };
  }
  if ((status & 0xf000) === 0xc000) {
    return { status: 'CRITICAL', reason: 'unexpected_response', words: 'error: cannot understand — the node could not process the test image' };
  }
  if ((status & 0xf000) === 0xb000)
    return { status: 'WARNING', reason: 'unexpected_response', words: 'warning — stored, with a warning code the standard does not name' };
  return undefined;
}

/**
 * What a C-STORE status means for the check: success is OK, a warning (0001, Bxxx) is WARNING
 * (the image was stored), every failure is CRITICAL — refused as not authorized as access_denied,
 * the rest as unexpected_response. The node's error comment, when it sends one, follows the words.
 */
export function storeVerdict(status: number, errorComment?: string): StoreVerdict {
  if (status === 0x0000) return { status: 'OK', reason: 'ok', text: `${hex(status)} (success)` };
  const known = EXACT[status] ?? range(status) ?? { status: 'CRITICAL' as const, reason: 'unexpected_response' as const, words: 'failure' };
  const comment = errorComment ? `; the node says: ${errorComment}` : '';
  return { status: known.status, reason: known.reason, text: `${hex(status)} (${known.words})${comment}` };
}
