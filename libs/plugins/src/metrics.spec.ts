import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pluginFamily } from './metrics.js';

describe('pluginFamily', () => {
  const cases: [string, string, string, ReturnType<typeof pluginFamily>][] = [
    ['dicom-echo', 'echo_seconds', 'seconds', { name: 'rounds_dicom_echo_echo_seconds', type: 'gauge', unit: 'seconds', scale: 1 }],
    ['smb-share', 'free_bytes', 'bytes', { name: 'rounds_smb_share_free_bytes', type: 'gauge', unit: 'bytes', scale: 1 }],
    ['orthanc', 'api_latency', 'seconds', { name: 'rounds_orthanc_api_latency_seconds', type: 'gauge', unit: 'seconds', scale: 1 }],
    ['http', 'tls_cert_expiry_days', 'days', { name: 'rounds_http_tls_cert_expiry_seconds', type: 'gauge', unit: 'seconds', scale: 86_400 }],
    ['nagios', 'perfdata_percent', 'percent', { name: 'rounds_nagios_perfdata_ratio', type: 'gauge', unit: 'ratio', scale: 0.01 }],
    ['nagios', 'perfdata_total', 'counter', { name: 'rounds_nagios_perfdata_total', type: 'counter', scale: 1 }],
    ['host-metrics', 'context_switches', 'counter', { name: 'rounds_host_metrics_context_switches_total', type: 'counter', scale: 1 }],
    [
      'host-metrics',
      'network_receive_bytes_per_second',
      'bytes_per_second',
      { name: 'rounds_host_metrics_network_receive_bytes_per_second', type: 'gauge', scale: 1 },
    ],
    ['orthanc', 'studies', 'count', { name: 'rounds_orthanc_studies', type: 'gauge', scale: 1 }],
    ['site', 'jobs_total', 'count', undefined],
    ['check', 'up', '', undefined],
    ['agent', 'up', '', undefined],
    ['Site', 'x', '', undefined],
    ['site', 'x-y', '', undefined],
    ['site', 'x', 'minutes', undefined],
  ];
  for (const [plugin, metric, unit, expected] of cases) {
    it(`maps ${plugin}/${metric} (${unit || 'no unit'}) to ${expected ? expected.name : 'nothing'}`, () => {
      assert.deepEqual(pluginFamily(plugin, metric, unit), expected);
    });
  }
});
