import { mapSecrets } from '#rounds/common';
import type { SecretBox } from '../storage/secret-box.js';
import type { ChannelType } from '../storage/entities/index.js';
import { CHANNEL_JSON_SCHEMAS } from './channel-config.js';

/**
 * A channel's secrets at rest: every value its type's schema marks `x-secret` (SMTP and
 * Alertmanager passwords, the bot token, a webhook's URL, HMAC secret and header values) is
 * sealed inside `config_json`, the rest stays readable JSON. Walks the schema the way
 * `redactSecrets` does, so what is redacted in views is exactly what is encrypted at rest.
 */

/** The config as stored: JSON with every secret sealed. */
export function sealChannelConfig(type: ChannelType, config: unknown, box: SecretBox): string {
  return JSON.stringify(mapSecrets(CHANNEL_JSON_SCHEMAS[type], config, (s) => box.seal(s), 'config'));
}

/** The stored config with its secrets opened (plaintext JSON). Unparseable JSON is returned as it is: the services report it. */
export function openChannelConfig(channel: { type: ChannelType; name: string; configJson: string }, box: SecretBox): string {
  const parsed = parseJson(channel.configJson);
  if (parsed === undefined) return channel.configJson;
  return JSON.stringify(mapSecrets(CHANNEL_JSON_SCHEMAS[channel.type], parsed, (s, field) => box.open(s, `${field} of channel "${channel.name}"`), 'config'));
}

/**
 * The stored config with every secret sealed with the box's current key — plaintext from
 * before encryption and values of an older key alike — or null when there is nothing to do.
 */
export function resealChannelConfig(channel: { type: ChannelType; name: string; configJson: string }, box: SecretBox): string | null {
  const parsed = parseJson(channel.configJson);
  if (parsed === undefined) return null;
  let changed = false;
  const out = mapSecrets(
    CHANNEL_JSON_SCHEMAS[channel.type],
    parsed,
    (s, field) => {
      if (box.isCurrent(s)) return s;
      changed = true;
      return box.seal(box.open(s, `${field} of channel "${channel.name}"`));
    },
    'config',
  );
  return changed ? JSON.stringify(out) : null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
