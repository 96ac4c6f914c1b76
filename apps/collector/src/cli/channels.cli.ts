import { UsageError } from '#rounds/common';
import type { ChannelView } from '../notifications/channels.service.js';
import { ago, cell, seg, type CommandArgs, type Operator } from './operator.js';

const CHANNEL_USAGE = `usage: rounds-collector channel list
       rounds-collector channel test <channel>        sends a test message through it now`;

/**
 * `channel list|test`: notification channels as operators see them (secrets redacted by the
 * API). Adding and changing channels is for admins, in the UI or the API: a channel holds
 * passwords and decides where every alert goes.
 */
export async function channelCommand(op: Operator, { positionals }: CommandArgs): Promise<number> {
  const [sub, ref] = positionals;
  if (sub === 'list') {
    const channels = await op.call<ChannelView[]>('GET', '/channels');
    const now = op.now();
    op.show(
      channels,
      ['NAME', 'TYPE', 'STATE', 'LAST SUCCESS', 'WAITING', 'LAST ERROR'],
      channels.map((c) => [
        cell(c.name, 60),
        c.type,
        c.enabled ? c.state : 'disabled',
        ago(c.lastSuccessAt, now),
        String(c.outbox.pending ?? 0),
        cell(c.lastError),
      ]),
      'no notification channels: an admin adds them under Channels in the UI, or with POST /api/v1/channels',
    );
    return 0;
  }
  if (sub !== 'test') throw new UsageError(CHANNEL_USAGE);
  if (!ref) throw new UsageError(`channel test needs the channel's name or id\n${CHANNEL_USAGE}`);
  const result = await op.call<{ ok: boolean; error?: string; durationMs: number }>('POST', `/channels/${seg(ref)}/test`);
  op.done(result, result.ok ? `sent a test message through ${ref} (${result.durationMs} ms): check that it arrived` : undefined);
  // The command asked for a message to go out: a refusal is its failure (exit 1), said with the channel's words.
  if (!result.ok) throw new Error(`${ref} refused the test message: ${cell(result.error, 1000)}`);
  return 0;
}
