// @ts-check
import { definePlugin, formatFieldErrors, outcome, validateWith, worstStatus } from '@rounds/plugin-sdk';
import { configSchema, storageResponse } from './schema.js';

/** The vendor's endpoint for the modality's storage volumes (JSON, HTTP basic auth). */
const STORAGE_PATH = '/service/api/v2/storage';

/**
 * modality-disk: free disk of a modality (CT, MR, US, …) through its vendor's service REST API.
 * A modality whose image disk fills up stops acquiring, or silently deletes unsent studies; this
 * check warns well before, per volume.
 */
export default definePlugin({
  name: 'modality-disk',
  version: '1.0.0',
  apiVersion: 1,
  description: "Free disk space of a modality's volumes, read from its vendor's service REST API.",
  configSchema,
  metrics: [
    { name: 'free_bytes', unit: 'bytes', help: 'Free space on the volume.', labels: ['volume'] },
    { name: 'used_ratio', unit: 'ratio', help: 'Share of the volume in use, 0 to 1.', labels: ['volume'] },
  ],
  async run(config, ctx) {
    const url = `${config.tls ? 'https' : 'http'}://${config.host}:${config.port}${STORAGE_PATH}`;
    const authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
    /** @type {unknown} */
    let body;
    try {
      const response = await fetch(url, { signal: ctx.signal, headers: { authorization, accept: 'application/json' } });
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return outcome('CRITICAL', 'auth', `${url} refused user ${config.username} (HTTP ${response.status}): check the service account`);
      }
      if (!response.ok) {
        await response.body?.cancel();
        return outcome('CRITICAL', 'unexpected_response', `${url} answered HTTP ${response.status}`);
      }
      body = await response.json();
    } catch (e) {
      if (ctx.signal.aborted) return outcome('CRITICAL', 'timeout', `${url} did not answer before the deadline`);
      if (e instanceof SyntaxError) return outcome('CRITICAL', 'protocol_error', `${url} answered with something that is not JSON`);
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
      if (cause instanceof Error && 'code' in cause && cause.code === 'ECONNREFUSED') return outcome('CRITICAL', 'refused', `${url}: connection refused`);
      return outcome('CRITICAL', 'unreachable', `${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
    }

    const parsed = validateWith(storageResponse, body);
    if (!parsed.ok) return outcome('CRITICAL', 'protocol_error', `${url} answered JSON this plugin does not know: ${formatFieldErrors(parsed.errors)}`);
    const volumes = config.volume ? parsed.value.volumes.filter((v) => v.name === config.volume) : parsed.value.volumes;
    if (volumes.length === 0) {
      const names = parsed.value.volumes.map((v) => v.name).join(', ');
      return outcome('UNKNOWN', 'config_error', `the modality has no volume "${config.volume}"; it has: ${names}`);
    }

    /** @type {import('@rounds/plugin-sdk').Metric[]} */
    const metrics = [];
    /** @type {import('@rounds/plugin-sdk').CheckStatus[]} */
    const statuses = [];
    const parts = [];
    for (const v of volumes) {
      const used = (v.totalBytes - v.freeBytes) / v.totalBytes;
      const usedPercent = used * 100;
      const status = usedPercent > config.criticalUsedPercent ? 'CRITICAL' : usedPercent > config.warningUsedPercent ? 'WARNING' : 'OK';
      statuses.push(status);
      metrics.push({ name: 'free_bytes', value: v.freeBytes, unit: 'bytes', labels: { volume: v.name } });
      metrics.push({ name: 'used_ratio', value: used, unit: 'ratio', labels: { volume: v.name } });
      parts.push(`${v.name} ${usedPercent.toFixed(1)}% used (${gib(v.freeBytes)} free)`);
    }
    const status = worstStatus(...statuses);
    const full = volumes.some((v) => v.freeBytes === 0);
    const reason = full ? 'disk_full' : status === 'OK' ? 'ok' : 'threshold';
    return outcome(status, reason, parts.join('; '), metrics);
  },
});

/** @param {number} bytes */
function gib(bytes) {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
